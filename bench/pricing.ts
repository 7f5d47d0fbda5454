/**
 * AWS list prices the cost model multiplies the measured requests per call by, and the model itself.
 *
 * On-demand list prices in us-east-1 (N. Virginia), recorded 2026-11-28 from the pages named in each
 * `source`. They are constants, not fetched: check the pages before quoting a result, and change
 * them here (with the date) when AWS changes them. Free tiers, savings plans and volume tiers are left
 * out: this is the marginal list price of one more million calls.
 */
export const PRICES = {
  region: 'us-east-1',
  recorded: '2026-11-28',
  dynamodb: {
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/ (on-demand capacity, after the November 2024 price reduction)',
    /** $0.125 per million read request units (one strongly consistent read of up to 4 KB). */
    perReadRequestUnit: 0.125 / 1e6,
    /** $0.625 per million write request units (one write of up to 1 KB; transactional writes take two). */
    perWriteRequestUnit: 0.625 / 1e6,
  },
  kms: {
    source: 'https://aws.amazon.com/kms/pricing/ (request charges)',
    /** $0.03 per 10,000 requests: symmetric keys (Decrypt, GenerateDataKey, GenerateRandom...) and RSA_2048 keys. */
    perSymmetricRequest: 0.03 / 1e4,
    /** $0.15 per 10,000 requests on asymmetric keys other than RSA_2048 (ECC_*, RSA_3072, RSA_4096). */
    perAsymmetricRequest: 0.15 / 1e4,
    /** $1 per KMS key per month: each vault has one, and each HSM key version is one. Not per call. */
    perKeyMonth: 1,
  },
  lambda: {
    source: 'https://aws.amazon.com/lambda/pricing/ (Arm, first 7.5 billion GB-seconds per month)',
    perGbSecondArm: 0.0000133334,
    /** $0.20 per million invocations. */
    perRequest: 0.2 / 1e6,
  },
  apiGateway: {
    source: 'https://aws.amazon.com/api-gateway/pricing/ (HTTP APIs, first 300 million requests per month)',
    /** $1.00 per million HTTP API requests (up to 512 KB each). */
    perHttpApiRequest: 1 / 1e6,
  },
  cloudwatchLogs: {
    source:
      'https://aws.amazon.com/cloudwatch/pricing/ (Logs, Standard log class, "Collect (Data Ingestion)"; Lambda logs are tiered since May 2025 and their first 10 TB per month cost the same)',
    /** $0.50 per GB ingested; GB taken as 10^9 bytes, the higher of the two readings. */
    perIngestedGb: 0.5,
    /**
     * CloudWatch Logs sizes an event as its UTF-8 message plus 26 bytes (PutLogEvents API reference);
     * ingestion is counted here the same way, so many short lines cost what they really weigh.
     */
    eventOverheadBytes: 26,
  },
  applicationLoadBalancer: {
    source: 'https://aws.amazon.com/elasticloadbalancing/pricing/ (Application Load Balancer, on-demand)',
    /** $0.0225 per ALB-hour, or part of one. */
    perHour: 0.0225,
    /** $0.008 per LCU-hour; an hour's LCUs are its highest of the four dimensions below. */
    perLcuHour: 0.008,
    /** What one LCU buys in each dimension. */
    lcu: {
      newConnectionsPerSecond: 25,
      activeConnectionsPerMinute: 3000,
      /** Processed bytes per hour with Lambda functions as targets (1 GB for instances, containers and IPs). */
      lambdaTargetGbPerHour: 0.4,
      ruleEvaluationsPerSecond: 1000,
      /** The first 10 rules a request is evaluated against are free. */
      freeRulesPerRequest: 10,
    },
  },
} as const;

/**
 * What the services Coffer stands in for charge for the same call, per million, at list price:
 * Azure Key Vault Standard, secret operations at $0.03 per 10,000 transactions
 * (https://azure.microsoft.com/pricing/details/key-vault/), and AWS Secrets Manager at $0.05 per
 * 10,000 API calls (https://aws.amazon.com/secrets-manager/pricing/), both recorded with PRICES.
 */
export const COMPARISON_PER_MILLION = { azureKeyVault: 3.0, awsSecretsManager: 5.0 } as const;

/** Issue #9's target for GetSecret through HTTP API, per million calls. */
export const GET_SECRET_TARGET_PER_MILLION = 1.4;

/** KMS operations billed at the asymmetric rate when the key is asymmetric (and not RSA_2048). */
const ASYMMETRIC_OPERATIONS = new Set(['Sign', 'Verify', 'GetPublicKey', 'Decrypt', 'Encrypt']);

/** What one call of an operation consumes, as measured. */
export interface OperationProfile {
  /** DynamoDB read request units per call. */
  readUnits: number;
  /** DynamoDB write request units per call, made while the request runs. */
  writeUnits: number;
  /** KMS requests per call, by KMS operation name. */
  kmsRequests: Record<string, number>;
  /** The KMS key spec the asymmetric operations of this call use, e.g. ECC_NIST_P256; none for symmetric only. */
  kmsKeySpec?: string;
  /** Lambda billed duration per call (milliseconds, already rounded up to whole milliseconds). */
  billedMs: number;
  /** The function's configured memory. */
  memoryMb: number;
  /** CloudWatch Logs bytes per call as CloudWatch counts them (messages plus the per-event overhead). */
  logBytes: {
    /** The audit line the function writes (none when the record goes to the audit store directly). */
    audit: number;
    /** The function's other lines (Powertools) at the deployed log level. */
    function: number;
    /** Lambda's own lines per invocation (START/END/REPORT or their JSON records). */
    platform: number;
    /** HTTP API's access log line, when serverless.yml turns it on. */
    accessLog: number;
  };
  /** Carrying the call's audit record from the log stream into the audit store, per call; none when the request writes it itself. */
  auditDelivery?: {
    writeUnits: number;
    /** Delivery invocations per call: one per batch of records. */
    invocations: number;
    /** Billed delivery milliseconds per call (a batch's duration shared by its records). */
    billedMs: number;
    memoryMb: number;
  };
}

export interface CostPerMillion {
  apiGateway: number;
  lambdaRequests: number;
  lambdaDuration: number;
  dynamodbReads: number;
  dynamodbWrites: number;
  kms: number;
  logsAudit: number;
  /** The function's other lines, Lambda's own lines and the access log. */
  logsOther: number;
  /** The audit store's writes made by the delivery. */
  auditDeliveryWrites: number;
  /** The delivery function's invocations and duration. */
  auditDeliveryLambda: number;
  total: number;
}

/** What takes the HTTP request in front of the function: HTTP API (per request), or a load balancer at a given cost per million. */
export type FrontDoor = { kind: 'httpApi' } | { kind: 'alb'; perMillion: number };

function kmsPricePerRequest(operation: string, keySpec: string | undefined): number {
  const asymmetricKey = keySpec !== undefined && keySpec !== 'SYMMETRIC_DEFAULT' && keySpec !== 'RSA_2048';
  return asymmetricKey && ASYMMETRIC_OPERATIONS.has(operation) ? PRICES.kms.perAsymmetricRequest : PRICES.kms.perSymmetricRequest;
}

function lambdaDurationCost(memoryMb: number, billedMs: number): number {
  return (memoryMb / 1024) * (billedMs / 1000) * PRICES.lambda.perGbSecondArm;
}

function logsCost(bytes: number): number {
  return (bytes / 1e9) * PRICES.cloudwatchLogs.perIngestedGb;
}

/**
 * Dollars per million calls of one operation, behind HTTP API or a load balancer. Behind a load
 * balancer there is no HTTP API access log (an ALB writes its access logs to S3, and only when
 * turned on).
 */
export function costPerMillion(profile: OperationProfile, frontDoor: FrontDoor = { kind: 'httpApi' }): CostPerMillion {
  const million = 1e6;
  let kms = 0;
  for (const [operation, perCall] of Object.entries(profile.kmsRequests)) {
    kms += perCall * kmsPricePerRequest(operation, profile.kmsKeySpec) * million;
  }
  const accessLogBytes = frontDoor.kind === 'httpApi' ? profile.logBytes.accessLog : 0;
  const delivery = profile.auditDelivery;
  const parts = {
    apiGateway: frontDoor.kind === 'httpApi' ? PRICES.apiGateway.perHttpApiRequest * million : frontDoor.perMillion,
    lambdaRequests: PRICES.lambda.perRequest * million,
    lambdaDuration: lambdaDurationCost(profile.memoryMb, profile.billedMs) * million,
    dynamodbReads: profile.readUnits * PRICES.dynamodb.perReadRequestUnit * million,
    dynamodbWrites: profile.writeUnits * PRICES.dynamodb.perWriteRequestUnit * million,
    kms,
    logsAudit: logsCost(profile.logBytes.audit) * million,
    logsOther: logsCost(profile.logBytes.function + profile.logBytes.platform + accessLogBytes) * million,
    auditDeliveryWrites: (delivery?.writeUnits ?? 0) * PRICES.dynamodb.perWriteRequestUnit * million,
    auditDeliveryLambda: delivery
      ? (delivery.invocations * PRICES.lambda.perRequest + lambdaDurationCost(delivery.memoryMb, delivery.billedMs)) * million
      : 0,
  };
  return { ...parts, total: Object.values(parts).reduce((sum, value) => sum + value, 0) };
}

/** Dollars per million calls for each extra millisecond of billed Lambda duration at this memory size. */
export function lambdaCostPerMillionPerMs(memoryMb: number): number {
  return lambdaDurationCost(memoryMb, 1) * 1e6;
}
