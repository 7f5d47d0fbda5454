/**
 * What is measured (bench/README.md): the setup (a token, a secret, keys), every case with its
 * baseline, the capacity calls, and the cost rows built from them.
 */
import { constants, createHash, generateKeyPairSync, randomBytes, randomUUID, sign as cryptoSign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import type { LocalStackInfo } from '../dev/stack.ts';
import { signDigest } from '../lib/keys/software.ts';
import { resetConfig } from '../lib/runtime/config.ts';
import { resetServices } from '../lib/runtime/services.ts';
import { DynamoRequestCounter, instrumentDocumentClients, KmsLogCounter } from './aws-requests.ts';
import { CAPACITY_CALLS, capacityPerRequest, profileOf } from './capacity.ts';
import { type CreatedKey, configureHandlers, createKey, handlers, invoke, lambdaRequest } from './handlers.ts';
import { groupMeasurer, log, ROUNDS } from './measure.ts';
import { type CostPerMillion, costPerMillion, lambdaCostPerMillionPerMs, type OperationProfile, PRICES } from './pricing.ts';

const SERVERLESS_YML = fileURLToPath(new URL('../serverless.yml', import.meta.url));

export async function runBenchmarks(info: LocalStackInfo) {
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
  const rawGet = new GetItemCommand({
    TableName: versionRead.table,
    Key: attributeValues(versionRead.key),
    ConsistentRead: versionRead.consistentRead ?? true,
  });

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

export type Report = Awaited<ReturnType<typeof runBenchmarks>>;

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
  const yaml = await readFile(SERVERLESS_YML, 'utf8');
  const match = /^\s+memorySize:\s*(\d+)\s*$/m.exec(yaml);
  if (!match) throw new Error('serverless.yml has no numeric memorySize parameter');
  return Number(match[1]);
}
