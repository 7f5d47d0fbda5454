/**
 * What the cases need before anything is timed: trust in the stack's CA, the request counters, a
 * token, a secret and keys made through the production handlers, a vault with strict audit and a
 * secret in it, the item GetSecret reads and a raw client that reads it, and the HTTPS baseline server.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import tls from 'node:tls';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { REGION } from '../dev/local-environment.ts';
import type { LocalStackInfo, StackOptions } from '../dev/stack.ts';
import { DynamoDBDocumentClient, GetCommand } from '../lib/aws/api/dynamodb.ts';
import { resetServices } from '../lib/runtime/services.ts';
import { createLocalVault } from '../test/support/vaults.ts';
import { DynamoRequestCounter, instrumentDocumentClients, KmsLogCounter } from './aws-requests.ts';
import { configureHandlers, createKey, handlers, invoke, lambdaRequest } from './handlers.ts';
import { challengeOf, startHttpsBaseline } from './https-baseline.ts';
import { log } from './measure.ts';

export type Setup = Awaited<ReturnType<typeof prepare>>;

/**
 * How the benchmark starts its stack (bench/run.ts): neither of the gateway's background readers and
 * writers runs against the DynamoDB Local the rows read, whose one SQLite file would hold up whichever
 * row runs next behind their requests. The audit delivery is measured apart instead (bench/costs.ts).
 * The objects table's stream reader polls every 200 ms; in AWS the stream is read by another service
 * (the event source mapping), not by a process that shares the table's SQLite file with the timed reads.
 */
export const BENCH_STACK = { auditDelivery: false, eventStream: false } as const satisfies Partial<StackOptions>;

export async function prepare(info: LocalStackInfo, dataDir: string) {
  // This process talks to the stack's HTTPS endpoints (identity provider, gateway, baseline): trust its CA.
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
  const secretValue = randomBytes(48).toString('base64');
  await invoke(handlers.setSecret, lambdaRequest('PUT', `/secrets/${secretName}`, token, { value: secretValue }));
  const keys = {
    softwareRsa: await createKey(token, 'bench-rsa', { kty: 'RSA', key_size: 2048 }),
    softwareEc: await createKey(token, 'bench-ec', { kty: 'EC', crv: 'P-256' }),
    hsmEc: await createKey(token, 'bench-ec-hsm', { kty: 'EC-HSM', crv: 'P-256' }),
  };

  // The item the raw baselines read: the last item GetSecret itself reads (the version item, or the
  // head when the head carries the latest version).
  const getSecretEvent = () => lambdaRequest('GET', `/secrets/${secretName}`, token);
  const probe = await dynamoCounter.record(() => invoke(handlers.getSecret, getSecretEvent()));
  const itemRead = probe.requests.filter((r) => r.operation === 'GetItem').at(-1);
  if (!itemRead?.key || !itemRead.table) throw new Error('could not see the GetItem requests of GetSecret');
  const item = { table: itemRead.table, key: itemRead.key, consistentRead: itemRead.consistentRead ?? true };

  // The raw baselines send through the client the handlers send through (lib/aws/api: the same
  // transport, signer, keep-alive agent and environment credentials), so a ratio is Coffer's work over
  // the same physical round trip, not the difference between two HTTP clients (bench/README.md).
  // Its requests are counted as the handlers' are (instrumentDocumentClients).
  const rawDynamo = new DynamoDBDocumentClient({ region: REGION, endpoint: info.endpoints.dynamodb });
  const rawGet = new GetCommand({ TableName: item.table, Key: item.key, ConsistentRead: item.consistentRead });

  log('setting up: a vault with strict audit...');
  const strict = await createStrictVault(info);
  // The grant on the new vault was made through the gateway: this process's warm access cache would
  // see it only after the propagation bound (docs/adr/0013), a fresh container sees it at once.
  resetServices();
  const strictEvent = (method: string, body?: unknown) => lambdaRequest(method, `/secrets/${secretName}`, token, body, strict.host);
  await invoke(handlers.setSecret, strictEvent('PUT', { value: secretValue }));
  const getStrictSecretEvent = () => strictEvent('GET');

  log('starting the HTTPS baseline server...');
  const httpsBaseline = await startHttpsBaseline({
    tls: { certFile: join(dataDir, 'tls', 'server.pem'), keyFile: join(dataDir, 'tls', 'server-key.pem') },
    dynamodb: { endpoint: info.endpoints.dynamodb, ...item },
    challenge: await challengeOf(info.vaultUrl),
  });

  /** A SecretClient as an application makes one: one per client, so one connection each. No retries: a failed call must show. */
  const secretClient = (url: string) =>
    new SecretClient(url, credential, { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });

  return {
    token,
    secretName,
    secretValue,
    keys,
    getSecretEvent,
    getStrictSecretEvent,
    dynamoCounter,
    kmsCounter,
    rawDynamo,
    rawGet,
    httpsBaseline,
    secretClient,
    async close() {
      await httpsBaseline.stop();
      rawDynamo.destroy();
      uninstrument();
    },
  };
}

/**
 * A vault whose every record is written to the audit table before the response, created through the
 * management API and granting the administrator Key Vault Administrator (test/support/vaults.ts).
 * Requests reach it by its host name.
 */
async function createStrictVault(info: LocalStackInfo): Promise<{ name: string; host: string }> {
  return createLocalVault('benchstrict', { strictAudit: true }, info);
}
