/**
 * The cost model's inputs that are measured outside the timed calls, and the cost rows built from
 * them (bench/README.md, "The cost model"): DynamoDB capacity units per request, the bytes each call
 * writes to its log stream in the deployed configuration, what delivering its audit record to the
 * audit store takes, and the HTTP bytes of a call for the load balancer what-if.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { CloudWatchLogsEvent, Context } from 'aws-lambda';
import { lambdaContext } from '../dev/lambda-event.ts';
import { localFunctionEnvironment } from '../dev/local-environment.ts';
import type { LocalStackInfo } from '../dev/stack.ts';
import { type OperationName, routeFor, routeKey, routes } from '../lib/http/routes.ts';
import { resetConfig } from '../lib/runtime/config.ts';
import { resetServices } from '../lib/runtime/services.ts';
import { OPERATIONS_LOGGING } from '../infra/serverless-config.ts';
import { type AlbTraffic, albDollarsPerMillion } from './alb.ts';
import { CAPACITY_CALLS, type CapacityPerRequest, capacityPerRequest, profileOf } from './capacity.ts';
import type { HttpExchange } from './http-bytes.ts';
import { accessLogLine, deploymentLogSettings, ingestedBytes, platformLines } from './log-lines.ts';
import { type CaseResult, log } from './measure.ts';
import { captureOutput, isAuditLine } from './output-capture.ts';
import { type CostPerMillion, costPerMillion, lambdaCostPerMillionPerMs, type OperationProfile, PRICES } from './pricing.ts';
import type { Setup } from './setup.ts';

const SERVERLESS_YML = fileURLToPath(new URL('../serverless.yml', import.meta.url));
/** The delivery function, when the code has one (audit through the log stream): imported by path, as the gateway imports handlers. */
const DELIVERY_HANDLER = new URL('../functions/audit/deliver-audit-records.ts', import.meta.url).href;
/**
 * Records per delivery invocation: CloudWatch Logs hands a subscription batches of this order at a
 * steady rate. They are one vault's, so the delivery packs them into one item (lib/audit/packs.ts):
 * a batch spread over several vaults is a pack per vault and costs more WRU per record.
 */
const DELIVERY_BATCH = 100;
/** A BatchWriteItem's time in DynamoDB, for the delivery's billed duration (measureDelivery says why it is not measured here). */
const AWS_WRITE_REQUEST_MS = 15;
/** The load balancer what-if's request rate. */
const ALB_REQUESTS_PER_SECOND = 1000;

export interface CostOperation {
  operation: string;
  /** The route table's operation, for its route key and its position among the listener rules. */
  route: OperationName;
  caseId: string;
  /** The in-process call, made again for the capacity units and the log lines. */
  call: () => Promise<{ body?: string; statusCode?: number }>;
  kmsKeySpec?: string;
}

type DeliveryHandler = (event: CloudWatchLogsEvent, context: Context) => Promise<unknown>;

export async function costModel(
  info: LocalStackInfo,
  setup: Setup,
  results: CaseResult[],
  operations: CostOperation[],
  gatewayExchange: HttpExchange,
) {
  const memoryMb = await functionMemoryMb();
  const logSettings = deploymentLogSettings(await readFile(SERVERLESS_YML, 'utf8'), OPERATIONS_LOGGING);

  // The deployed configuration for what the functions log: the log level and the audit transport
  // (standard output) a Lambda function has, not the benchmark's silenced, file-backed ones.
  const benchEnvironment = { ...process.env };
  const deployed = localFunctionEnvironment(info);
  Object.assign(process.env, deployed);
  if (!('POWERTOOLS_LOG_LEVEL' in deployed)) delete process.env.POWERTOOLS_LOG_LEVEL;
  resetConfig();
  resetServices();
  try {
    log(`recording consumed capacity and log lines (${CAPACITY_CALLS} calls each)...`);
    const measured: { op: CostOperation; capacity: CapacityPerRequest; lines: string[]; responseBodyBytes: number; status: number }[] = [];
    for (const op of operations) {
      // The first call after the rebuild opens the vault's data key and fills the caches: not counted.
      const { result: first } = await captureOutput(op.call);
      const { result: capacity, lines } = await captureOutput(() => capacityPerRequest(setup.dynamoCounter, CAPACITY_CALLS, op.call));
      measured.push({ op, capacity, lines, responseBodyBytes: Buffer.byteLength(first.body ?? ''), status: first.statusCode ?? 200 });
    }
    const getSecret = operations.find((op) => op.route === 'GetSecret');
    if (!getSecret) throw new Error('the cost model needs the GetSecret operation');
    const delivery = await measureDelivery(setup, getSecret, memoryMb);

    const rows: { operation: string; caseId: string; profile: OperationProfile; perMillion: CostPerMillion }[] = [];
    const profiles = new Map<string, OperationProfile>();
    for (const { op, capacity, lines, responseBodyBytes, status } of measured) {
      const result = results.find((r) => r.id === op.caseId);
      if (!result) throw new Error(`no measured case ${op.caseId} for the cost of ${op.operation}`);
      const base = profileOf(result, capacity, memoryMb, op.kmsKeySpec);
      const route = routeFor(op.route);
      const auditLines = lines.filter(isAuditLine);
      if (auditLines.length && !delivery) throw new Error(`${op.operation} writes audit lines, but none reached the delivery batch`);
      const profile: OperationProfile = {
        ...base,
        logBytes: {
          audit: ingestedBytes(auditLines) / CAPACITY_CALLS,
          function:
            ingestedBytes(lines.filter((line) => !isAuditLine(line))) / CAPACITY_CALLS + (auditLines.length ? (delivery?.logBytesPerRecord ?? 0) : 0),
          platform: ingestedBytes(platformLines(logSettings, base)),
          accessLog: logSettings.accessLogFormat
            ? ingestedBytes([
                accessLogLine(logSettings.accessLogFormat, {
                  method: route.method,
                  routeKey: routeKey(route),
                  path: samplePath(route.path),
                  status,
                  responseBodyBytes,
                }),
              ])
            : 0,
        },
        ...(auditLines.length && delivery ? { auditDelivery: delivery.perCall(auditLines.length / CAPACITY_CALLS) } : {}),
      };
      profiles.set(op.operation, profile);
      rows.push({ operation: op.operation, caseId: op.caseId, profile, perMillion: costPerMillion(profile) });
    }

    const traffic: AlbTraffic = {
      requestsPerSecond: ALB_REQUESTS_PER_SECOND,
      requestsPerConnection: 100,
      connectionSeconds: 60,
      bytesPerRequest: gatewayExchange.requestBytes + gatewayExchange.responseBytes,
      rulesEvaluatedPerRequest: routes.findIndex((r) => r.operation === getSecret.route) + 1,
    };
    const alb = albDollarsPerMillion(traffic);
    const albRow = {
      operation: `${getSecret.operation}, ALB front door at ${ALB_REQUESTS_PER_SECOND}/s`,
      caseId: getSecret.caseId,
      profile: profiles.get(getSecret.operation)!,
      perMillion: costPerMillion(profiles.get(getSecret.operation)!, { kind: 'alb', perMillion: alb.perMillion }),
    };

    return {
      prices: PRICES,
      memoryMb,
      logSettings,
      lambdaDollarsPerMillionPerMs: lambdaCostPerMillionPerMs(memoryMb),
      capacityUnits: Object.fromEntries(measured.map(({ op, capacity }) => [op.operation, capacity])),
      auditDelivery: delivery ? { batch: DELIVERY_BATCH, ...delivery.measured } : undefined,
      operations: rows,
      whatIf: { alb: { traffic, rules: routes.length, ...alb, row: albRow } },
      gatewayExchange,
    };
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in benchEnvironment)) delete process.env[name];
    Object.assign(process.env, benchEnvironment);
    resetConfig();
    resetServices();
  }
}

export type CostReport = Awaited<ReturnType<typeof costModel>>;

/**
 * The delivery of a batch of real audit lines (from GetSecret calls in the deployed configuration)
 * by the production delivery function, in the event shape a CloudWatch Logs subscription invokes it
 * with: its DynamoDB requests and capacity, its duration and its own log lines, per record. It runs
 * twice on the same batch (the same batch is cut into the same packs under the same keys, so the
 * second run rewrites what the first wrote, at the same cost) and the second, warm run is measured.
 *
 * Its billed duration is its own compute, measured (parsing, packing and compressing the records),
 * plus its DynamoDB requests at AWS_WRITE_REQUEST_MS each: one BatchWriteItem per 25 packs, so one
 * for a batch of one vault's records. DynamoDB Local's time is not used: it took hundreds of
 * milliseconds for a 25-item BatchWriteItem on a 2-core machine (its SQLite file), which DynamoDB
 * does not, and a delivery billed at that would overstate its cost. Both figures are in the results.
 */
async function measureDelivery(setup: Setup, op: CostOperation, memoryMb: number) {
  const { lines } = await captureOutput(async () => {
    for (let i = 0; i < DELIVERY_BATCH; i++) await op.call();
  });
  const auditLines = lines.filter(isAuditLine);
  if (auditLines.length === 0) return undefined;
  let handler: DeliveryHandler;
  try {
    ({ handler } = (await import(DELIVERY_HANDLER)) as { handler: DeliveryHandler });
  } catch (error) {
    throw new Error(`the functions write audit lines but the delivery function did not load: ${(error as Error).message}`);
  }
  log(`delivering a batch of ${auditLines.length} audit records (twice: warm-up, then measured)...`);
  const event = subscriptionEvent(auditLines);
  await captureOutput(() => handler(event, lambdaContext('DeliverAuditRecords')));
  const started = performance.now();
  const { result: recorded, lines: deliveryLines } = await captureOutput(() =>
    setup.dynamoCounter.record(() => handler(event, lambdaContext('DeliverAuditRecords'))),
  );
  const localMs = performance.now() - started;
  const dynamoMs = recorded.requests.reduce((sum, r) => sum + (r.durationMs ?? 0), 0);
  const computeMs = Math.max(0, localMs - dynamoMs);
  const billedMs = Math.ceil(computeMs + recorded.requests.length * AWS_WRITE_REQUEST_MS);
  const units = recorded.requests.reduce((sum, r) => sum + r.consumedCapacity.reduce((s, c) => s + (c.CapacityUnits ?? 0), 0), 0);
  const records = auditLines.length;
  const measured = {
    records,
    requests: recorded.requests.map((r) => r.operation),
    writeUnitsPerRecord: units / records,
    localMsPerInvocation: localMs,
    localDynamoMsPerInvocation: dynamoMs,
    computeMsPerInvocation: computeMs,
    awsWriteRequestMs: AWS_WRITE_REQUEST_MS,
    billedMsPerInvocation: billedMs,
    logBytesPerInvocation: ingestedBytes(deliveryLines),
  };
  return {
    measured,
    logBytesPerRecord: measured.logBytesPerInvocation / records,
    /** The delivery's share for a call that writes `recordsPerCall` audit records. */
    perCall: (recordsPerCall: number): NonNullable<OperationProfile['auditDelivery']> => ({
      writeUnits: measured.writeUnitsPerRecord * recordsPerCall,
      invocations: recordsPerCall / records,
      billedMs: (billedMs / records) * recordsPerCall,
      memoryMb,
    }),
  };
}

function subscriptionEvent(lines: string[]): CloudWatchLogsEvent {
  const data = {
    messageType: 'DATA_MESSAGE',
    owner: '000000000000',
    logGroup: '/aws/lambda/coffer-bench-GetSecret',
    logStream: 'bench',
    subscriptionFilters: ['coffer-audit'],
    logEvents: lines.map((message, index) => ({ id: String(index), timestamp: Date.now(), message })),
  };
  return { awslogs: { data: gzipSync(JSON.stringify(data)).toString('base64') } };
}

/** The functions' memory, from serverless.yml's `params.default.memorySize`. */
async function functionMemoryMb(): Promise<number> {
  const yaml = await readFile(SERVERLESS_YML, 'utf8');
  const match = /^\s+memorySize:\s*(\d+)\s*$/m.exec(yaml);
  if (!match) throw new Error('serverless.yml has no numeric memorySize parameter');
  return Number(match[1]);
}

/** A path of the route's template as a client sends it: a version is 32 hex digits, a name as long as the benchmark's. */
function samplePath(template: string): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => (/version/i.test(name) ? '0'.repeat(32) : 'bench-secret'));
}
