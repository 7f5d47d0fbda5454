import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LambdaHandler, lambdaContext, lambdaEvent } from '../../dev/lambda-event.ts';
import { functionEnvironment } from '../../dev/stack.ts';
import { DEPENDENCY_TIMING } from '../../lib/aws/api/aws-json.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { resetServices } from '../../lib/runtime/services.ts';
import { type Fault, FaultProxy } from '../support/fault-proxy.ts';
import { loggedAuditRecords } from '../support/audit.ts';
import { adminSecretCredential, adminToken, localStack, raw, uniqueName } from '../support/local.ts';

/**
 * DynamoDB and KMS killed, frozen, throttled and failing, under the production handlers run in this
 * process: their endpoints are loopback proxies this file controls (test/support/fault-proxy.ts), so
 * the shared stack and the other test files never see a fault. Every answer must come within the
 * dependency bound, as 503 or 429 with Retry-After in Azure's error shape, audited with its status,
 * never a 500; and once the dependency is back, no operation that failed may have left half of itself.
 */
const info = localStack();
/** The dependency budget of one call, and what the rest of the request (token, routing, audit) may add. */
const BOUND_MS = DEPENDENCY_TIMING.callBudgetMs + 500;

let dynamo: FaultProxy;
let kms: FaultProxy;
const handlers: Record<string, LambdaHandler> = {};
/** `<name>/<version>` of an HSM key, whose every signature is a KMS Sign. */
let hsmKey: string;

beforeAll(async () => {
  dynamo = await FaultProxy.start(info.endpoints.dynamodb);
  kms = await FaultProxy.start(info.endpoints.kms);
  Object.assign(process.env, functionEnvironment(info), { AWS_ENDPOINT_URL_DYNAMODB: dynamo.url, AWS_ENDPOINT_URL_KMS: kms.url });
  resetConfig();
  resetServices();
  handlers.GetSecret = (await import('../../functions/secrets/get-secret.ts')).handler;
  handlers.SetSecret = (await import('../../functions/secrets/set-secret.ts')).handler;
  handlers.DeleteSecret = (await import('../../functions/secrets/delete-secret.ts')).handler;
  handlers.CreateKey = (await import('../../functions/keys/create-key.ts')).handler;
  handlers.Sign = (await import('../../functions/keys/sign.ts')).handler;
  const name = uniqueName('fault-hsm');
  const created = await call('CreateKey', 'POST', `/keys/${name}/create`, { kty: 'RSA-HSM', key_size: 2048, key_ops: ['sign', 'verify'] });
  expect(created.status).toBe(200);
  hsmKey = `${name}/${created.json.key!.kid.split('/').pop()}`;
});

afterAll(async () => {
  await dynamo?.close();
  await kms?.close();
  resetConfig();
  resetServices();
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  json: { error?: { code: string; message: string; innererror?: unknown }; value?: string; key?: { kid: string } };
  ms: number;
}

/** One request through the operation's handler in this process, timed. */
async function call(operation: string, method: string, url: string, body?: object): Promise<Answer> {
  const event = lambdaEvent({
    method,
    url: `${url}${url.includes('?') ? '&' : '?'}api-version=7.6`,
    headers: { authorization: `Bearer ${await adminToken()}`, host: 'localhost', ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const started = Date.now();
  const result = await handlers[operation]!(event, lambdaContext(operation));
  const ms = Date.now() - started;
  return {
    status: result.statusCode ?? 0,
    headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
    json: result.body ? JSON.parse(result.body) : {},
    ms,
  };
}

/** The audit record the request left in the function's log stream (the default vault audits there). */
function auditedStatus(requestId: string): number | undefined {
  return loggedAuditRecords(readFileSync(info.inProcessAuditLog, 'utf8'), requestId)[0]?.httpStatusCode;
}

/** A retryable refusal: in time, 503 or 429 with Retry-After, Azure's error shape, audited with its status. */
function expectRetryable(answer: Answer, status: 503 | 429): void {
  expect(answer.ms).toBeLessThan(BOUND_MS);
  expect(answer.status).toBe(status);
  expect(Number(answer.headers['Retry-After'])).toBeGreaterThan(0);
  expect(answer.json).toEqual({
    error: { code: status === 429 ? 'Throttled' : 'ServiceUnavailable', message: expect.stringMatching(/\S/) },
  });
  expect(auditedStatus(answer.headers['x-ms-request-id']!)).toBe(status);
}

/** Runs `work` under `fault` on `proxy`, then heals it and waits out the clients' fail-fast window. */
async function under<T>(proxy: FaultProxy, fault: Fault, work: () => Promise<T>, after?: number): Promise<T> {
  await proxy.set(fault, { after });
  try {
    return await work();
  } finally {
    await proxy.set({ kind: 'healthy' });
    await new Promise((resolve) => setTimeout(resolve, DEPENDENCY_TIMING.failFastMs + 50));
  }
}

/** Through the shared stack (other clients): a set either landed whole or not at all. */
async function expectSetAtomic(name: string, value: string, answer: Answer): Promise<void> {
  const live = await raw('GET', `/secrets/${name}?api-version=7.6`);
  if (answer.status === 200) expect(live.json.value).toBe(value);
  else if (live.status === 200) {
    expect(live.json.value).toBe(value);
    const versions = await raw('GET', `/secrets/${name}/versions?api-version=7.6`);
    expect(versions.json.value).toHaveLength(1);
  } else {
    expect(live.status).toBe(404);
    expect((await raw('GET', `/deletedsecrets/${name}?api-version=7.6`)).status).toBe(404);
  }
}

/** A delete left the secret either live or deleted, never both or neither. */
async function expectDeleteAtomic(name: string, value: string, answer: Answer): Promise<void> {
  const live = await raw('GET', `/secrets/${name}?api-version=7.6`);
  const deleted = await raw('GET', `/deletedsecrets/${name}?api-version=7.6`);
  expect([live.status, deleted.status].sort()).toEqual([200, 404]);
  if (answer.status === 200) expect(deleted.status).toBe(200);
  if (live.status === 200) expect(live.json.value).toBe(value);
}

async function seededSecret(prefix: string): Promise<{ name: string; value: string }> {
  const name = uniqueName(prefix);
  const value = `value-of-${name}`;
  expect((await raw('PUT', `/secrets/${name}?api-version=7.6`, { body: { value } })).status).toBe(200);
  return { name, value };
}

describe('a DynamoDB transaction whose answer is lost after it committed', () => {
  it.each([
    ['a new version of a secret', 'SetSecret', 'PUT', (name: string) => `/secrets/${name}`, { value: 'second' }],
    ['a soft delete', 'DeleteSecret', 'DELETE', (name: string) => `/secrets/${name}`, undefined],
  ] as const)('is answered as done when the transport sends it again: %s', async (_, operation, method, path, body) => {
    const { name } = await seededSecret('fi-lost');
    await dynamo.set({ kind: 'answer-lost', target: 'DynamoDB_20120810.TransactWriteItems' });
    const forwardedBefore = dynamo.forwarded;
    const answer = await call(operation, method, path(name), body);
    // The lost answer was the transaction's (the proxy is healthy again once it has lost one), and it was sent again.
    expect(dynamo.forwarded - forwardedBefore).toBeGreaterThanOrEqual(2);
    expect({ status: answer.status, error: answer.json.error }).toEqual({ status: 200, error: undefined });
    if (operation === 'SetSecret') {
      expect((await raw('GET', `/secrets/${name}?api-version=7.6`)).json.value).toBe('second');
      // One new version, not two: the retry was the same transaction.
      expect((await raw('GET', `/secrets/${name}/versions?api-version=7.6`)).json.value).toHaveLength(2);
    } else {
      expect((await raw('GET', `/secrets/${name}?api-version=7.6`)).status).toBe(404);
      expect((await raw('GET', `/deletedsecrets/${name}?api-version=7.6`)).status).toBe(200);
    }
  });
});

describe.each([
  ['killed', { kind: 'killed' }, 503],
  ['frozen', { kind: 'frozen' }, 503],
  ['dropping connections', { kind: 'reset' }, 503],
  ['failing (500)', { kind: 'error', status: 500, code: 'com.amazonaws.dynamodb.v20120810#InternalServerError' }, 503],
  ['throttling', { kind: 'error', status: 400, code: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException' }, 429],
] as const)('DynamoDB %s', (_, fault, status) => {
  it(`answers reads, writes and deletes ${status} within the bound, and leaves no partial state`, async () => {
    const read = await seededSecret('fi-read');
    const doomed = await seededSecret('fi-delete');
    const written = { name: uniqueName('fi-write'), value: 'written-under-fault' };
    const [got, set, deleted] = await under(dynamo, fault, () =>
      Promise.all([
        call('GetSecret', 'GET', `/secrets/${read.name}`),
        call('SetSecret', 'PUT', `/secrets/${written.name}`, { value: written.value }),
        call('DeleteSecret', 'DELETE', `/secrets/${doomed.name}`),
      ]),
    );
    for (const answer of [got!, set!, deleted!]) expectRetryable(answer, status);
    await expectSetAtomic(written.name, written.value, set!);
    await expectDeleteAtomic(doomed.name, doomed.value, deleted!);
    expect((await raw('GET', `/secrets/${read.name}?api-version=7.6`)).json.value).toBe(read.value);
  });
});

describe('DynamoDB failing part way through an operation', () => {
  it.each([0, 1, 2, 3])('leaves a set and a delete whole or undone when the store goes away after %i requests', async (after) => {
    const doomed = await seededSecret('fi-part-delete');
    const written = { name: uniqueName('fi-part-write'), value: `written-after-${after}` };
    const set = await under(dynamo, { kind: 'reset' }, () => call('SetSecret', 'PUT', `/secrets/${written.name}`, { value: written.value }), after);
    const deleted = await under(dynamo, { kind: 'reset' }, () => call('DeleteSecret', 'DELETE', `/secrets/${doomed.name}`), after);
    for (const answer of [set, deleted]) {
      expect(answer.ms).toBeLessThan(BOUND_MS);
      if (answer.status !== 200) expectRetryable(answer, 503);
    }
    await expectSetAtomic(written.name, written.value, set);
    await expectDeleteAtomic(doomed.name, doomed.value, deleted);
  });
});

describe.each([
  ['killed', { kind: 'killed' }, 503],
  ['frozen', { kind: 'frozen' }, 503],
  ['failing (500)', { kind: 'error', status: 500, code: 'KMSInternalException' }, 503],
  ['throttling', { kind: 'error', status: 400, code: 'ThrottlingException' }, 429],
] as const)('KMS %s', (_, fault, status) => {
  it(`answers signing and HSM key creation ${status} within the bound, and creates no key`, async () => {
    const created = uniqueName('fi-hsm');
    const digest = Buffer.alloc(32, 7).toString('base64url');
    const [signed, create] = await under(kms, fault, () =>
      Promise.all([
        call('Sign', 'POST', `/keys/${hsmKey}/sign`, { alg: 'PS256', value: digest }),
        call('CreateKey', 'POST', `/keys/${created}/create`, { kty: 'RSA-HSM', key_size: 2048 }),
      ]),
    );
    expectRetryable(signed!, status);
    expectRetryable(create!, status);
    expect((await raw('GET', `/keys/${created}?api-version=7.6`)).status).toBe(404);
    // The key that was there signs again once KMS is back.
    expect((await call('Sign', 'POST', `/keys/${hsmKey}/sign`, { alg: 'PS256', value: digest })).status).toBe(200);
  });
});

describe('the official SDK and a throttled vault', () => {
  let front: Server;
  const answered: number[] = [];
  const THROTTLED_ANSWERS = 2;

  beforeAll(async () => {
    // GetSecret served over HTTPS from this process, so its DynamoDB is the proxy's; the gateway's
    // certificate and the stack's CA (trusted by the test workers) make it a vault to the SDK.
    const tls = join(process.env.COFFER_TEST_DATA_DIR!, 'tls');
    front = createServer({ cert: readFileSync(join(tls, 'server.pem')), key: readFileSync(join(tls, 'server-key.pem')) }, (req, res) => {
      const event = lambdaEvent({ method: req.method!, url: req.url!, headers: { ...req.headers, host: 'localhost' } });
      handlers.GetSecret!(event, lambdaContext('GetSecret')).then(async (result) => {
        if (req.headers.authorization) answered.push(result.statusCode ?? 0);
        // The store recovers once Coffer has throttled the client THROTTLED_ANSWERS times.
        if (answered.filter((s) => s === 429).length === THROTTLED_ANSWERS) await dynamo.set({ kind: 'healthy' });
        res.writeHead(result.statusCode ?? 500, result.headers as Record<string, string>);
        res.end(result.body ?? '');
      });
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    front.closeAllConnections();
    await new Promise((resolve) => front.close(resolve));
  });

  it('retries getSecret after each 429 as Retry-After says, then gets the secret', { timeout: 20_000 }, async () => {
    const { name, value } = await seededSecret('fi-sdk');
    const client = new SecretClient(`https://localhost:${(front.address() as AddressInfo).port}`, adminSecretCredential(), {
      disableChallengeResourceVerification: true,
    });
    await dynamo.set({ kind: 'error', status: 400, code: 'com.amazonaws.dynamodb.v20120810#ThrottlingException' });
    const started = Date.now();
    try {
      const secret = await client.getSecret(name);
      expect(secret.value).toBe(value);
    } finally {
      await dynamo.set({ kind: 'healthy' });
    }
    expect(answered).toEqual([429, 429, 200]);
    // The SDK waited the Retry-After (1 s) before each retry.
    expect(Date.now() - started).toBeGreaterThanOrEqual(THROTTLED_ANSWERS * 1_000);
  });
});
