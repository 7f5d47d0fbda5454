import { KeyClient } from '@azure/keyvault-keys';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionEnvironment } from '../../dev/stack.ts';
import { KMSClient } from '../../lib/aws/api/kms.ts';
import { createLocalVault } from '../support/vaults.ts';
import { adminSecretCredential, localStack, uniqueName } from '../support/local.ts';

/**
 * A second, standard vault (the control plane creates it; the local stack's default vault is premium) through
 * the official KeyClient: software keys work, HSM-backed key types get Azure's 400. The client talks to
 * the local gateway and names the vault by its host, as it would `<vault>.vault.azure.net`. Backups
 * move between the two: software keys may, HSM keys may not (their material stays with their vault).
 */
const info = localStack();
let vaultName: string;
let kms: KMSClient;
let keys: KeyClient;

beforeAll(async () => {
  const env = functionEnvironment(info);
  kms = new KMSClient({
    endpoint: info.endpoints.kms,
    region: env.AWS_REGION!,
    credentials: () => ({ accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! }),
  });
  vaultName = (await createLocalVault('std', { sku: 'standard' })).name;
  const vaultHost: PipelinePolicy = {
    name: 'vault-host',
    sendRequest: (request, next) => {
      request.headers.set('host', `${vaultName}.${info.vaultDomain}`);
      return next(request);
    },
  };
  keys = new KeyClient(info.vaultUrl, adminSecretCredential(), {
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [{ policy: vaultHost, position: 'perRetry' }],
  });
});

afterAll(() => kms.destroy());

describe('a standard vault through KeyClient', () => {
  it('creates software keys in the vault its host names', async () => {
    const name = uniqueName('std-key');
    const key = await keys.createEcKey(name, { curve: 'P-256' });
    expect(key.keyType).toBe('EC');
    // Ids are built on the host the caller used, as Azure builds them on <vault>.vault.azure.net.
    expect(key.properties.vaultUrl).toBe(`https://${vaultName}.${info.vaultDomain}`);
    // The same name does not exist in the default vault: the host chose the vault.
    const defaultVault = new KeyClient(info.vaultUrl, adminSecretCredential(), {
      disableChallengeResourceVerification: true,
      retryOptions: { maxRetries: 0 },
    });
    await expect(defaultVault.getKey(name)).rejects.toMatchObject({ statusCode: 404, code: 'KeyNotFound' });
  });

  it.each([
    ['RSA-HSM', /requires a premium vault/, () => keys.createRsaKey(uniqueName('std-hsm'), { hsm: true })],
    ['EC-HSM', /requires a premium vault/, () => keys.createEcKey(uniqueName('std-hsm'), { hsm: true, curve: 'P-256' })],
    ['oct-HSM', /Managed HSM/, () => keys.createOctKey(uniqueName('std-hsm'), { hsm: true })],
    ['oct', /Managed HSM/, () => keys.createOctKey(uniqueName('std-oct'))],
  ] as const)('refuses %s with a 400 that says why', async (kty, why, create) => {
    const error = await create().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ statusCode: 400, code: 'BadParameter' });
    expect((error as Error).message).toContain(kty);
    expect((error as Error).message).toMatch(why);
  });

  it('refuses importing into the HSM', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const key = {
      kty: 'EC',
      crv: 'P-256',
      x: Buffer.from(jwk.x!, 'base64url'),
      y: Buffer.from(jwk.y!, 'base64url'),
      d: Buffer.from(jwk.d!, 'base64url'),
    };
    const error = await keys.importKey(uniqueName('std-import'), key, { hardwareProtected: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ statusCode: 400, code: 'BadParameter', message: expect.stringMatching(/requires a premium vault/) });
  });
});

describe('key backups across vaults through KeyClient', () => {
  const defaultVault = () =>
    new KeyClient(info.vaultUrl, adminSecretCredential(), { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });

  it('restores a software key taken in the default vault into another vault of the tenant', async () => {
    const name = uniqueName('moved');
    const original = await defaultVault().createRsaKey(name, { keySize: 2048 });
    const backup = await defaultVault().backupKey(name);
    const restored = await keys.restoreKeyBackup(backup!);
    expect(restored.name).toBe(name);
    expect(restored.properties.version).toBe(original.properties.version);
    expect(restored.key?.n).toEqual(original.key?.n);
    expect(restored.properties.vaultUrl).toBe(`https://${vaultName}.${info.vaultDomain}`);
  });

  it('refuses to restore an HSM key into a vault other than its own, and leaves the original usable', async () => {
    const name = uniqueName('hsm-moved');
    await defaultVault().createEcKey(name, { curve: 'P-256', hsm: true });
    const backup = await defaultVault().backupKey(name);
    const error = await keys.restoreKeyBackup(backup!).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ statusCode: 400, code: 'BadParameter', message: expect.stringMatching(/only into the vault it was taken from/) });
    await expect(keys.getKey(name)).rejects.toMatchObject({ statusCode: 404 });
    expect((await defaultVault().getKey(name)).keyType).toBe('EC-HSM');
  });
});
