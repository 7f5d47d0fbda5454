/**
 * The keys domain's rules through KeyService with software keys, on the in-memory store with real
 * envelope encryption: no DynamoDB, no KMS, no HTTP. The HSM port is a stand-in that fails the test
 * if anything reaches it, since nothing here may need KMS.
 */
import { constants, createHash, createPublicKey, generateKeyPairSync, publicEncrypt, verify as verifyWithNode } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { BadParameter, Forbidden } from '../../lib/core/errors.ts';
import type { HsmKeys } from '../../lib/keys/hsm.ts';
import { generateSoftwareKey } from '../../lib/keys/jwk.ts';
import { KeyService } from '../../lib/keys/keys.ts';
import { type KeyMeta, softwarePlain, storedPlain } from '../../lib/keys/layout.ts';
import type { KeyOperationRecord, VerifyRecord } from '../../lib/keys/records.ts';
import { newVersionId } from '../../lib/objects/rules.ts';
import { SealedContent } from '../../lib/objects/sealing.ts';
import type { VaultAddress } from '../../lib/vaults/vault.ts';
import { addressOf, answerOf, domainParts, testClock, testVault, vaultErrorOf } from '../support/domain.ts';

const hsmCalls: string[] = [];

/** Every call is recorded and refused: software keys never reach the HSM port. */
const unreachableHsm = new Proxy({} as HsmKeys, {
  get: (_target, method) => async () => {
    hsmCalls.push(String(method));
    throw new Error(`the HSM port was called (${String(method)}) for a software key`);
  },
});

const warnings: string[] = [];

let clock: ReturnType<typeof testClock>;
let parts: ReturnType<typeof domainParts>;
let keys: KeyService;
let at: VaultAddress;

beforeEach(() => {
  hsmCalls.length = 0;
  warnings.length = 0;
  clock = testClock();
  parts = domainParts();
  keys = new KeyService(parts.store, parts.sealer, parts.backups, unreachableHsm, (message) => warnings.push(message), {}, clock.now);
  at = addressOf(testVault());
});

function digestOf(message: string, hash = 'sha256'): Buffer {
  return createHash(hash).update(message).digest();
}

async function sign(name: string, alg: string, digest: Buffer, version?: string): Promise<KeyOperationRecord> {
  return (await keys.operate(at, name, version, 'sign', { alg, value: digest.toString('base64url') })) as KeyOperationRecord;
}

async function verify(name: string, alg: string, digest: Buffer, signature: Uint8Array): Promise<boolean> {
  const input = { alg, digest: digest.toString('base64url'), value: Buffer.from(signature).toString('base64url') };
  return ((await keys.operate(at, name, undefined, 'verify', input)) as VerifyRecord).valid;
}

async function encrypt(name: string, plaintext: Buffer, alg = 'RSA-OAEP-256'): Promise<KeyOperationRecord> {
  return (await keys.operate(at, name, undefined, 'encrypt', { alg, value: plaintext.toString('base64url') })) as KeyOperationRecord;
}

async function decrypt(name: string, ciphertext: Uint8Array, alg = 'RSA-OAEP-256', version?: string): Promise<Buffer> {
  const record = (await keys.operate(at, name, version, 'decrypt', {
    alg,
    value: Buffer.from(ciphertext).toString('base64url'),
  })) as KeyOperationRecord;
  return Buffer.from(record.result);
}

describe('KeyService: software keys', () => {
  it('creates an RSA key with Azure defaults: 2048 bits, e = AQAB, every RSA operation', async () => {
    const key = await keys.create(at, 'rsa-key', { kty: 'RSA', tags: { team: 'a' } });
    expect(key).toMatchObject({ name: 'rsa-key', kty: 'RSA', hsmBacked: false, tags: { team: 'a' } });
    expect(key.keyOps).toEqual(['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey']);
    expect(key.publicKey.kty).toBe('RSA');
    expect(key.publicKey.e).toBe('AQAB');
    expect(Buffer.from(key.publicKey.n ?? '', 'base64url')).toHaveLength(256);
    expect(key.attributes).toEqual({ enabled: true, created: clock.now(), updated: clock.now() });
    expect(await keys.get(at, 'rsa-key', undefined)).toEqual(key);
    expect(hsmCalls).toEqual([]);
  });

  it('creates an EC key on the requested curve that only signs and verifies', async () => {
    const key = await keys.create(at, 'ec-key', { kty: 'EC', crv: 'P-384' });
    expect(key).toMatchObject({ kty: 'EC', hsmBacked: false, keyOps: ['sign', 'verify'] });
    expect(key.publicKey.crv).toBe('P-384');
    expect(Buffer.from(key.publicKey.x ?? '', 'base64url')).toHaveLength(48);
    expect(Buffer.from(key.publicKey.y ?? '', 'base64url')).toHaveLength(48);
    expect(key.publicKey.n).toBeUndefined();
  });

  it('refuses what a key type cannot have with 400: encryption ops on EC, crv on RSA, an unknown size', async () => {
    for (const input of [
      { kty: 'EC', key_ops: ['encrypt'] },
      { kty: 'RSA', crv: 'P-256' },
      { kty: 'RSA', key_size: 1024 },
      { kty: 'EC', crv: 'P-192' },
      { kty: 'oct' },
      { kty: 'RSA', key_ops: ['fly'] },
    ]) {
      const error = await vaultErrorOf(keys.create(at, 'refused', input));
      expect(error).toBeInstanceOf(BadParameter);
      expect(answerOf(error)).toEqual({ status: 400, code: 'BadParameter', innerCode: undefined });
    }
    expect(answerOf(await vaultErrorOf(keys.get(at, 'refused', undefined)))).toEqual({ status: 404, code: 'KeyNotFound', innerCode: undefined });
  });

  it('refuses HSM key types in a standard vault with 400, before any KMS call', async () => {
    for (const kty of ['RSA-HSM', 'EC-HSM']) {
      const error = await vaultErrorOf(keys.create(at, 'hsm-key', { kty }));
      expect(error).toBeInstanceOf(BadParameter);
      expect(error.status).toBe(400);
      expect(error.message).toBe(`Key type '${kty}' requires a premium vault; this vault is standard.`);
    }
    expect(hsmCalls).toEqual([]);
  });
});

describe('KeyService: signatures', () => {
  it.each([
    { kty: 'RSA', alg: 'RS256', hash: 'sha256' },
    { kty: 'RSA', alg: 'PS384', hash: 'sha384' },
    { kty: 'EC', crv: 'P-256', alg: 'ES256', hash: 'sha256' },
    { kty: 'EC', crv: 'P-521', alg: 'ES512', hash: 'sha512' },
  ])('$alg: signs a digest that verifies here and with node:crypto, and a changed digest does not verify', async ({ kty, crv, alg, hash }) => {
    const key = await keys.create(at, 'signer', { kty, ...(crv ? { crv } : {}) });
    const digest = digestOf('the message', hash);
    const signed = await sign('signer', alg, digest);
    expect(signed).toMatchObject({ name: 'signer', version: key.version });

    expect(await verify('signer', alg, digest, signed.result)).toBe(true);
    expect(await verify('signer', alg, digestOf('another message', hash), signed.result)).toBe(false);

    const publicKey = createPublicKey({ key: { ...key.publicKey }, format: 'jwk' });
    const options =
      kty === 'EC'
        ? { key: publicKey, dsaEncoding: 'ieee-p1363' as const }
        : alg.startsWith('PS')
          ? { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
          : { key: publicKey };
    expect(verifyWithNode(hash, Buffer.from('the message'), options, signed.result)).toBe(true);
  });

  it('refuses a digest of the wrong length and an algorithm of another key type with 400', async () => {
    await keys.create(at, 'signer', { kty: 'EC', crv: 'P-256' });
    expect(answerOf(await vaultErrorOf(sign('signer', 'ES256', digestOf('m', 'sha384'))))).toEqual({
      status: 400,
      code: 'BadParameter',
      innerCode: undefined,
    });
    expect((await vaultErrorOf(sign('signer', 'RS256', digestOf('m')))).status).toBe(400);
    expect((await vaultErrorOf(sign('signer', 'ES384', digestOf('m', 'sha384')))).status).toBe(400);
  });
});

describe('KeyService: encryption', () => {
  it('decrypts what it encrypts, and what node:crypto encrypts to its public key', async () => {
    const key = await keys.create(at, 'cipher', { kty: 'RSA', key_size: 3072 });
    const plaintext = Buffer.from('a data key of 32 bytes, or so...');

    const encrypted = await encrypt('cipher', plaintext);
    expect(encrypted).toMatchObject({ name: 'cipher', version: key.version });
    expect(encrypted.result).toHaveLength(384);
    expect(Buffer.from(encrypted.result).equals(plaintext)).toBe(false);
    expect((await decrypt('cipher', encrypted.result)).equals(plaintext)).toBe(true);

    const fromNode = publicEncrypt(
      { key: createPublicKey({ key: { ...key.publicKey }, format: 'jwk' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      plaintext,
    );
    expect((await decrypt('cipher', fromNode, 'RSA-OAEP')).equals(plaintext)).toBe(true);
  });

  it('wraps and unwraps a key', async () => {
    await keys.create(at, 'wrapper', { kty: 'RSA' });
    const dataKey = Buffer.alloc(32, 7);
    const wrapped = (await keys.operate(at, 'wrapper', undefined, 'wrapKey', {
      alg: 'RSA-OAEP',
      value: dataKey.toString('base64url'),
    })) as KeyOperationRecord;
    const unwrapped = (await keys.operate(at, 'wrapper', undefined, 'unwrapKey', {
      alg: 'RSA-OAEP',
      value: Buffer.from(wrapped.result).toString('base64url'),
    })) as KeyOperationRecord;
    expect(Buffer.from(unwrapped.result).equals(dataKey)).toBe(true);
  });

  it('refuses a plaintext longer than the key and algorithm allow with 400', async () => {
    await keys.create(at, 'small', { kty: 'RSA' });
    // RSA-OAEP-256 on 2048 bits: 256 - 2 * 32 - 2 = 190 bytes.
    expect((await encrypt('small', Buffer.alloc(190))).result).toHaveLength(256);
    const error = await vaultErrorOf(encrypt('small', Buffer.alloc(191)));
    expect(error).toBeInstanceOf(BadParameter);
    expect(error.message).toContain('at most 190 bytes');
  });
});

describe('KeyService: what a key may do', () => {
  it('enforces key_ops (403 KeyOperationForbidden), and an update of key_ops changes what is allowed', async () => {
    await keys.create(at, 'sign-only', { kty: 'RSA', key_ops: ['sign', 'verify'] });
    const refused = await vaultErrorOf(encrypt('sign-only', Buffer.from('x')));
    expect(refused).toBeInstanceOf(Forbidden);
    expect(answerOf(refused)).toEqual({ status: 403, code: 'Forbidden', innerCode: 'KeyOperationForbidden' });
    expect(refused.message).toBe('Operation encrypt is not permitted on this key.');
    expect((await sign('sign-only', 'RS256', digestOf('m'))).result).toHaveLength(256);

    const updated = await keys.update(at, 'sign-only', undefined, { key_ops: ['verify', 'encrypt'] });
    expect(updated.keyOps).toEqual(['verify', 'encrypt']);
    expect(answerOf(await vaultErrorOf(sign('sign-only', 'RS256', digestOf('m'))))).toEqual({
      status: 403,
      code: 'Forbidden',
      innerCode: 'KeyOperationForbidden',
    });
    expect((await encrypt('sign-only', Buffer.from('x'))).result).toHaveLength(256);
  });

  it('refuses every operation on a disabled key (403 KeyDisabled)', async () => {
    const key = await keys.create(at, 'disabled', { kty: 'RSA', attributes: { enabled: false } });
    expect(key.attributes.enabled).toBe(false);
    const signature = await vaultErrorOf(sign('disabled', 'RS256', digestOf('m')));
    expect(answerOf(signature)).toEqual({ status: 403, code: 'Forbidden', innerCode: 'KeyDisabled' });
    const verification = await vaultErrorOf(verify('disabled', 'RS256', digestOf('m'), Buffer.alloc(256)));
    expect(answerOf(verification)).toEqual({ status: 403, code: 'Forbidden', innerCode: 'KeyDisabled' });
    expect(answerOf(await vaultErrorOf(decrypt('disabled', Buffer.alloc(256))))).toEqual({
      status: 403,
      code: 'Forbidden',
      innerCode: 'KeyDisabled',
    });

    await keys.update(at, 'disabled', undefined, { attributes: { enabled: true } });
    expect((await sign('disabled', 'RS256', digestOf('m'))).result).toHaveLength(256);
  });

  it('before nbf refuses sign and encrypt (403 KeyNotYetValid) but verifies and decrypts; from nbf on it signs', async () => {
    await keys.create(at, 'future', { kty: 'RSA', attributes: { nbf: clock.now() + 100 } });
    const early = await vaultErrorOf(sign('future', 'RS256', digestOf('m')));
    expect(answerOf(early)).toEqual({ status: 403, code: 'Forbidden', innerCode: 'KeyNotYetValid' });
    expect(answerOf(await vaultErrorOf(encrypt('future', Buffer.from('x'))))).toEqual({
      status: 403,
      code: 'Forbidden',
      innerCode: 'KeyNotYetValid',
    });
    expect(await verify('future', 'RS256', digestOf('m'), Buffer.alloc(256))).toBe(false);

    clock.advance(100);
    const signed = await sign('future', 'RS256', digestOf('m'));
    const encrypted = await encrypt('future', Buffer.from('x'));
    clock.advance(-1);
    expect(await verify('future', 'RS256', digestOf('m'), signed.result)).toBe(true);
    expect((await decrypt('future', encrypted.result)).toString()).toBe('x');
  });

  it('after exp refuses sign and encrypt (403 KeyExpired) but still verifies and decrypts', async () => {
    await keys.create(at, 'expiring', { kty: 'RSA', attributes: { exp: clock.now() + 100 } });
    clock.advance(100);
    const signed = await sign('expiring', 'RS256', digestOf('m'));
    const encrypted = await encrypt('expiring', Buffer.from('kept'));

    clock.advance(1);
    expect(answerOf(await vaultErrorOf(sign('expiring', 'RS256', digestOf('m'))))).toEqual({
      status: 403,
      code: 'Forbidden',
      innerCode: 'KeyExpired',
    });
    expect(answerOf(await vaultErrorOf(encrypt('expiring', Buffer.from('x'))))).toEqual({ status: 403, code: 'Forbidden', innerCode: 'KeyExpired' });
    expect(await verify('expiring', 'RS256', digestOf('m'), signed.result)).toBe(true);
    expect((await decrypt('expiring', encrypted.result)).toString()).toBe('kept');
  });
});

describe('KeyService: rotation', () => {
  it('makes a new latest version like the old one, with new material, and keeps the old version usable', async () => {
    const original = await keys.create(at, 'rotated', { kty: 'EC', crv: 'P-256', key_ops: ['sign', 'verify'], tags: { owner: 'ops' } });
    const oldSignature = await sign('rotated', 'ES256', digestOf('m'));
    clock.advance(60);

    const rotated = await keys.rotate(at, 'rotated');
    expect(rotated.version).not.toBe(original.version);
    expect(rotated).toMatchObject({ name: 'rotated', kty: 'EC', keyOps: ['sign', 'verify'], tags: { owner: 'ops' }, hsmBacked: false });
    expect(rotated.publicKey.crv).toBe('P-256');
    expect(rotated.publicKey.x).not.toBe(original.publicKey.x);
    expect(rotated.attributes.created).toBe(clock.now());

    expect((await keys.get(at, 'rotated', undefined)).version).toBe(rotated.version);
    expect(await keys.get(at, 'rotated', original.version)).toEqual(original);
    expect((await keys.listVersions(at, 'rotated', 25)).items).toHaveLength(2);

    // The latest version verifies only its own signatures; the old one still verifies by its version.
    expect(await verify('rotated', 'ES256', digestOf('m'), oldSignature.result)).toBe(false);
    const byOldVersion = (await keys.operate(at, 'rotated', original.version, 'verify', {
      alg: 'ES256',
      digest: digestOf('m').toString('base64url'),
      value: Buffer.from(oldSignature.result).toString('base64url'),
    })) as VerifyRecord;
    expect(byOldVersion).toEqual({ name: 'rotated', version: original.version, valid: true });
    expect(hsmCalls).toEqual([]);
  });

  it('rotates an RSA key to the same size and exponent', async () => {
    const original = await keys.create(at, 'rsa-rotated', { kty: 'RSA', key_size: 3072 });
    const rotated = await keys.rotate(at, 'rsa-rotated');
    expect(Buffer.from(rotated.publicKey.n ?? '', 'base64url')).toHaveLength(384);
    expect(rotated.publicKey.e).toBe(original.publicKey.e);
    expect(rotated.publicKey.n).not.toBe(original.publicKey.n);
  });
});

describe('KeyService: life cycle', () => {
  it('soft-deletes, recovers and refuses to purge in a vault with purge protection (403 PurgeProtected)', async () => {
    const protectedAt = addressOf(testVault({ name: 'protectedkeys', purgeProtection: true }));
    const key = await keys.create(protectedAt, 'kept', { kty: 'EC' });
    const deleted = await keys.delete(protectedAt, 'kept');
    expect(deleted).toMatchObject({ name: 'kept', version: key.version, deletedDate: clock.now(), scheduledPurgeDate: clock.now() + 7 * 86_400 });
    expect(answerOf(await vaultErrorOf(keys.get(protectedAt, 'kept', undefined)))).toEqual({
      status: 404,
      code: 'KeyNotFound',
      innerCode: undefined,
    });
    expect(answerOf(await vaultErrorOf(keys.create(protectedAt, 'kept', { kty: 'EC' })))).toEqual({
      status: 409,
      code: 'Conflict',
      innerCode: 'ObjectIsDeletedButRecoverable',
    });
    expect(answerOf(await vaultErrorOf(keys.purge(protectedAt, 'kept')))).toEqual({ status: 403, code: 'Forbidden', innerCode: 'PurgeProtected' });

    expect((await keys.recover(protectedAt, 'kept')).version).toBe(key.version);
    expect(await keys.get(protectedAt, 'kept', undefined)).toEqual(key);
    expect(hsmCalls).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('backs up, purges and restores a key whose restored private key still signs', async () => {
    const key = await keys.create(at, 'saved', { kty: 'RSA' });
    const blob = await keys.backup(at, 'saved');
    await keys.delete(at, 'saved');
    await keys.purge(at, 'saved');
    expect(answerOf(await vaultErrorOf(keys.getDeleted(at, 'saved')))).toEqual({ status: 404, code: 'KeyNotFound', innerCode: undefined });

    const restored = await keys.restore(at, blob);
    expect(restored).toEqual(key);
    const signed = await sign('saved', 'RS256', digestOf('m'));
    expect(await verify('saved', 'RS256', digestOf('m'), signed.result)).toBe(true);
    expect(answerOf(await vaultErrorOf(keys.restore(at, blob)))).toEqual({ status: 409, code: 'Conflict', innerCode: undefined });
  });
});

describe('KeyService: rotation policy', () => {
  it('keeps the policy created date across updates and moves only updated', async () => {
    await keys.create(at, 'policied', { kty: 'EC' });
    const body = { lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } }], attributes: { expiryTime: 'P90D' } };
    const first = await keys.setRotationPolicy(at, 'policied', body);
    const created = first.policy.attributes.created;
    clock.advance(3_600);
    const second = await keys.setRotationPolicy(at, 'policied', body);
    expect(second.policy.attributes.created).toBe(created);
    expect(second.policy.attributes.updated).toBe((created ?? 0) + 3_600);
    expect((await keys.getRotationPolicy(at, 'policied')).policy.attributes.created).toBe(created);
  });
});

/**
 * A certificate's key, written as the certificates domain writes it (plain.managed) and sealed as the
 * service seals a software key: straight into the store, since no keys operation makes one.
 */
async function addManagedKey(address: VaultAddress, name: string, hsmArn?: string): Promise<string> {
  const content = new SealedContent<KeyMeta>(parts.sealer, 'keys');
  const place = { name, version: newVersionId() };
  const generated = await generateSoftwareKey({ kind: 'EC', curve: 'P-256' });
  const plain = softwarePlain('EC', generated, ['sign', 'verify'], undefined);
  await parts.store.addVersion(address.vault.name, 'keys', {
    ...place,
    attributes: { enabled: true, created: clock.now(), updated: clock.now() },
    meta: await content.sealMeta(address.vault, place, { tags: { owner: 'certificate' } }),
    // An HSM version names its KMS key and keeps no private key; a software one keeps it sealed.
    ...(hsmArn ? {} : { secret: await content.sealSecret(address.vault, place, generated.privatePkcs8) }),
    plain: storedPlain({ ...plain, ...(hsmArn ? { kty: 'EC-HSM', hsmArn, hsmUsage: 'SIGN_VERIFY' } : {}), managed: true }),
  });
  return place.version;
}

/** Azure's refusal of a direct change of a certificate's key. */
async function expectManagedRefusal(call: Promise<unknown>, operation: string): Promise<void> {
  const error = await vaultErrorOf(call);
  expect(error).toBeInstanceOf(Forbidden);
  expect(answerOf(error)).toEqual({ status: 403, code: 'Forbidden', innerCode: 'KeyManagedByKeyVault' });
  expect(error.message).toBe(`Operation "${operation}" is not allowed as this object's lifetime is managed by Key Vault.`);
}

function privateEcJwk(): Record<string, unknown> {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
}

const deletionDates = () => ({ deletedDate: clock.now(), scheduledPurgeDate: clock.now() + 7 * 86_400 });

describe("KeyService: a certificate's managed key", () => {
  it('reads, signs and verifies like any key, and answers managed', async () => {
    const version = await addManagedKey(at, 'cert');
    const read = await keys.get(at, 'cert', undefined);
    expect(read).toMatchObject({ name: 'cert', version, kty: 'EC', managed: true, keyOps: ['sign', 'verify'], tags: { owner: 'certificate' } });
    expect((await keys.list(at, 25)).items).toEqual([read]);
    const signed = await sign('cert', 'ES256', digestOf('m'));
    expect(signed.version).toBe(version);
    expect(await verify('cert', 'ES256', digestOf('m'), signed.result)).toBe(true);
    expect((await keys.getRotationPolicy(at, 'cert')).name).toBe('cert');
  });

  it('refuses create, import, update, delete, backup, rotate and a rotation policy with 403 KeyManagedByKeyVault, and nothing changes', async () => {
    const version = await addManagedKey(at, 'cert');
    const before = await keys.get(at, 'cert', undefined);
    const policyBefore = await keys.getRotationPolicy(at, 'cert');
    const policy = { lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Rotate' } }], attributes: { expiryTime: 'P90D' } };

    await expectManagedRefusal(keys.create(at, 'cert', { kty: 'EC' }), 'create');
    await expectManagedRefusal(keys.create(at, 'CERT', { kty: 'RSA' }), 'create');
    await expectManagedRefusal(keys.import(at, 'cert', { key: privateEcJwk() }), 'import');
    await expectManagedRefusal(keys.update(at, 'cert', undefined, { tags: { changed: 'yes' } }), 'update');
    await expectManagedRefusal(keys.update(at, 'cert', version, { key_ops: ['verify'] }), 'update');
    await expectManagedRefusal(keys.delete(at, 'cert'), 'delete');
    await expectManagedRefusal(keys.backup(at, 'cert'), 'backup');
    await expectManagedRefusal(keys.rotate(at, 'cert'), 'rotate');
    await expectManagedRefusal(keys.setRotationPolicy(at, 'cert', policy), 'setrotationpolicy');

    expect(await keys.get(at, 'cert', undefined)).toEqual(before);
    expect((await keys.listVersions(at, 'cert', 25)).items.map((v) => v.version)).toEqual([version]);
    expect((await keys.listDeleted(at, 25)).items).toEqual([]);
    expect(await keys.getRotationPolicy(at, 'cert')).toEqual(policyBefore);
    expect(await verify('cert', 'ES256', digestOf('m'), (await sign('cert', 'ES256', digestOf('m'))).result)).toBe(true);
    expect(hsmCalls).toEqual([]);
  });

  it('refuses an HSM create or import onto a managed name before any KMS call', async () => {
    const premium = addressOf(testVault({ name: 'premiumvault', sku: 'premium' }));
    await addManagedKey(premium, 'cert');
    await expectManagedRefusal(keys.create(premium, 'cert', { kty: 'EC-HSM' }), 'create');
    await expectManagedRefusal(keys.import(premium, 'cert', { key: privateEcJwk(), Hsm: true }), 'import');
    expect(hsmCalls).toEqual([]);
    expect((await keys.listVersions(premium, 'cert', 25)).items).toHaveLength(1);
  });

  it('refuses delete, rotate, recover and purge of a managed HSM key before touching its KMS key', async () => {
    const premium = addressOf(testVault({ name: 'premiumvault', sku: 'premium' }));
    const version = await addManagedKey(premium, 'cert', 'arn:aws:kms:eu-west-1:000000000000:key/managed');
    await expectManagedRefusal(keys.delete(premium, 'cert'), 'delete');
    await expectManagedRefusal(keys.rotate(premium, 'cert'), 'rotate');
    await expectManagedRefusal(keys.backup(premium, 'cert'), 'backup');
    expect(await keys.get(premium, 'cert', undefined)).toMatchObject({ version, hsmBacked: true, managed: true });

    await parts.store.softDeleteLinked(premium.vault.name, ['keys'], 'cert', deletionDates());
    await expectManagedRefusal(keys.recover(premium, 'cert'), 'recover');
    await expectManagedRefusal(keys.purge(premium, 'cert'), 'purge');
    expect((await keys.getDeleted(premium, 'cert')).version).toBe(version);
    expect(hsmCalls).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('refuses recover and purge of a deleted managed key, which stays deleted and readable as deleted', async () => {
    const version = await addManagedKey(at, 'cert');
    // Only the certificate's own delete removes its key: the linked write the certificates domain uses.
    await parts.store.softDeleteLinked(at.vault.name, ['keys'], 'cert', deletionDates());

    await expectManagedRefusal(keys.recover(at, 'cert'), 'recover');
    await expectManagedRefusal(keys.purge(at, 'cert'), 'purge');

    expect(await keys.getDeleted(at, 'cert')).toMatchObject({ name: 'cert', version, managed: true, deletedDate: clock.now() });
    expect(answerOf(await vaultErrorOf(keys.get(at, 'cert', undefined)))).toEqual({ status: 404, code: 'KeyNotFound', innerCode: undefined });
    expect(hsmCalls).toEqual([]);
  });

  it('refuses to restore a backup onto a managed name, live or deleted, leaving the managed key as it was', async () => {
    const elsewhere = addressOf(testVault({ name: 'siblingvault' }));
    await keys.create(elsewhere, 'cert', { kty: 'EC' });
    const blob = await keys.backup(elsewhere, 'cert');

    const version = await addManagedKey(at, 'cert');
    const before = await keys.get(at, 'cert', undefined);
    await expectManagedRefusal(keys.restore(at, blob), 'restore');
    expect(await keys.get(at, 'cert', undefined)).toEqual(before);
    expect((await keys.listVersions(at, 'cert', 25)).items.map((v) => v.version)).toEqual([version]);

    const deletedAt = addressOf(testVault({ name: 'deletedvault' }));
    await addManagedKey(deletedAt, 'cert');
    await parts.store.softDeleteLinked(deletedAt.vault.name, ['keys'], 'cert', deletionDates());
    await expectManagedRefusal(keys.restore(deletedAt, blob), 'restore');
    expect((await keys.getDeleted(deletedAt, 'cert')).managed).toBe(true);
    expect((await keys.list(deletedAt, 25)).items).toEqual([]);
  });
});
