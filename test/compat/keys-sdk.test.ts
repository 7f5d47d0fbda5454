import { constants, createHash, createPublicKey, generateKeyPairSync, publicEncrypt, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import {
  CryptographyClient,
  type RsaEncryptionAlgorithm,
  type JsonWebKey,
  KeyClient,
  type KeyVaultKey,
  type SignatureAlgorithm,
} from '@azure/keyvault-keys';
import { describe, expect, it } from 'vitest';
import { adminSecretCredential, localStack, uniqueName } from '../support/local.ts';

/**
 * The official @azure/keyvault-keys KeyClient and CryptographyClient against the local vault, for
 * software and HSM-backed keys. Every cryptographic operation runs in Coffer: the CryptographyClient
 * is told (by a 403 on its key download, the SDK's documented fallback) to do even public-key
 * operations remotely, and a policy records that each operation really went over the wire.
 */
const info = localStack();
const credential = adminSecretCredential(info);
const keys = new KeyClient(info.vaultUrl, credential, { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });

function remoteCrypto(key: KeyVaultKey) {
  const sent: string[] = [];
  const forceRemote: PipelinePolicy = {
    name: 'coffer-force-remote',
    sendRequest: async (request, next) => {
      const path = new URL(request.url).pathname;
      if (request.method === 'GET' && /^\/keys\/[^/]+\/[^/]*$/.test(path)) {
        return { request, status: 403, headers: request.headers, bodyAsText: '{"error":{"code":"Forbidden","message":"remote only"}}' };
      }
      sent.push(`${request.method} ${path.split('/').pop()}`);
      return next(request);
    },
  };
  const client = new CryptographyClient(key.id!, credential, {
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [{ policy: forceRemote, position: 'perCall' }],
  });
  return { client, sent };
}

const DIGESTS: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES256K: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};

function nodePublicKey(jwk: JsonWebKey) {
  const asJwk: Record<string, string> = { kty: jwk.kty!.replace('-HSM', '') };
  if (jwk.n) Object.assign(asJwk, { n: Buffer.from(jwk.n).toString('base64url'), e: Buffer.from(jwk.e!).toString('base64url') });
  if (jwk.x) {
    Object.assign(asJwk, {
      crv: jwk.crv === 'P-256K' ? 'secp256k1' : jwk.crv!,
      x: Buffer.from(jwk.x).toString('base64url'),
      y: Buffer.from(jwk.y!).toString('base64url'),
    });
  }
  return createPublicKey({ key: asJwk, format: 'jwk' });
}

/** Signs remotely, verifies remotely and with node:crypto; node:crypto's signature verifies remotely. */
async function provesSignatures(key: KeyVaultKey, algorithms: SignatureAlgorithm[]) {
  const { client, sent } = remoteCrypto(key);
  const publicKey = nodePublicKey(key.key!);
  for (const alg of algorithms) {
    const hash = DIGESTS[alg]!;
    const message = Buffer.from(`message for ${alg}`);
    const digest = createHash(hash).update(message).digest();
    const signed = await client.sign(alg, digest);
    expect(signed.keyID).toBe(key.id);
    expect((await client.verify(alg, digest, signed.result)).result).toBe(true);
    const tampered = Buffer.from(signed.result);
    tampered.writeUInt8(tampered.readUInt8(0) ^ 1, 0);
    expect((await client.verify(alg, digest, tampered)).result).toBe(false);

    const rsa = alg.startsWith('R') || alg.startsWith('P');
    const options = rsa
      ? { key: publicKey, padding: alg.startsWith('P') ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING, saltLength: digest.length }
      : { key: publicKey, dsaEncoding: 'ieee-p1363' as const };
    expect(nodeVerify(hash, message, options, Buffer.from(signed.result))).toBe(true);
  }
  expect(sent.filter((s) => s === 'POST sign').length).toBe(algorithms.length);
  expect(sent.filter((s) => s === 'POST verify').length).toBe(algorithms.length * 2);
}

async function provesEncryption(key: KeyVaultKey, algorithms: RsaEncryptionAlgorithm[]) {
  const { client, sent } = remoteCrypto(key);
  const publicKey = nodePublicKey(key.key!);
  for (const alg of algorithms) {
    const plaintext = Buffer.from(`secret data for ${alg}`);
    const encrypted = await client.encrypt({ algorithm: alg, plaintext });
    expect(Buffer.from(encrypted.result).equals(plaintext)).toBe(false);
    expect(Buffer.from((await client.decrypt({ algorithm: alg, ciphertext: encrypted.result })).result)).toEqual(plaintext);

    const padding = alg === 'RSA1_5' ? constants.RSA_PKCS1_PADDING : constants.RSA_PKCS1_OAEP_PADDING;
    const fromNode = publicEncrypt({ key: publicKey, padding, ...(alg === 'RSA-OAEP-256' ? { oaepHash: 'sha256' } : {}) }, plaintext);
    expect(Buffer.from((await client.decrypt({ algorithm: alg, ciphertext: fromNode })).result)).toEqual(plaintext);

    const dataKey = Buffer.alloc(32, 7);
    const wrapped = await client.wrapKey(alg as 'RSA-OAEP', dataKey);
    expect(Buffer.from((await client.unwrapKey(alg as 'RSA-OAEP', wrapped.result)).result)).toEqual(dataKey);
  }
  for (const op of ['encrypt', 'decrypt', 'wrapkey', 'unwrapkey']) expect(sent).toContain(`POST ${op}`);
}

describe('software keys through KeyClient and a remote CryptographyClient', () => {
  it('creates an RSA key and performs every RSA operation and algorithm', async () => {
    const key = await keys.createRsaKey(uniqueName('rsa'), { keySize: 2048 });
    expect(key.keyType).toBe('RSA');
    expect(key.keyOperations?.sort()).toEqual(['decrypt', 'encrypt', 'sign', 'unwrapKey', 'verify', 'wrapKey']);
    expect(key.key?.d).toBeUndefined();
    await provesEncryption(key, ['RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5']);
    await provesSignatures(key, ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);
  });

  it.each([
    ['P-256', ['ES256']],
    ['P-256K', ['ES256K']],
    ['P-384', ['ES384']],
    ['P-521', ['ES512']],
  ] as const)('creates an EC %s key that signs raw R||S signatures', async (curve, algorithms) => {
    const key = await keys.createEcKey(uniqueName('ec'), { curve });
    expect(key.key?.crv).toBe(curve);
    await provesSignatures(key, [...algorithms]);
  });

  it('imports RSA and EC keys (bring your own key) that sign what node:crypto verifies', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaJwk = rsa.privateKey.export({ format: 'jwk' });
    const imported = await keys.importKey(uniqueName('byok-rsa'), toAzureJwk(rsaJwk));
    expect(Buffer.from(imported.key!.n!).toString('base64url')).toBe(rsaJwk.n);
    await provesSignatures(imported, ['RS256', 'PS256']);

    const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const importedEc = await keys.importKey(uniqueName('byok-ec'), toAzureJwk(ec.privateKey.export({ format: 'jwk' })));
    await provesSignatures(importedEc, ['ES384']);
    // Coffer's signature verifies under the caller's own key.
    const digest = createHash('sha384').update('x').digest();
    const { client } = remoteCrypto(importedEc);
    const signature = (await client.sign('ES384', digest)).result;
    expect(nodeVerify('sha384', Buffer.from('x'), { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature))).toBe(true);
    // And node:crypto's signature under the imported key verifies in Coffer.
    const nodeSignature = nodeSign('sha384', Buffer.from('x'), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
    expect((await client.verify('ES384', digest, nodeSignature)).result).toBe(true);
  });
});

describe('HSM-backed keys (material in KMS)', () => {
  it('RSA-HSM for encryption: OAEP and OAEP-256 remotely, RSA1_5 refused clearly', async () => {
    const key = await keys.createKey(uniqueName('hsm-rsa-enc'), 'RSA-HSM', { keySize: 3072, keyOps: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'] });
    expect(key.keyType).toBe('RSA-HSM');
    expect(Buffer.from(key.key!.n!).length).toBe(384);
    await provesEncryption(key, ['RSA-OAEP', 'RSA-OAEP-256']);
    const { client } = remoteCrypto(key);
    await expect(client.encrypt({ algorithm: 'RSA1_5', plaintext: Buffer.from('x') })).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringMatching(/RSA1_5.*not supported.*HSM/),
    });
  });

  it('RSA-HSM for signing: RS* and PS* through KMS', async () => {
    const key = await keys.createKey(uniqueName('hsm-rsa-sig'), 'RSA-HSM', { keyOps: ['sign', 'verify'] });
    await provesSignatures(key, ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);
  });

  it.each([
    ['P-256', ['ES256']],
    ['P-256K', ['ES256K']],
    ['P-384', ['ES384']],
    ['P-521', ['ES512']],
  ] as const)('EC-HSM %s signs through KMS, converted from DER to raw R||S', async (curve, algorithms) => {
    const key = await keys.createEcKey(uniqueName('hsm-ec'), { curve, hsm: true });
    expect(key.keyType).toBe('EC-HSM');
    await provesSignatures(key, [...algorithms]);
  });

  it('imports a key into KMS with Hsm: true', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = await keys.importKey(uniqueName('byok-hsm'), toAzureJwk(ec.privateKey.export({ format: 'jwk' })), { hardwareProtected: true });
    expect(key.keyType).toBe('EC-HSM');
    await provesSignatures(key, ['ES256']);
  });

  it('refuses an RSA-HSM key asked to both sign and encrypt, saying why', async () => {
    await expect(keys.createKey(uniqueName('both'), 'RSA-HSM', { keyOps: ['sign', 'encrypt'] })).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringMatching(/either signs or encrypts/),
    });
  });
});

describe('key management through KeyClient', () => {
  it('gets, updates, lists with paging, and lists versions', async () => {
    const name = uniqueName('mgmt');
    const first = await keys.createEcKey(name, { tags: { a: '1' } });
    const second = await keys.createEcKey(name);
    expect((await keys.getKey(name)).id).toBe(second.id);
    expect((await keys.getKey(name, { version: first.properties.version })).id).toBe(first.id);
    const updated = await keys.updateKeyProperties(name, first.properties.version!, { enabled: false, tags: { b: '2' }, keyOps: ['verify'] });
    expect(updated.properties.enabled).toBe(false);
    expect(updated.properties.tags).toEqual({ b: '2' });
    expect(updated.keyOperations).toEqual(['verify']);

    let versions = 0;
    for await (const page of keys.listPropertiesOfKeyVersions(name).byPage({ maxPageSize: 1 })) versions += page.length;
    expect(versions).toBe(2);
    const names: string[] = [];
    for await (const page of keys.listPropertiesOfKeys().byPage({ maxPageSize: 3 })) names.push(...page.map((p) => p.name));
    expect(names).toContain(name);
  });

  it('deletes and recovers through the pollers, purges, and refuses operations on a disabled key', async () => {
    const name = uniqueName('life');
    const key = await keys.createRsaKey(name, { keyOps: ['sign', 'verify'] });
    await keys.updateKeyProperties(name, key.properties.version!, { enabled: false });
    const { client } = remoteCrypto(key);
    await expect(client.sign('RS256', Buffer.alloc(32))).rejects.toMatchObject({ statusCode: 403, code: 'Forbidden' });

    const deleted = await (await keys.beginDeleteKey(name, { intervalInMs: 50 })).pollUntilDone();
    expect(deleted.properties.recoveryId).toBe(`${info.vaultUrl}/deletedkeys/${name}`);
    expect((await keys.getDeletedKey(name)).name).toBe(name);
    const deletedNames: string[] = [];
    for await (const d of keys.listDeletedKeys()) deletedNames.push(d.name);
    expect(deletedNames).toContain(name);
    await (await keys.beginRecoverDeletedKey(name, { intervalInMs: 50 })).pollUntilDone();
    expect((await keys.getKey(name)).name).toBe(name);
    await (await keys.beginDeleteKey(name, { intervalInMs: 50 })).pollUntilDone();
    await keys.purgeDeletedKey(name);
    await expect(keys.getDeletedKey(name)).rejects.toMatchObject({ statusCode: 404, code: 'KeyNotFound' });
  });

  it('backs up and restores software and HSM keys', async () => {
    for (const hsm of [false, true]) {
      const name = uniqueName(hsm ? 'bak-hsm' : 'bak');
      const key = await keys.createEcKey(name, { hsm });
      const backup = await keys.backupKey(name);
      await (await keys.beginDeleteKey(name, { intervalInMs: 50 })).pollUntilDone();
      await keys.purgeDeletedKey(name);
      const restored = await keys.restoreKeyBackup(backup!);
      expect(restored.id).toBe(key.id);
      await provesSignatures(restored, ['ES256']);
    }
  });

  it('rotates a key and keeps a rotation policy with the default Notify action', async () => {
    const name = uniqueName('rot');
    const key = await keys.createRsaKey(name, { keySize: 2048, keyOps: ['sign', 'verify'], tags: { team: 'x' } });
    const initial = await keys.getKeyRotationPolicy(name);
    expect(initial.lifetimeActions).toEqual([{ action: 'Notify', timeBeforeExpiry: 'P30D' }]);
    const policy = await keys.updateKeyRotationPolicy(name, { lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P90D' }], expiresIn: 'P1Y' });
    expect(policy.expiresIn).toBe('P1Y');
    expect(policy.lifetimeActions).toEqual(
      expect.arrayContaining([
        { action: 'Rotate', timeAfterCreate: 'P90D' },
        { action: 'Notify', timeBeforeExpiry: 'P30D' },
      ]),
    );
    const rotated = await keys.rotateKey(name);
    expect(rotated.properties.version).not.toBe(key.properties.version);
    expect(rotated.keyOperations).toEqual(['sign', 'verify']);
    expect(rotated.properties.tags).toEqual({ team: 'x' });
    const year = rotated.properties.expiresOn!.getTime() - rotated.properties.createdOn!.getTime();
    expect(Math.round(year / 86_400_000)).toBe(365);
  });

  it('refuses releaseKey and getKeyAttestation with a not-supported 400 the SDK surfaces', async () => {
    const name = uniqueName('release');
    await keys.createEcKey(name);
    await expect(keys.releaseKey(name, 'attestation-token')).rejects.toMatchObject({
      statusCode: 400,
      code: 'BadParameter',
      message: expect.stringMatching(/Secure key release is not supported/),
    });
    await expect(keys.getKeyAttestation(name)).rejects.toMatchObject({
      statusCode: 400,
      code: 'BadParameter',
      message: expect.stringMatching(/Key attestation is not supported/),
    });
  });

  it('returns random bytes from the HSM', async () => {
    const bytes = await keys.getRandomBytes(64);
    expect(bytes).toHaveLength(64);
    expect(Buffer.from(bytes).equals(Buffer.from(await keys.getRandomBytes(64)))).toBe(false);
    await expect(keys.getRandomBytes(129)).rejects.toMatchObject({ statusCode: 400 });
  });
});

function toAzureJwk(jwk: Record<string, unknown>): JsonWebKey {
  const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.from(value, 'base64url') : undefined);
  const out: JsonWebKey = { kty: jwk.kty as 'RSA' | 'EC' };
  for (const member of ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi', 'x', 'y'] as const) {
    const value = bytes(jwk[member]);
    if (value) (out as Record<string, unknown>)[member] = value;
  }
  if (jwk.crv) out.crv = (jwk.crv === 'secp256k1' ? 'P-256K' : jwk.crv) as JsonWebKey['crv'];
  return out;
}
