import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../dev/gateway.ts';
import { functionEnvironment } from '../../dev/stack.ts';
import { VAULT_LIMITS, VaultRateLimiter } from '../../lib/http/middleware/vault-limits.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { resetServices } from '../../lib/runtime/services.ts';
import { adminSecretCredential, localStack, raw, uniqueName } from '../support/local.ts';
import { createLocalVault } from '../support/vaults.ts';

/**
 * The documented per-vault limits through a local gateway that enforces them (run in this process
 * on the stack's DynamoDB Local, KMS and identity provider, `localhost` naming a vault of its own):
 * past a vault's 20 software key creations in 10 s the next one answers Azure's 429 with
 * Retry-After, and the official SDK, with its default retry policy, waits that long, tries again and
 * succeeds.
 */
const info = localStack();
const savedEnv = { ...process.env };
let gateway: Gateway;
const vaultUrl = () => `https://localhost:${gateway.port}`;

beforeAll(async () => {
  const vault = await createLocalVault('limits');
  Object.assign(process.env, functionEnvironment(info), { COFFER_HOST_ALIASES: JSON.stringify({ localhost: vault.name }) });
  resetConfig();
  resetServices();
  const tlsDir = join(process.env.COFFER_TEST_DATA_DIR!, 'tls');
  gateway = await startGateway({
    tls: { certPem: await readFile(join(tlsDir, 'server.pem'), 'utf8'), keyPem: await readFile(join(tlsDir, 'server-key.pem'), 'utf8') },
    port: 0,
    managementPort: 0,
    vaultLimits: new VaultRateLimiter(),
  });
});

afterAll(async () => {
  await gateway?.close();
  process.env = savedEnv;
  resetConfig();
  resetServices();
});

describe('per-vault limits', () => {
  it('throttle the key creation past the limit with a 429 the official SDK waits out, retries and succeeds', async () => {
    // The SDK as a user configures it: its default retry policy (three retries, honouring Retry-After).
    const keys = new KeyClient(vaultUrl(), adminSecretCredential(info), { disableChallengeResourceVerification: true });
    const started = Date.now();
    // The challenge round trip first, then the window's worth at once.
    await keys.createEcKey(uniqueName('limit'), { curve: 'P-256' });
    await Promise.all(Array.from({ length: VAULT_LIMITS.keyCreate - 1 }, () => keys.createEcKey(uniqueName('limit'), { curve: 'P-256' })));
    expect(Date.now() - started).toBeLessThan(10_000);

    // The window is full: the next creation is refused, in Azure's shape, with when to come back.
    const refused = await raw('POST', `${vaultUrl()}/keys/${uniqueName('over')}/create?api-version=7.5`, { body: { kty: 'EC', crv: 'P-256' } });
    expect(refused.status).toBe(429);
    expect(refused.json.error.code).toBe('Throttled');
    expect(typeof refused.json.error.message).toBe('string');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);

    // Reading is another kind, not held up by the creations.
    expect((await raw('GET', `${vaultUrl()}/keys?api-version=7.5`)).status).toBe(200);

    // The SDK meets the same 429, waits Retry-After and its retry is served.
    const beforeRetry = Date.now();
    const created = await keys.createEcKey(uniqueName('retried'), { curve: 'P-256' });
    expect(created.key?.kty).toBe('EC');
    expect(Date.now() - beforeRetry).toBeGreaterThanOrEqual(900);
  }, 60_000);

  it('leave a client with its retries off the 429 to handle itself', async () => {
    const keys = new KeyClient(vaultUrl(), adminSecretCredential(info), {
      disableChallengeResourceVerification: true,
      retryOptions: { maxRetries: 0 },
    });
    const outcomes = await Promise.allSettled(
      Array.from({ length: VAULT_LIMITS.keyCreate + 5 }, () => keys.createEcKey(uniqueName('burst'), { curve: 'P-256' })),
    );
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason.statusCode);
    expect(refused.length).toBeGreaterThanOrEqual(5);
    expect(new Set(refused)).toEqual(new Set([429]));
  }, 60_000);
});
