/**
 * `npm run bench`: Coffer's speed and cost, as ratios against baselines measured in this process
 * (a raw DynamoDB GetItem, raw node:crypto signing), plus AWS requests per call and a cost model.
 * It starts its own local stack in a temporary directory; everything stays on loopback.
 * bench/README.md explains what is measured and why.
 */
import '../test/support/loopback-guard.ts';
import { constants, createHash, generateKeyPairSync, randomBytes, randomUUID, sign as cryptoSign } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type LambdaHandler, lambdaContext, lambdaEvent } from '../dev/lambda-event.ts';
import { functionEnvironment, type LocalStackInfo, startStack } from '../dev/stack.ts';
import { handler as createKeyHandler } from '../functions/keys/create-key.ts';
import { handler as signHandler } from '../functions/keys/sign.ts';
import { handler as getSecret } from '../functions/secrets/get-secret.ts';
import { handler as setSecret } from '../functions/secrets/set-secret.ts';
import { resetConfig } from '../lib/runtime/config.ts';
import { signDigest } from '../lib/keys/software.ts';
import { resetServices } from '../lib/runtime/services.ts';
import {
  type Counts,
  difference,
  DynamoRequestCounter,
  type DynamoRequestRecord,
  instrumentDocumentClients,
  KmsLogCounter,
  perCall,
  total,
} from './aws-requests.ts';
import { type CostPerMillion, costPerMillion, lambdaCostPerMillionPerMs, type OperationProfile, PRICES } from './pricing.ts';
import { ratio, type Summary, summarize } from './stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_FILE = join(root, 'bench', 'results', 'latest.json');
const API_VERSION = '7.6';
/** A group of cases runs this many interleaved rounds (see groupMeasurer). */
const ROUNDS = 10;
/**
 * Time caps on top of the iteration bounds, so a slow machine still finishes in about two minutes:
 * per case for its warm-up, and for all the measured rounds of a group together.
 */
const MAX_WARMUP_SECONDS_PER_CASE = 5;
const MAX_MEASURE_SECONDS_PER_GROUP = 60;
/** Calls per operation recorded with ReturnConsumedCapacity for the cost model. */
const CAPACITY_CALLS = 5;

interface Plan {
  warmup: number;
  /** Measured calls in all, spread evenly over the rounds. */
  iterations: number;
}

interface CaseResult {
  id: string;
  label: string;
  /** Which baseline the ratio is against (undefined for the baselines themselves). */
  baseline?: string;
  summary: Summary;
  /** Medians of the first and the second half of the rounds: how much the case drifted. */
  halves: { firstMedian: number; secondMedian: number };
  ratio?: number;
  /** DynamoDB requests per measured call, by operation; undefined where they are made in another process. */
  dynamodb?: Counts;
  /** KMS requests per measured call, by operation (from the local KMS log). */
  kms?: Counts;
  note?: string;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

const handlers = { getSecret, setSecret, createKey: createKeyHandler, sign: signHandler };

async function main(): Promise<void> {
  const startedAt = Date.now();
  const dataDir = await mkdtemp(join(tmpdir(), 'coffer-bench-'));
  log(`Coffer benchmark: starting a local stack in ${dataDir}`);
  const stack = await startStack({ dataDir, progress: log });
  let stopping: Promise<void> | undefined;
  const shutdown = () => (stopping ??= stack.stop().then(() => rm(dataDir, { recursive: true, force: true })));
  const onSignal = () => {
    log('interrupted: stopping the local stack...');
    void shutdown().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log(`local stack ready in ${seconds(startedAt)} s`);
    const report = await runBenchmarks(stack.info);
    await mkdir(dirname(RESULTS_FILE), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(render(report));
    process.stdout.write(`\nresults: ${relative(process.cwd(), RESULTS_FILE)} · whole run ${seconds(startedAt)} s\n`);
  } finally {
    log('stopping the local stack...');
    await shutdown();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function runBenchmarks(info: LocalStackInfo) {
  // This process talks to the stack's HTTPS endpoints (identity provider, gateway): trust its CA.
  const caPem = await readFile(info.caFile, 'utf8');
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), caPem]);

  const dynamoCounter = new DynamoRequestCounter();
  const uninstrument = instrumentDocumentClients(dynamoCounter);
  const kmsCounter = new KmsLogCounter(info.kmsLog);
  configureHandlers(info);

  log('setting up: token, secret, keys...');
  const credential = new ClientSecretCredential(info.tenantId, info.clientId, info.clientSecret, {
    authorityHost: info.authorityHost,
    disableInstanceDiscovery: true,
  });
  const token = (await credential.getToken(`${info.audience}/.default`)).token;
  const secretName = `bench-${randomUUID().slice(0, 8)}`;
  // A connection-string-sized value.
  await invoke(handlers.setSecret, lambdaRequest('PUT', `/secrets/${secretName}`, token, { value: randomBytes(48).toString('base64') }));
  const softwareRsa = await createKey(token, 'bench-rsa', { kty: 'RSA', key_size: 2048 });
  const softwareEc = await createKey(token, 'bench-ec', { kty: 'EC', crv: 'P-256' });
  const hsmEc = await createKey(token, 'bench-ec-hsm', { kty: 'EC-HSM', crv: 'P-256' });

  // The item the raw baseline reads: the secret version item GetSecret itself reads.
  const getSecretEvent = () => lambdaRequest('GET', `/secrets/${secretName}`, token);
  const probe = await dynamoCounter.record(() => invoke(handlers.getSecret, getSecretEvent()));
  const versionRead = probe.requests.filter((r) => r.operation === 'GetItem').at(-1);
  if (!versionRead?.key || !versionRead.table) throw new Error('could not see the GetItem requests of GetSecret');

  const rawDynamo = new DynamoDBClient({
    endpoint: info.endpoints.dynamodb,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  dynamoCounter.attach(rawDynamo);
  const rawGet = new GetItemCommand({ TableName: versionRead.table, Key: attributeValues(versionRead.key), ConsistentRead: versionRead.consistentRead ?? true });

  const secretClient = new SecretClient(info.vaultUrl, credential, {
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 0 },
  });

  const measureGroup = groupMeasurer(dynamoCounter, kmsCounter);

  const digest = createHash('sha256').update('coffer benchmark').digest();
  const signEvent = (key: CreatedKey, alg: string) => () =>
    lambdaRequest('POST', `/keys/${key.name}/${key.version}/sign`, token, { alg, value: digest.toString('base64url') });
  const rsaSign = signEvent(softwareRsa, 'PS256');
  const ecSign = signEvent(softwareEc, 'ES256');
  const hsmSign = signEvent(hsmEc, 'ES256');

  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsaPkcs8 = rsa.privateKey.export({ type: 'pkcs8', format: 'der' });
  const ecPkcs8 = ec.privateKey.export({ type: 'pkcs8', format: 'der' });
  const message = Buffer.from('coffer benchmark');
  // One group, interleaved: every row is measured under the same conditions as its baseline. Reads
  // and the HSM sign (a network call like a read) are compared with A, software signs with node:crypto
  // signing the same algorithm.
  const results = await measureGroup('all cases', [
    {
      id: 'baseline-a',
      label: 'A: raw DynamoDB GetItem (AWS SDK)',
      // DynamoDB Local is a JVM: a long warm-up gets its JIT past the first-call slowness.
      plan: { warmup: 1500, iterations: 2000 },
      action: async () => {
        const { Item } = await rawDynamo.send(rawGet);
        if (!Item) throw new Error('the baseline item is missing');
      },
    },
    {
      id: 'get-secret-handler',
      label: 'GetSecret, handler in-process',
      baseline: 'baseline-a',
      plan: { warmup: 200, iterations: 1000 },
      action: () => invoke(handlers.getSecret, getSecretEvent()),
    },
    {
      id: 'get-secret-sdk',
      label: 'GetSecret, SecretClient via HTTPS gateway',
      baseline: 'baseline-a',
      plan: { warmup: 100, iterations: 600 },
      action: async () => {
        const secret = await secretClient.getSecret(secretName);
        if (!secret.value) throw new Error('GetSecret through the gateway returned no value');
      },
      dynamodbInOtherProcess: true,
    },
    {
      id: 'sign-ec-hsm-handler',
      label: 'Sign ES256, EC-HSM P-256 (KMS), handler',
      baseline: 'baseline-a',
      plan: { warmup: 50, iterations: 500 },
      action: () => invoke(handlers.sign, hsmSign()),
    },
    {
      id: 'baseline-b-rsa',
      label: 'B: node:crypto RSA-2048 PS256 sign',
      plan: { warmup: 100, iterations: 500 },
      action: () => cryptoSign('sha256', message, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
    },
    {
      id: 'sign-rsa-pure',
      label: 'signDigest PS256 RSA-2048 (lib, no I/O)',
      baseline: 'baseline-b-rsa',
      plan: { warmup: 100, iterations: 500 },
      action: () => signDigest(rsaPkcs8, 'RSA', undefined, 'PS256', digest),
    },
    {
      id: 'sign-rsa-handler',
      label: 'Sign PS256, software RSA-2048, handler',
      baseline: 'baseline-b-rsa',
      plan: { warmup: 100, iterations: 800 },
      action: () => invoke(handlers.sign, rsaSign()),
    },
    {
      id: 'baseline-b-ec',
      label: 'B: node:crypto ECDSA P-256 sign',
      plan: { warmup: 500, iterations: 2000 },
      action: () => cryptoSign('sha256', message, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }),
    },
    {
      id: 'sign-ec-pure',
      label: 'signDigest ES256 P-256 (lib, no I/O)',
      baseline: 'baseline-b-ec',
      plan: { warmup: 200, iterations: 1000 },
      action: () => signDigest(ecPkcs8, 'EC', 'P-256', 'ES256', digest),
    },
    {
      id: 'sign-ec-handler',
      label: 'Sign ES256, software P-256, handler',
      baseline: 'baseline-b-ec',
      plan: { warmup: 100, iterations: 800 },
      action: () => invoke(handlers.sign, ecSign()),
    },
  ]);

  // --- capacity units: a few calls with DynamoDB reporting the capacity each request consumed ---
  log(`recording consumed capacity (${CAPACITY_CALLS} calls each)...`);
  const capacity = {
    getSecret: await capacityPerRequest(dynamoCounter, CAPACITY_CALLS, () => invoke(handlers.getSecret, getSecretEvent())),
    signRsa: await capacityPerRequest(dynamoCounter, CAPACITY_CALLS, () => invoke(handlers.sign, rsaSign())),
    signEc: await capacityPerRequest(dynamoCounter, CAPACITY_CALLS, () => invoke(handlers.sign, ecSign())),
    signHsm: await capacityPerRequest(dynamoCounter, CAPACITY_CALLS, () => invoke(handlers.sign, hsmSign())),
  };

  rawDynamo.destroy();
  uninstrument();
  resetServices();
  resetConfig();

  const memoryMb = await functionMemoryMb();
  const byId = (id: string) => results.find((r) => r.id === id)!;
  const costRows: { operation: string; caseId: string; profile: OperationProfile; perMillion: CostPerMillion }[] = [];
  for (const [operation, caseId, units, keySpec] of [
    ['GetSecret', 'get-secret-handler', capacity.getSecret, undefined],
    ['Sign, software RSA-2048 PS256', 'sign-rsa-handler', capacity.signRsa, undefined],
    ['Sign, software P-256 ES256', 'sign-ec-handler', capacity.signEc, undefined],
    ['Sign, EC-HSM P-256 ES256', 'sign-ec-hsm-handler', capacity.signHsm, 'ECC_NIST_P256'],
  ] as const) {
    const profile = profileOf(byId(caseId), units, memoryMb, keySpec);
    costRows.push({ operation, caseId, profile, perMillion: costPerMillion(profile) });
  }

  return {
    generatedAt: new Date().toISOString(),
    machine: { node: process.version, platform: `${process.platform} ${process.arch}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model },
    units: { latency: 'milliseconds', requests: 'per call, measured iterations only (warm-up excluded)' },
    rounds: ROUNDS,
    cases: results,
    capacityUnits: capacity,
    cost: { prices: PRICES, memoryMb, lambdaDollarsPerMillionPerMs: lambdaCostPerMillionPerMs(memoryMb), operations: costRows },
  };
}

type Report = Awaited<ReturnType<typeof runBenchmarks>>;

// ---------------------------------------------------------------------------------------------
// measuring

interface CaseSpec {
  id: string;
  label: string;
  /** The case whose median this one is divided by. */
  baseline?: string;
  plan: Plan;
  action: () => unknown;
  /** The calls' DynamoDB requests happen in another process (the gateway) and cannot be counted here. */
  dynamodbInOtherProcess?: boolean;
}

/**
 * Measures a group of cases interleaved: each case warms up, then the group runs ROUNDS rounds in
 * which every case makes its share of calls in turn. A machine that speeds up or slows down during
 * the group (JIT, another process, thermal) affects a case and its baseline alike, and the medians
 * of the first and second half of the rounds show how much it moved.
 */
function groupMeasurer(dynamo: DynamoRequestCounter, kms: KmsLogCounter) {
  return async function measureGroup(name: string, specs: CaseSpec[]): Promise<CaseResult[]> {
    log(`measuring ${name}: ${specs.length} cases, warm-up first, then ${ROUNDS} interleaved rounds`);
    for (const spec of specs) {
      log(`  warm-up: ${spec.plan.warmup} x ${spec.label}`);
      const until = performance.now() + MAX_WARMUP_SECONDS_PER_CASE * 1000;
      for (let i = 0; i < spec.plan.warmup && performance.now() < until; i++) await spec.action();
    }
    const groupStart = performance.now();
    const deadline = groupStart + MAX_MEASURE_SECONDS_PER_GROUP * 1000;
    const state = specs.map(() => ({ samples: [] as number[], firstHalf: [] as number[], dynamo: {} as Counts, kms: {} as Counts }));
    for (let round = 0; round < ROUNDS; round++) {
      if (performance.now() > deadline) {
        log(`  time cap reached after ${round} of ${ROUNDS} rounds`);
        break;
      }
      for (const [index, spec] of specs.entries()) {
        const own = state[index]!;
        const calls = Math.ceil(spec.plan.iterations / ROUNDS);
        const dynamoBefore = dynamo.snapshot();
        const kmsBefore = kms.snapshot();
        for (let i = 0; i < calls; i++) {
          const t0 = performance.now();
          const pending = spec.action();
          if (pending instanceof Promise) await pending;
          const elapsed = performance.now() - t0;
          own.samples.push(elapsed);
          if (round < ROUNDS / 2) own.firstHalf.push(elapsed);
        }
        own.dynamo = add(own.dynamo, difference(dynamo.snapshot(), dynamoBefore));
        own.kms = add(own.kms, difference(kms.snapshot(), kmsBefore));
      }
      log(`  round ${round + 1}/${ROUNDS} done (${((performance.now() - groupStart) / 1000).toFixed(1)} s)`);
    }
    const results = specs.map((spec, index): CaseResult => {
      const own = state[index]!;
      const calls = own.samples.length;
      const secondHalf = own.samples.slice(own.firstHalf.length);
      return {
        id: spec.id,
        label: spec.label,
        ...(spec.baseline ? { baseline: spec.baseline } : {}),
        summary: summarize(own.samples),
        halves: {
          firstMedian: summarize(own.firstHalf).median,
          secondMedian: secondHalf.length ? summarize(secondHalf).median : Number.NaN,
        },
        ...(spec.dynamodbInOtherProcess
          ? { note: 'its DynamoDB requests are made in the gateway process: see the in-process row' }
          : { dynamodb: perCall(own.dynamo, calls) }),
        kms: perCall(own.kms, calls),
      };
    });
    for (const result of results) {
      const baseline = results.find((r) => r.id === result.baseline);
      if (baseline) result.ratio = ratio(result.summary.median, baseline.summary.median);
      log(`  ${result.label}: ${result.summary.n} calls, median ${ms(result.summary.median)} ms, p95 ${ms(result.summary.p95)} ms`);
    }
    return results;
  };
}

function add(a: Counts, b: Counts): Counts {
  const sum: Counts = { ...a };
  for (const [key, value] of Object.entries(b)) sum[key] = (sum[key] ?? 0) + value;
  return sum;
}

interface CapacityPerRequest {
  /** Capacity units per request of each DynamoDB operation, averaged over the recorded calls. */
  unitsPerRequest: Record<string, number>;
  /** Whether DynamoDB (Local) reported ConsumedCapacity; if not, units are estimated from the request kind. */
  reported: boolean;
  /** The requests of the first recorded call, in order. */
  firstCall: { operation: string; table?: string; consistentRead?: boolean; capacityUnits?: number }[];
}

const READ_OPERATIONS = /^(GetItem|BatchGetItem|Query|Scan|TransactGetItems)$/;

/**
 * A few calls with DynamoDB reporting the capacity each request consumed (kept out of the timed
 * loops: it changes the requests slightly). The cost model multiplies these units per request by the
 * requests per call counted over the many timed calls, so rare requests (the vault record, re-read
 * when its 10-second cache expires) weigh what they weigh in steady state, not 1 in 5.
 */
async function capacityPerRequest(counter: DynamoRequestCounter, calls: number, action: () => Promise<unknown>): Promise<CapacityPerRequest> {
  const all: DynamoRequestRecord[] = [];
  let firstCallLength = 0;
  for (let i = 0; i < calls; i++) {
    const { requests } = await counter.record(action);
    if (i === 0) firstCallLength = requests.length;
    all.push(...requests);
  }
  const sums = new Map<string, { units: number; requests: number }>();
  let reported = true;
  for (const request of all) {
    let units = request.consumedCapacity.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
    if (request.consumedCapacity.length === 0) {
      reported = false;
      units = estimatedUnits(request.operation, request.consistentRead);
    }
    const sum = sums.get(request.operation) ?? { units: 0, requests: 0 };
    sums.set(request.operation, { units: sum.units + units, requests: sum.requests + 1 });
  }
  return {
    unitsPerRequest: Object.fromEntries([...sums].map(([operation, sum]) => [operation, sum.units / sum.requests])),
    reported,
    firstCall: all.slice(0, firstCallLength).map((r) => ({
      operation: r.operation,
      ...(r.table ? { table: r.table } : {}),
      ...(r.consistentRead !== undefined ? { consistentRead: r.consistentRead } : {}),
      ...(r.consumedCapacity.length ? { capacityUnits: r.consumedCapacity.reduce((s, c) => s + (c.CapacityUnits ?? 0), 0) } : {}),
    })),
  };
}

/** Without a report: the smallest item's price (a 4 KB strongly consistent read, a 1 KB write; transactions double). */
function estimatedUnits(operation: string, consistentRead: boolean | undefined): number {
  if (operation.startsWith('Transact')) return 2;
  return READ_OPERATIONS.test(operation) && consistentRead === false ? 0.5 : 1;
}

function profileOf(result: CaseResult, capacity: CapacityPerRequest, memoryMb: number, kmsKeySpec: string | undefined): OperationProfile {
  let readUnits = 0;
  let writeUnits = 0;
  for (const [operation, requests] of Object.entries(result.dynamodb ?? {})) {
    const units = requests * (capacity.unitsPerRequest[operation] ?? estimatedUnits(operation, true));
    if (READ_OPERATIONS.test(operation)) readUnits += units;
    else writeUnits += units;
  }
  return {
    readUnits,
    writeUnits,
    kmsRequests: result.kms ?? {},
    ...(kmsKeySpec ? { kmsKeySpec } : {}),
    // Lambda bills whole milliseconds, rounded up; the in-process median stands for the function's duration.
    billedMs: Math.ceil(result.summary.median),
    memoryMb,
  };
}

// ---------------------------------------------------------------------------------------------
// the handlers in this process

/** The environment a deployed function gets, pointed at the local stack. */
function configureHandlers(info: LocalStackInfo): void {
  Object.assign(process.env, functionEnvironment(info));
  resetConfig();
  resetServices();
}

/** The event API Gateway would hand a function for a request to the default vault at `localhost`. */
function lambdaRequest(method: string, path: string, token: string, body?: unknown): APIGatewayProxyEventV2 {
  return lambdaEvent({
    method,
    url: `${path}?api-version=${API_VERSION}`,
    headers: {
      authorization: `Bearer ${token}`,
      'user-agent': 'coffer-bench',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Calls a handler; anything but a 2xx stops the run (a benchmark of error responses measures nothing). */
async function invoke(handler: LambdaHandler, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const result = await handler(event, lambdaContext('bench'));
  const status = result.statusCode ?? 200;
  if (status < 200 || status >= 300) {
    throw new Error(`${event.routeKey} answered ${status}: ${result.body ?? ''}`);
  }
  return result;
}

interface CreatedKey {
  name: string;
  version: string;
}

async function createKey(token: string, prefix: string, body: Record<string, unknown>): Promise<CreatedKey> {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  const result = await invoke(handlers.createKey, lambdaRequest('POST', `/keys/${name}/create`, token, body));
  const kid = (JSON.parse(result.body ?? '{}') as { key?: { kid?: string } }).key?.kid;
  const version = kid?.split('/').at(-1);
  if (!version) throw new Error(`CreateKey ${name} returned no key id`);
  return { name, version };
}

/** A key of string and number attributes in DynamoDB's wire form, for the raw client. */
function attributeValues(key: Record<string, unknown>): Record<string, { S: string } | { N: string }> {
  return Object.fromEntries(
    Object.entries(key).map(([name, value]) => {
      if (typeof value === 'string') return [name, { S: value }];
      if (typeof value === 'number') return [name, { N: String(value) }];
      throw new Error(`unexpected key attribute ${name}`);
    }),
  );
}

/** The functions' memory, from serverless.yml's `params.default.memorySize`. */
async function functionMemoryMb(): Promise<number> {
  const yaml = await readFile(join(root, 'serverless.yml'), 'utf8');
  const match = /^\s+memorySize:\s*(\d+)\s*$/m.exec(yaml);
  if (!match) throw new Error('serverless.yml has no numeric memorySize parameter');
  return Number(match[1]);
}

// ---------------------------------------------------------------------------------------------
// output

function render(report: Report): string {
  const lines: string[] = [];
  const header = ['operation', 'n', 'median ms', 'p95 ms', 'ratio', 'vs', 'DynamoDB req/call', 'KMS req/call'];
  const baselineNames: Record<string, string> = { 'baseline-a': 'A', 'baseline-b-rsa': 'B rsa', 'baseline-b-ec': 'B ec' };
  const rows = report.cases.map((c) => [
    c.label,
    String(c.summary.n),
    ms(c.summary.median),
    ms(c.summary.p95),
    c.ratio === undefined ? (c.baseline ? 'n/a' : '1 (baseline)') : `${c.ratio.toFixed(2)}x`,
    c.baseline ? (baselineNames[c.baseline] ?? c.baseline) : '',
    c.dynamodb === undefined ? 'see in-process row' : formatCounts(c.dynamodb),
    formatCounts(c.kms ?? {}),
  ]);
  lines.push('', `Coffer benchmark · ${report.machine.platform} · ${report.machine.cpus} CPUs · Node ${report.machine.node} · loopback only`, '');
  lines.push(...table(header, rows, [false, true, true, true, true, false, false, false]));
  const drift = report.cases
    .filter((c) => !c.baseline)
    .map((c) => `${baselineNames[c.id] ?? c.id} ${ms(c.halves.firstMedian)} -> ${ms(c.halves.secondMedian)} ms (${signedPercent(c.halves.secondMedian / c.halves.firstMedian - 1)})`);
  lines.push(
    '',
    `All cases ran interleaved in ${report.rounds} rounds. Baseline drift, median of the first vs the second half of the rounds: ${drift.join('; ')}.`,
    'Requests per call count the measured calls only (warm-up excluded); "-" means none.',
  );

  const cost = report.cost;
  lines.push(
    '',
    `Cost model: $ per million calls through API Gateway + Lambda (${PRICES.region} on-demand list prices recorded ${PRICES.recorded}; ` +
      `${cost.memoryMb} MB arm64 functions from serverless.yml)`,
    `  DynamoDB $${(PRICES.dynamodb.perReadRequestUnit * 1e6).toFixed(3)}/M RRU, $${(PRICES.dynamodb.perWriteRequestUnit * 1e6).toFixed(3)}/M WRU; ` +
      `KMS $${(PRICES.kms.perSymmetricRequest * 1e4).toFixed(2)}/10k (symmetric, RSA_2048), $${(PRICES.kms.perAsymmetricRequest * 1e4).toFixed(2)}/10k (other asymmetric); ` +
      `Lambda $${(PRICES.lambda.perRequest * 1e6).toFixed(2)}/M + $${PRICES.lambda.perGbSecondArm}/GB-s; HTTP API $${(PRICES.apiGateway.perHttpApiRequest * 1e6).toFixed(2)}/M`,
    '',
  );
  const costHeader = ['operation', 'RRU', 'WRU', 'KMS req', 'billed ms', 'DynamoDB $', 'KMS $', 'Lambda $', 'API GW $', 'total $/M'];
  const costRows = cost.operations.map((row) => [
    row.operation,
    row.profile.readUnits.toFixed(2),
    row.profile.writeUnits.toFixed(2),
    total(row.profile.kmsRequests).toFixed(2),
    String(row.profile.billedMs),
    money(row.perMillion.dynamodbReads + row.perMillion.dynamodbWrites),
    money(row.perMillion.kms),
    money(row.perMillion.lambdaRequests + row.perMillion.lambdaDuration),
    money(row.perMillion.apiGateway),
    money(row.perMillion.total),
  ]);
  lines.push(...table(costHeader, costRows, [false, true, true, true, true, true, true, true, true, true]));
  const estimated = Object.values(report.capacityUnits).some((c) => !c.reported);
  lines.push(
    '',
    `  Capacity units: ${estimated ? 'estimated from the request kinds (DynamoDB Local did not report ConsumedCapacity)' : `units per request as DynamoDB Local reported them (ReturnConsumedCapacity, ${CAPACITY_CALLS} calls each) x requests per call of the timed calls`}.`,
    `  Billed ms is the in-process median rounded up; each further ms costs $${cost.lambdaDollarsPerMillionPerMs.toFixed(4)} per million at ${cost.memoryMb} MB.`,
    `  Not included: per-key charges (KMS $${PRICES.kms.perKeyMonth}/month per vault key and per HSM key version), storage, CloudWatch Logs, data transfer, free tiers.`,
  );
  return `${lines.join('\n')}\n`;
}

function table(header: string[], rows: string[][], alignRight: boolean[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (alignRight[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

function formatCounts(counts: Counts): string {
  const entries = Object.entries(counts).filter(([, v]) => v !== 0);
  if (entries.length === 0) return '-';
  return entries
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`)
    .join(', ');
}

function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 100 ? value.toFixed(1) : value >= 1 ? value.toFixed(2) : value.toFixed(3);
}

function money(value: number): string {
  return value.toFixed(3);
}

function signedPercent(value: number): string {
  return `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`;
}

function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}

// Last, so every constant above is initialized before the run starts.
await main();
