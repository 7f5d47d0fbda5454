import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LambdaHandler, lambdaContext, lambdaEvent } from '../../dev/lambda-event.ts';
import { functionEnvironment } from '../../dev/stack.ts';
import { handler as decrypt } from '../../functions/keys/decrypt.ts';
import { handler as encrypt } from '../../functions/keys/encrypt.ts';
import { handler as sign } from '../../functions/keys/sign.ts';
import { handler as unwrapKey } from '../../functions/keys/unwrap-key.ts';
import { handler as verify } from '../../functions/keys/verify.ts';
import { handler as wrapKey } from '../../functions/keys/wrap-key.ts';
import { handler as createKey } from '../../functions/keys/create-key.ts';
import { handler as deleteKey } from '../../functions/keys/delete-key.ts';
import { handler as recoverKey } from '../../functions/keys/recover-deleted-key.ts';
import { handler as updateKey } from '../../functions/keys/update-key.ts';
import { handler as deleteSecret } from '../../functions/secrets/delete-secret.ts';
import { handler as getSecret } from '../../functions/secrets/get-secret.ts';
import { handler as recoverSecret } from '../../functions/secrets/recover-deleted-secret.ts';
import { handler as setSecret } from '../../functions/secrets/set-secret.ts';
import { handler as updateSecret } from '../../functions/secrets/update-secret.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { resetServices } from '../../lib/runtime/services.ts';
import { DynamoRequests, READ_OPERATIONS } from '../support/dynamo-requests.ts';
import { adminToken, localStack, uniqueName } from '../support/local.ts';

/**
 * The production handlers in this process against the local stack, every request of their DynamoDB
 * client counted (test/support/dynamo-requests.ts): a read of a secret
 * or a key operation is one DynamoDB read, and with no cache of object state in between, a disable,
 * an expiry, a change of key_ops or a delete is refused by the very next call, warm containers and
 * opened-key cache notwithstanding. (The audit record is a write and not counted here.)
 */
const requests = new DynamoRequests();
const savedEnv = { ...process.env };

beforeAll(() => {
  requests.install();
  Object.assign(process.env, functionEnvironment(localStack()));
  resetConfig();
  resetServices();
});

afterAll(() => {
  requests.uninstall();
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  resetConfig();
  resetServices();
});

interface Answer {
  status: number;
  json: any;
}

async function call(handler: LambdaHandler, method: string, path: string, body?: unknown): Promise<Answer> {
  const event = lambdaEvent({
    method,
    url: `${path}?api-version=7.6`,
    headers: { authorization: `Bearer ${await adminToken()}`, 'content-type': 'application/json', 'user-agent': 'one-request-reads' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const result = await handler(event, lambdaContext('one-request-reads'));
  return { status: result.statusCode ?? 200, json: result.body ? JSON.parse(result.body) : undefined };
}

async function ok(answer: Promise<Answer>): Promise<any> {
  const { status, json } = await answer;
  expect(status, JSON.stringify(json)).toBe(200);
  return json;
}

/**
 * The DynamoDB reads of one warm call: the same call runs once before, so the container's caches
 * (vault record, data keys, opened keys) are as a steady stream of requests finds them.
 */
async function readsOf(run: () => Promise<Answer>): Promise<string[]> {
  await ok(run());
  const { result, requests: sent } = await requests.during(run);
  expect(result.status, JSON.stringify(result.json)).toBe(200);
  return sent.filter((r) => READ_OPERATIONS.test(r.operation)).map((r) => r.operation);
}

/** The status and inner error code of a refused call. */
async function refusal(answer: Promise<Answer>) {
  const { status, json } = await answer;
  return { status, code: json?.error?.innererror?.code ?? json?.error?.code };
}

const versionOf = (id: string) => String(id).split('/').pop()!;
const DIGEST = createHash('sha256').update('one request').digest().toString('base64url');
const PLAINTEXT = Buffer.alloc(32, 3).toString('base64url');

describe('one DynamoDB read per call', () => {
  it('GetSecret, latest and by version', async () => {
    const name = uniqueName('one-read');
    const set = await ok(call(setSecret, 'PUT', `/secrets/${name}`, { value: 'counted' }));
    expect(await readsOf(() => call(getSecret, 'GET', `/secrets/${name}`))).toEqual(['GetItem']);
    expect(await readsOf(() => call(getSecret, 'GET', `/secrets/${name}/${versionOf(set.id)}`))).toEqual(['BatchGetItem']);
  });

  it.each([
    ['EC P-256', { kty: 'EC', crv: 'P-256' }, 'ES256', 'RSA-OAEP'],
    ['RSA-2048', { kty: 'RSA', key_size: 2048 }, 'PS256', 'RSA-OAEP-256'],
  ])('every operation on a software %s key, by version and latest', async (_label, spec, signAlg, encryptAlg) => {
    const name = uniqueName('one-read-key');
    const created = await ok(call(createKey, 'POST', `/keys/${name}/create`, spec));
    const version = versionOf(created.key.kid);
    const signature = await ok(call(sign, 'POST', `/keys/${name}/${version}/sign`, { alg: signAlg, value: DIGEST }));
    for (const path of [`/keys/${name}/${version}`, `/keys/${name}/`]) {
      const reads = path.endsWith('/') ? ['GetItem'] : ['BatchGetItem'];
      expect(await readsOf(() => call(sign, 'POST', `${path}/sign`, { alg: signAlg, value: DIGEST }))).toEqual(reads);
      expect(await readsOf(() => call(verify, 'POST', `${path}/verify`, { alg: signAlg, digest: DIGEST, value: signature.value }))).toEqual(reads);
      if (spec.kty !== 'RSA') continue;
      const sealed = await ok(call(encrypt, 'POST', `${path}/encrypt`, { alg: encryptAlg, value: PLAINTEXT }));
      const wrapped = await ok(call(wrapKey, 'POST', `${path}/wrapkey`, { alg: encryptAlg, value: PLAINTEXT }));
      expect(await readsOf(() => call(encrypt, 'POST', `${path}/encrypt`, { alg: encryptAlg, value: PLAINTEXT }))).toEqual(reads);
      expect(await readsOf(() => call(decrypt, 'POST', `${path}/decrypt`, { alg: encryptAlg, value: sealed.value }))).toEqual(reads);
      expect(await readsOf(() => call(wrapKey, 'POST', `${path}/wrapkey`, { alg: encryptAlg, value: PLAINTEXT }))).toEqual(reads);
      expect(await readsOf(() => call(unwrapKey, 'POST', `${path}/unwrapkey`, { alg: encryptAlg, value: wrapped.value }))).toEqual(reads);
    }
  });
});

describe('a change of state is seen by the very next call', () => {
  it('a disabled secret is refused at once, latest and by version, and a deleted one is not found', async () => {
    const name = uniqueName('state');
    const set = await ok(call(setSecret, 'PUT', `/secrets/${name}`, { value: 'v' }));
    const paths = [`/secrets/${name}`, `/secrets/${name}/${versionOf(set.id)}`];
    for (const path of paths) await ok(call(getSecret, 'GET', path));

    await ok(call(updateSecret, 'PATCH', `/secrets/${name}/`, { attributes: { enabled: false } }));
    for (const path of paths) expect(await refusal(call(getSecret, 'GET', path))).toEqual({ status: 403, code: 'SecretDisabled' });
    await ok(call(updateSecret, 'PATCH', `/secrets/${name}/${versionOf(set.id)}`, { attributes: { enabled: true } }));
    for (const path of paths) expect((await ok(call(getSecret, 'GET', path))).value).toBe('v');

    await ok(call(deleteSecret, 'DELETE', `/secrets/${name}`));
    for (const path of paths) expect(await refusal(call(getSecret, 'GET', path))).toEqual({ status: 404, code: 'SecretNotFound' });
    await ok(call(recoverSecret, 'POST', `/deletedsecrets/${name}/recover`));
    for (const path of paths) expect((await ok(call(getSecret, 'GET', path))).value).toBe('v');
  });

  it('a software key disabled, expired, not yet valid, stripped of sign, or deleted stops signing at once', async () => {
    const name = uniqueName('state-key');
    const created = await ok(call(createKey, 'POST', `/keys/${name}/create`, { kty: 'EC', crv: 'P-256' }));
    const paths = [`/keys/${name}/${versionOf(created.key.kid)}`, `/keys/${name}/`];
    const signs = (path: string) => call(sign, 'POST', `${path}/sign`, { alg: 'ES256', value: DIGEST });
    // Warm: the opened private key is cached from here on.
    for (const path of paths) await ok(signs(path));
    const now = Math.floor(Date.now() / 1000);

    for (const [change, code] of [
      [{ attributes: { enabled: false } }, 'KeyDisabled'],
      [{ attributes: { exp: now - 60 } }, 'KeyExpired'],
      [{ attributes: { nbf: now + 3600 } }, 'KeyNotYetValid'],
      [{ key_ops: ['verify'] }, 'KeyOperationForbidden'],
    ] as const) {
      await ok(call(updateKey, 'PATCH', `/keys/${name}/`, change));
      for (const path of paths) expect(await refusal(signs(path)), JSON.stringify(change)).toEqual({ status: 403, code });
      await ok(call(updateKey, 'PATCH', `/keys/${name}/`, { attributes: { enabled: true, exp: null, nbf: null }, key_ops: ['sign', 'verify'] }));
      for (const path of paths) await ok(signs(path));
    }

    await ok(call(deleteKey, 'DELETE', `/keys/${name}`));
    for (const path of paths) expect(await refusal(signs(path))).toEqual({ status: 404, code: 'KeyNotFound' });
    await ok(call(recoverKey, 'POST', `/deletedkeys/${name}/recover`));
    for (const path of paths) await ok(signs(path));
  });
});
