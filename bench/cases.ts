/**
 * What is measured (bench/README.md): every latency row with its baseline, interleaved; the bounded
 * concurrency rows; and the cost model built from the measured requests.
 */
import { constants, createHash, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import os from 'node:os';
import type { BatchGetCommandInput } from '@aws-sdk/lib-dynamodb';
import type { KeyVaultSecret } from '@azure/keyvault-secrets';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { LambdaHandler } from '../dev/lambda-event.ts';
import type { LocalStackInfo } from '../dev/stack.ts';
import { BatchGetCommand } from '../lib/aws/api/dynamodb.ts';
import { openPrivateKey, signDigest } from '../lib/keys/software.ts';
import { resetConfig } from '../lib/runtime/config.ts';
import { resetServices } from '../lib/runtime/services.ts';
import { type ConcurrencyPlan, measureConcurrent } from './concurrency.ts';
import { type CostOperation, costModel } from './costs.ts';
import { type CreatedKey, handlers, invoke, lambdaRequest } from './handlers.ts';
import { recordHttpExchanges } from './http-bytes.ts';
import { type CaseSpec, groupMeasurer, type Plan, ROUNDS } from './measure.ts';
import { prepare } from './setup.ts';

/** 32 clients calling back to back, two rounds of 2 s per row: bounded in time and in calls. */
const CONCURRENCY: ConcurrencyPlan = { clients: 32, rounds: 2, secondsPerRound: 2, maxCallsPerRound: 20_000, warmupCallsPerClient: 3 };

/**
 * `full` measures. `smoke` (`npm run bench -- --smoke`, bench/README.md) shows that the benchmark
 * still runs: the same set-up, every case, the concurrency rows and every cost step, through the same
 * code, with only a call or a few each. Its numbers mean nothing; that every row's calls succeeded does.
 */
export type BenchMode = 'full' | 'smoke';

/** Smoke: one warm-up call, then one call per round, for every latency case. */
const SMOKE_PLAN: Plan = { warmup: 1, iterations: ROUNDS };
/** Smoke: two clients, four calls per row and round (the seconds are only a ceiling). */
const SMOKE_CONCURRENCY: ConcurrencyPlan = { clients: 2, rounds: 2, secondsPerRound: 2, maxCallsPerRound: 4, warmupCallsPerClient: 1 };

export async function runBenchmarks(info: LocalStackInfo, dataDir: string, mode: BenchMode = 'full') {
  const setup = await prepare(info, dataDir);
  try {
    return await measureAll(info, setup, mode);
  } finally {
    await setup.close();
    resetServices();
    resetConfig();
  }
}

export type Report = Awaited<ReturnType<typeof runBenchmarks>>;

/**
 * A handler's call as a case: the event is made before the timed part (API Gateway builds it, on its
 * own clock), and the timed part is the function's work on it.
 */
function handlerCall(handler: LambdaHandler, makeEvent: () => APIGatewayProxyEventV2): Pick<CaseSpec, 'prepare' | 'action'> {
  return { prepare: makeEvent, action: (event) => invoke(handler, event as APIGatewayProxyEventV2) };
}

async function measureAll(info: LocalStackInfo, setup: Awaited<ReturnType<typeof prepare>>, mode: BenchMode) {
  const { token, keys, rawDynamo, rawGet, secretValue } = setup;
  const smoke = mode === 'smoke';
  const measureGroup = groupMeasurer(setup.dynamoCounter, setup.kmsCounter, smoke ? SMOKE_PLAN : undefined);
  const concurrencyPlan = smoke ? SMOKE_CONCURRENCY : CONCURRENCY;

  const digest = createHash('sha256').update('coffer benchmark').digest();
  const signEvent = (key: CreatedKey, alg: string) => () =>
    lambdaRequest('POST', `/keys/${key.name}/${key.version}/sign`, token, { alg, value: digest.toString('base64url') });
  const rsaSign = signEvent(keys.softwareRsa, 'PS256');
  const ecSign = signEvent(keys.softwareEc, 'ES256');
  const hsmSign = signEvent(keys.hsmEc, 'ES256');

  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsaPkcs8 = rsa.privateKey.export({ type: 'pkcs8', format: 'der' });
  const ecPkcs8 = ec.privateKey.export({ type: 'pkcs8', format: 'der' });
  // Parsed once, as the opened-key cache keeps them for a warm handler.
  const rsaKey = openPrivateKey(rsaPkcs8);
  const ecKey = openPrivateKey(ecPkcs8);
  const message = Buffer.from('coffer benchmark');
  const otherCurves = ecdsaRowsForOtherCurves(message);

  // Baseline D of a software sign: what the handler cannot avoid, its one DynamoDB request (the
  // BatchGetItem of head and version it sends for a sign by version, copied from a probe call) and
  // node:crypto signing the same algorithm, back to back.
  const rsaRead = await batchGetOf(setup, rsaSign());
  const ecRead = await batchGetOf(setup, ecSign());
  const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  const readAndSign = (read: BatchGetCommand, sign: () => Buffer) => async () => ({ read: await rawDynamo.send(read), signature: sign() });
  const isReadAndSignature = (read: BatchGetCommand, verify: (signature: Buffer) => boolean) => (result: unknown) => {
    const { read: output, signature } = result as { read: { Responses?: Record<string, unknown[]> }; signature: Buffer };
    const found = Object.values(output.Responses ?? {}).reduce((sum, items) => sum + items.length, 0);
    if (found !== keyCount(read.input)) throw new Error(`the raw BatchGetItem found ${found} of ${keyCount(read.input)} items`);
    if (!verify(signature)) throw new Error('node:crypto produced a signature it rejects');
  };

  // Every call's answer is checked, outside the timed part: the right secret value, a signature.
  const answer = (result: unknown) => JSON.parse((result as APIGatewayProxyStructuredResultV2).body ?? '{}') as { value?: unknown };
  const isTheSecret = (result: unknown) => {
    if (answer(result).value !== secretValue) throw new Error('GetSecret answered another value');
  };
  const isSignature = (result: unknown) => {
    const { value } = answer(result);
    if (typeof value !== 'string' || value.length === 0) throw new Error('Sign answered no signature');
  };
  const sdkHasTheSecret = (result: unknown) => {
    if ((result as KeyVaultSecret).value !== secretValue) throw new Error('SecretClient returned another value');
  };
  const sdkHasAValue = (result: unknown) => {
    if (!(result as KeyVaultSecret).value) throw new Error('SecretClient returned no value');
  };

  const gatewayClient = setup.secretClient(info.vaultUrl);
  const baselineClient = setup.secretClient(setup.httpsBaseline.url);
  // One group, interleaved: every row is measured under the same conditions as its baseline. Reads
  // and the HSM sign (a network call like a read) are compared with A, SecretClient through the
  // gateway with SecretClient against C, software signs with node:crypto signing the same algorithm.
  const results = await measureGroup('all cases', [
    {
      id: 'baseline-a',
      label: 'A: raw DynamoDB GetItem (lib/aws/api)',
      // DynamoDB Local is a JVM: a long warm-up gets its JIT past the first-call slowness.
      plan: { warmup: 1500, iterations: 2000 },
      action: () => rawDynamo.send(rawGet),
      check: (result) => {
        if (!(result as { Item?: unknown }).Item) throw new Error('the baseline item is missing');
      },
    },
    {
      id: 'get-secret-handler',
      label: 'GetSecret, handler in-process',
      baseline: 'baseline-a',
      plan: { warmup: 200, iterations: 1000 },
      ...handlerCall(handlers.getSecret, setup.getSecretEvent),
      check: isTheSecret,
    },
    {
      // The same read on a vault whose audit record is written to the audit table before the answer.
      id: 'get-secret-strict-handler',
      label: 'GetSecret, strict-audit vault, handler in-process',
      baseline: 'baseline-a',
      plan: { warmup: 200, iterations: 1000 },
      ...handlerCall(handlers.getSecret, setup.getStrictSecretEvent),
      check: isTheSecret,
    },
    {
      id: 'baseline-c',
      label: 'C: SecretClient, HTTPS server doing one GetItem',
      plan: { warmup: 200, iterations: 600 },
      action: () => baselineClient.getSecret(setup.secretName),
      check: sdkHasAValue,
      dynamodbInOtherProcess: true,
    },
    {
      id: 'get-secret-sdk',
      label: 'GetSecret, SecretClient via HTTPS gateway',
      baseline: 'baseline-c',
      plan: { warmup: 200, iterations: 600 },
      action: () => gatewayClient.getSecret(setup.secretName),
      check: sdkHasTheSecret,
      dynamodbInOtherProcess: true,
    },
    {
      id: 'sign-ec-hsm-handler',
      label: 'Sign ES256, EC-HSM P-256 (KMS), handler',
      baseline: 'baseline-a',
      plan: { warmup: 50, iterations: 500 },
      ...handlerCall(handlers.sign, hsmSign),
      check: isSignature,
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
      action: () => signDigest(rsaKey, 'RSA', undefined, 'PS256', digest),
      check: (result) => {
        const pss = { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
        if (!cryptoVerify('sha256', message, pss, result as Buffer)) throw new Error('signDigest PS256 produced a signature node:crypto rejects');
      },
    },
    {
      id: 'baseline-d-rsa',
      label: 'D: raw BatchGetItem (head + version) + node:crypto RSA-2048 PS256 sign',
      plan: { warmup: 100, iterations: 800 },
      action: readAndSign(rsaRead, () => cryptoSign('sha256', message, { key: rsa.privateKey, ...pss })),
      check: isReadAndSignature(rsaRead, (signature) => cryptoVerify('sha256', message, { key: rsa.publicKey, ...pss }, signature)),
    },
    {
      id: 'sign-rsa-handler',
      label: 'Sign PS256, software RSA-2048, handler',
      baseline: 'baseline-d-rsa',
      plan: { warmup: 100, iterations: 800 },
      ...handlerCall(handlers.sign, rsaSign),
      check: isSignature,
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
      action: () => signDigest(ecKey, 'EC', 'P-256', 'ES256', digest),
      check: (result) => {
        if (!cryptoVerify('sha256', message, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, result as Buffer)) {
          throw new Error('signDigest ES256 produced a signature node:crypto rejects');
        }
      },
    },
    {
      id: 'baseline-d-ec',
      label: 'D: raw BatchGetItem (head + version) + node:crypto ECDSA P-256 sign',
      plan: { warmup: 100, iterations: 800 },
      action: readAndSign(ecRead, () => cryptoSign('sha256', message, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' })),
      check: isReadAndSignature(ecRead, (signature) => cryptoVerify('sha256', message, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, signature)),
    },
    {
      id: 'sign-ec-handler',
      label: 'Sign ES256, software P-256, handler',
      baseline: 'baseline-d-ec',
      plan: { warmup: 100, iterations: 800 },
      ...handlerCall(handlers.sign, ecSign),
      check: isSignature,
    },
    ...otherCurves,
  ]);

  const concurrency = await measureConcurrent(
    [
      {
        id: 'concurrent-baseline-c',
        label: `C: SecretClient x ${concurrencyPlan.clients}, HTTPS server doing one GetItem`,
        client: () => {
          const client = setup.secretClient(setup.httpsBaseline.url);
          return () => client.getSecret(setup.secretName);
        },
        check: sdkHasAValue,
      },
      {
        id: 'concurrent-gateway',
        label: `GetSecret, SecretClient x ${concurrencyPlan.clients} via HTTPS gateway`,
        baseline: 'concurrent-baseline-c',
        client: () => {
          const client = setup.secretClient(info.vaultUrl);
          return () => client.getSecret(setup.secretName);
        },
        check: sdkHasTheSecret,
      },
    ],
    concurrencyPlan,
  );

  // A warm GetSecret through the gateway as the SDK sends and receives it, for the load balancer's processed bytes.
  const exchanges = await recordHttpExchanges(() => gatewayClient.getSecret(setup.secretName));
  const gatewayExchange = exchanges.find((e) => e.status === 200);
  if (!gatewayExchange) throw new Error('could not see the HTTP exchange of a GetSecret through the gateway');

  const operations: CostOperation[] = [
    { operation: 'GetSecret', route: 'GetSecret', caseId: 'get-secret-handler', call: () => invoke(handlers.getSecret, setup.getSecretEvent()) },
    { operation: 'Sign, software RSA-2048 PS256', route: 'Sign', caseId: 'sign-rsa-handler', call: () => invoke(handlers.sign, rsaSign()) },
    { operation: 'Sign, software P-256 ES256', route: 'Sign', caseId: 'sign-ec-handler', call: () => invoke(handlers.sign, ecSign()) },
    {
      operation: 'Sign, EC-HSM P-256 ES256',
      route: 'Sign',
      caseId: 'sign-ec-hsm-handler',
      call: () => invoke(handlers.sign, hsmSign()),
      kmsKeySpec: 'ECC_NIST_P256',
    },
  ];
  const cost = await costModel(info, setup, results, operations, gatewayExchange);

  return {
    mode,
    generatedAt: new Date().toISOString(),
    machine: { node: process.version, platform: `${process.platform} ${process.arch}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model },
    units: { latency: 'milliseconds', requests: 'per call, measured iterations only (warm-up excluded)' },
    rounds: ROUNDS,
    cases: results,
    concurrency: { plan: concurrencyPlan, rows: concurrency },
    cost,
  };
}

/** The BatchGetItem a sign makes (the last of a probe call's), to send the very same request raw. */
async function batchGetOf(setup: Awaited<ReturnType<typeof prepare>>, event: ReturnType<typeof lambdaRequest>): Promise<BatchGetCommand> {
  const { requests } = await setup.dynamoCounter.record(() => invoke(handlers.sign, event));
  const read = requests.filter((r) => r.operation === 'BatchGetItem').at(-1);
  if (!read) throw new Error(`could not see the BatchGetItem of ${event.rawPath}: ${requests.map((r) => r.operation).join(', ') || 'no requests'}`);
  return new BatchGetCommand(read.input as BatchGetCommandInput);
}

function keyCount(input: BatchGetCommandInput): number {
  return Object.values(input.RequestItems ?? {}).reduce((sum, request) => sum + (request.Keys?.length ?? 0), 0);
}

/** ES384, ES512 and ES256K: signDigest (lib, no I/O) against node:crypto signing the same algorithm. */
function ecdsaRowsForOtherCurves(message: Buffer) {
  const curves = [
    { alg: 'ES384', curve: 'P-384', namedCurve: 'secp384r1', hash: 'sha384' },
    { alg: 'ES512', curve: 'P-521', namedCurve: 'secp521r1', hash: 'sha512' },
    { alg: 'ES256K', curve: 'P-256K', namedCurve: 'secp256k1', hash: 'sha256' },
  ] as const;
  return curves.flatMap(({ alg, curve, namedCurve, hash }) => {
    const pair = generateKeyPairSync('ec', { namedCurve });
    const key = openPrivateKey(pair.privateKey.export({ type: 'pkcs8', format: 'der' }));
    const digest = createHash(hash).update(message).digest();
    const baseline = `baseline-b-${alg.toLowerCase()}`;
    // A few milliseconds a call on these curves: fewer calls than for P-256.
    const plan = { warmup: 20, iterations: 200 };
    return [
      {
        id: baseline,
        label: `B: node:crypto ECDSA ${curve} sign`,
        plan,
        action: () => cryptoSign(hash, message, { key: pair.privateKey, dsaEncoding: 'ieee-p1363' }),
      },
      {
        id: `sign-${alg.toLowerCase()}-pure`,
        label: `signDigest ${alg} ${curve} (lib, no I/O)`,
        baseline,
        plan,
        action: () => signDigest(key, 'EC', curve, alg, digest),
        check: (result: unknown) => {
          if (!cryptoVerify(hash, message, { key: pair.publicKey, dsaEncoding: 'ieee-p1363' }, result as Buffer)) {
            throw new Error(`signDigest ${alg} produced a signature node:crypto rejects`);
          }
        },
      },
    ];
  });
}
