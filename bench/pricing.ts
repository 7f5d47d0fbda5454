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
} as const;

/** KMS operations billed at the asymmetric rate when the key is asymmetric (and not RSA_2048). */
const ASYMMETRIC_OPERATIONS = new Set(['Sign', 'Verify', 'GetPublicKey', 'Decrypt', 'Encrypt']);

/** What one call of an operation consumes, as measured. */
export interface OperationProfile {
  /** DynamoDB read request units per call. */
  readUnits: number;
  /** DynamoDB write request units per call. */
  writeUnits: number;
  /** KMS requests per call, by KMS operation name. */
  kmsRequests: Record<string, number>;
  /** The KMS key spec the asymmetric operations of this call use, e.g. ECC_NIST_P256; none for symmetric only. */
  kmsKeySpec?: string;
  /** Lambda billed duration per call (milliseconds, already rounded up to whole milliseconds). */
  billedMs: number;
  /** The function's configured memory. */
  memoryMb: number;
}

export interface CostPerMillion {
  dynamodbReads: number;
  dynamodbWrites: number;
  kms: number;
  lambdaRequests: number;
  lambdaDuration: number;
  apiGateway: number;
  total: number;
}

function kmsPricePerRequest(operation: string, keySpec: string | undefined): number {
  const asymmetricKey = keySpec !== undefined && keySpec !== 'SYMMETRIC_DEFAULT' && keySpec !== 'RSA_2048';
  return asymmetricKey && ASYMMETRIC_OPERATIONS.has(operation) ? PRICES.kms.perAsymmetricRequest : PRICES.kms.perSymmetricRequest;
}

/** Dollars per million calls of one operation through API Gateway and Lambda. */
export function costPerMillion(profile: OperationProfile): CostPerMillion {
  const million = 1e6;
  const dynamodbReads = profile.readUnits * PRICES.dynamodb.perReadRequestUnit * million;
  const dynamodbWrites = profile.writeUnits * PRICES.dynamodb.perWriteRequestUnit * million;
  let kms = 0;
  for (const [operation, perCall] of Object.entries(profile.kmsRequests)) {
    kms += perCall * kmsPricePerRequest(operation, profile.kmsKeySpec) * million;
  }
  const lambdaRequests = PRICES.lambda.perRequest * million;
  const lambdaDuration = (profile.memoryMb / 1024) * (profile.billedMs / 1000) * PRICES.lambda.perGbSecondArm * million;
  const apiGateway = PRICES.apiGateway.perHttpApiRequest * million;
  return {
    dynamodbReads,
    dynamodbWrites,
    kms,
    lambdaRequests,
    lambdaDuration,
    apiGateway,
    total: dynamodbReads + dynamodbWrites + kms + lambdaRequests + lambdaDuration + apiGateway,
  };
}

/** Dollars per million calls for each extra millisecond of billed Lambda duration at this memory size. */
export function lambdaCostPerMillionPerMs(memoryMb: number): number {
  return (memoryMb / 1024) * 0.001 * PRICES.lambda.perGbSecondArm * 1e6;
}
