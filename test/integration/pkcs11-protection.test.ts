/**
 * What keeps a pool's key material inside the HSM, against a real SoftHSM2 token: the attributes of
 * every key (read through PKCS#11 itself, as an operator with the PIN would), the refusals that
 * follow from them, the pool's trusted domain key, export wrapped under it and import back (a full
 * backup's path), and the dependency errors of an HSM that cannot be reached. Also that the native
 * addon was built against the headers of the Node that runs it.
 */
import { readFileSync } from 'node:fs';
import { constants, createCipheriv, createHash, createPublicKey, publicEncrypt, randomBytes, verify } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadParameter, Conflict, NotFound, ServiceUnavailable, type VaultError } from '../../lib/core/errors.ts';
import { HsmDecryptionFailed, type HsmKey, HsmKeyNotFound, type HsmKeySpec, HsmOperationNotSupported } from '../../lib/hsm/hsm-keys.ts';
import { Pkcs11PoolHsm } from '../../lib/pkcs11/pkcs11-hsm-keys.ts';
import { createSoftHsmToken, operatorSession, putKnownKey, removeSoftHsmTokens, type SoftHsmToken } from '../support/softhsm.ts';

let token: SoftHsmToken;
let otherToken: SoftHsmToken;
let hsm: Pkcs11PoolHsm;

beforeAll(() => {
  token = createSoftHsmToken('pkcs11-protection');
  otherToken = createSoftHsmToken('pkcs11-wrong-pin');
  hsm = new Pkcs11PoolHsm(token);
});

afterAll(() => {
  removeSoftHsmTokens();
});

async function failure(attempt: Promise<unknown>): Promise<VaultError> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!error) throw new Error('expected the call to fail');
  return error as VaultError;
}

/** The CKR name a PKCS#11 call fails with, or 'CKR_OK'. */
function ckr(call: () => unknown): string {
  try {
    call();
    return 'CKR_OK';
  } catch (error) {
    return /^(CKR_[A-Z0-9_]+)/.exec((error as Error).message)?.[1] ?? String(error);
  }
}

function objectsOf(handle: string) {
  const operator = operatorSession(token);
  const { module, session } = operator;
  module.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: handle }]);
  const found = module.C_FindObjects(session, 8);
  module.C_FindObjectsFinal(session);
  const classOf = (object: Buffer) => module.C_GetAttributeValue(session, object, [{ type: pkcs11js.CKA_CLASS }])[0]!.value as Buffer;
  const material = found.find((object) => classOf(object).readUInt32LE(0) !== pkcs11js.CKO_PUBLIC_KEY)!;
  return { ...operator, material };
}

function flag(module: pkcs11js.PKCS11, session: Buffer, object: Buffer, type: number): boolean {
  return (module.C_GetAttributeValue(session, object, [{ type }])[0]!.value as Buffer)[0] === 1;
}

describe.each([
  [{ kty: 'RSA', size: 2048 }, pkcs11js.CKA_PRIVATE_EXPONENT],
  [{ kty: 'EC', curve: 'P-256' }, pkcs11js.CKA_VALUE],
  [{ kty: 'oct', size: 256 }, pkcs11js.CKA_VALUE],
] as [HsmKeySpec, number][])('a generated %o key', (spec, secretAttribute) => {
  let key: HsmKey;

  beforeAll(async () => {
    key = await hsm.generateKey(spec);
  });

  it('is a token object, private, sensitive, wrappable only with a trusted key; its secret attribute is refused', () => {
    const { module, session, material, close } = objectsOf(key.handle);
    try {
      expect(flag(module, session, material, pkcs11js.CKA_TOKEN)).toBe(true);
      expect(flag(module, session, material, pkcs11js.CKA_PRIVATE)).toBe(true);
      expect(flag(module, session, material, pkcs11js.CKA_SENSITIVE)).toBe(true);
      expect(flag(module, session, material, pkcs11js.CKA_ALWAYS_SENSITIVE)).toBe(true);
      expect(flag(module, session, material, pkcs11js.CKA_NEVER_EXTRACTABLE)).toBe(false);
      expect(flag(module, session, material, pkcs11js.CKA_WRAP_WITH_TRUSTED)).toBe(true);
      expect(flag(module, session, material, pkcs11js.CKA_LOCAL)).toBe(true);
      // CKA_EXTRACTABLE is true only so that C_WrapKey under the trusted domain key can back it up
      // (PKCS#11 refuses to wrap a non-extractable key at all; docs/adr/0019-pkcs11-adapter.md).
      expect(flag(module, session, material, pkcs11js.CKA_EXTRACTABLE)).toBe(true);
      expect(ckr(() => module.C_GetAttributeValue(session, material, [{ type: secretAttribute }]))).toBe('CKR_ATTRIBUTE_SENSITIVE');
      // Neither protection can be taken back, nor a wrapping key made trusted by the user.
      expect(ckr(() => module.C_SetAttributeValue(session, material, [{ type: pkcs11js.CKA_SENSITIVE, value: false }]))).toBe(
        'CKR_ATTRIBUTE_READ_ONLY',
      );
      expect(ckr(() => module.C_SetAttributeValue(session, material, [{ type: pkcs11js.CKA_WRAP_WITH_TRUSTED, value: false }]))).toBe(
        'CKR_ATTRIBUTE_READ_ONLY',
      );
    } finally {
      close();
    }
  });

  it('cannot be wrapped out under any key but a trusted one, not even one the user makes to wrap', () => {
    const { module, session, material, close } = objectsOf(key.handle);
    try {
      const wrapping = module.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_WRAP, value: true },
      ]);
      const mechanism = { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD };
      expect(ckr(() => module.C_WrapKey(session, mechanism, wrapping, material, Buffer.alloc(8192)))).toBe('CKR_KEY_NOT_WRAPPABLE');
      const trusted = [
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_WRAP, value: true },
        { type: pkcs11js.CKA_TRUSTED, value: true },
      ];
      expect(ckr(() => module.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, trusted))).toBe('CKR_ATTRIBUTE_READ_ONLY');
    } finally {
      close();
    }
  });
});

describe('the domain key, export and import', () => {
  let domainKey: string;

  beforeAll(async () => {
    domainKey = await hsm.createDomainKey();
  });

  it('is made by the security officer: trusted, only wrapping, never extractable, its value refused', () => {
    expect(domainKey).toMatch(/^coffer-domain-[0-9a-f-]{36}$/);
    const { module, session, material, close } = objectsOf(domainKey);
    try {
      expect(flag(module, session, material, pkcs11js.CKA_TRUSTED)).toBe(true);
      expect(flag(module, session, material, pkcs11js.CKA_EXTRACTABLE)).toBe(false);
      expect(flag(module, session, material, pkcs11js.CKA_SENSITIVE)).toBe(true);
      expect(flag(module, session, material, pkcs11js.CKA_WRAP)).toBe(true);
      expect(flag(module, session, material, pkcs11js.CKA_ENCRYPT)).toBe(false);
      expect(flag(module, session, material, pkcs11js.CKA_DECRYPT)).toBe(false);
      expect(ckr(() => module.C_GetAttributeValue(session, material, [{ type: pkcs11js.CKA_VALUE }]))).toBe('CKR_ATTRIBUTE_SENSITIVE');
    } finally {
      close();
    }
  });

  it('an RSA key exported, deleted and imported back still signs and decrypts as before, under its own handle', async () => {
    const key = await hsm.generateKey({ kty: 'RSA', size: 2048 });
    const digest = createHash('sha256').update('before the backup').digest();
    const secret = randomBytes(32);
    if (key.publicKey.kty !== 'RSA') throw new Error('not RSA');
    const publicKey = {
      key: createPublicKey({
        key: { kty: 'RSA', n: key.publicKey.n.toString('base64url'), e: key.publicKey.e.toString('base64url') },
        format: 'jwk',
      }),
    };
    const ciphertext = publicEncrypt({ ...publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, secret);

    const exported = await hsm.exportKey(key.handle, domainKey);
    expect(exported).toMatchObject({ handle: key.handle, spec: key.spec, publicKey: key.publicKey, domainKey });
    expect(exported.wrappedMaterial.length).toBeGreaterThan(1100);
    expect(await hsm.deleteKey(key.handle)).toBe(true);
    expect(await failure(hsm.describeKey(key.handle))).toBeInstanceOf(HsmKeyNotFound);
    expect(await hsm.deleteKey(key.handle)).toBe(false);

    const imported = await hsm.importKey(exported);
    expect(imported).toEqual(key);
    expect(await hsm.decrypt(key.handle, { algorithm: 'RSA-OAEP' }, ciphertext)).toEqual(secret);
    const signature = await hsm.signDigest(key.handle, 'PS256', digest);
    expect(
      verify('sha256', Buffer.from('before the backup'), { ...publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature),
    ).toBe(true);

    const again = await failure(hsm.importKey(exported));
    expect(again).toBeInstanceOf(Conflict);
    expect(again.status).toBe(409);
  });

  it('an EC key and an AES key come back working; the AES key’s wrapped form does not hold its bytes', async () => {
    const ec = await hsm.generateKey({ kty: 'EC', curve: 'P-384' });
    const exportedEc = await hsm.exportKey(ec.handle, domainKey);
    await hsm.deleteKey(ec.handle);
    expect(await hsm.importKey(exportedEc)).toEqual(ec);
    if (ec.publicKey.kty !== 'EC') throw new Error('not EC');
    const digest = createHash('sha384').update('m').digest();
    const ecPublic = { kty: 'EC', crv: 'P-384', x: ec.publicKey.x.toString('base64url'), y: ec.publicKey.y.toString('base64url') };
    const signature = await hsm.signDigest(ec.handle, 'ES384', digest);
    expect(verify('sha384', Buffer.from('m'), { key: ecPublic, format: 'jwk', dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);

    const known = randomBytes(32);
    const aes = putKnownKey(token, known);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', known, iv);
    const ciphertext = Buffer.concat([cipher.update('kept across a backup'), cipher.final()]);
    const exportedAes = await hsm.exportKey(aes, domainKey);
    expect(exportedAes.wrappedMaterial.includes(known)).toBe(false);
    expect(exportedAes.wrappedMaterial.length).toBe(40);
    await hsm.deleteKey(aes);
    await hsm.importKey(exportedAes);
    expect((await hsm.decrypt(aes, { algorithm: 'A256GCM', iv, tag: cipher.getAuthTag() }, ciphertext)).toString()).toBe('kept across a backup');
  });

  it('a key another container deleted and restored is found again, not answered from stale object handles', async () => {
    const key = await hsm.generateKey({ kty: 'EC', curve: 'P-256' });
    const digest = Buffer.alloc(32, 7);
    await hsm.signDigest(key.handle, 'ES256', digest);
    const exported = await hsm.exportKey(key.handle, domainKey);
    // Another container: its own session on the same token (other credentials give it its own TokenSession).
    const otherContainer = new Pkcs11PoolHsm({ ...token, soPin: `${token.soPin}-elsewhere` });
    expect(await otherContainer.deleteKey(key.handle)).toBe(true);
    await otherContainer.importKey(exported);
    const signature = await hsm.signDigest(key.handle, 'ES256', digest);
    expect(await otherContainer.verifyDigest(key.handle, 'ES256', digest, signature)).toBe(true);
  });

  it('refuses to export under a key that is not trusted, and to import a wrapped key that was altered', async () => {
    const key = await hsm.generateKey({ kty: 'oct', size: 128 });
    const ordinary = await hsm.generateKey({ kty: 'oct', size: 256 });
    const refused = await failure(hsm.exportKey(key.handle, ordinary.handle));
    expect(refused).toBeInstanceOf(HsmOperationNotSupported);
    expect(refused.message).toBe(
      `The key cannot leave the HSM wrapped under ${ordinary.handle}: it is not the pool's trusted domain key (CKR_KEY_NOT_WRAPPABLE).`,
    );

    const exported = await hsm.exportKey(key.handle, domainKey);
    await hsm.deleteKey(key.handle);
    const altered = Buffer.from(exported.wrappedMaterial);
    altered[3] = altered[3]! ^ 1;
    const error = await failure(hsm.importKey({ ...exported, wrappedMaterial: altered }));
    expect(error).toBeInstanceOf(HsmDecryptionFailed);
    expect(error.status).toBe(400);
    expect(await failure(hsm.describeKey(key.handle))).toBeInstanceOf(HsmKeyNotFound);
  });
});

describe('bad input and unknown keys', () => {
  it('a handle the HSM does not hold is a 404 KeyNotFound for every operation', async () => {
    const handle = 'coffer-00000000-0000-0000-0000-000000000000';
    for (const attempt of [
      hsm.describeKey(handle),
      hsm.signDigest(handle, 'RS256', Buffer.alloc(32)),
      hsm.encrypt(handle, { algorithm: 'RSA-OAEP' }, Buffer.from('x')),
      hsm.wrapKey(handle, 'A256KW', Buffer.alloc(16)),
    ]) {
      const error = await failure(attempt);
      expect(error).toBeInstanceOf(NotFound);
      expect(error.status).toBe(404);
      expect(error.code).toBe('KeyNotFound');
    }
  });

  it('a key spec Key Vault does not offer is a 400 before the HSM is asked', async () => {
    for (const spec of [
      { kty: 'RSA', size: 1024 },
      { kty: 'EC', curve: 'P-224' },
      { kty: 'oct', size: 512 },
    ] as unknown as HsmKeySpec[]) {
      const error = await failure(hsm.generateKey(spec));
      expect(error).toBeInstanceOf(BadParameter);
      expect(error.message).toMatch(/^Unsupported key: /);
    }
  });

  it('RSA ciphertexts and plaintexts of the wrong length are 400s', async () => {
    const key = await hsm.generateKey({ kty: 'RSA', size: 2048 });
    expect((await failure(hsm.decrypt(key.handle, { algorithm: 'RSA1_5' }, Buffer.alloc(255)))).message).toBe(
      'A ciphertext of this 2048-bit key is 256 bytes, not 255.',
    );
    expect((await failure(hsm.encrypt(key.handle, { algorithm: 'RSA-OAEP' }, Buffer.alloc(215)))).message).toBe(
      'RSA-OAEP with this 2048-bit key encrypts at most 214 bytes, not 215.',
    );
    const wrongDigest = await failure(hsm.verifyDigest(key.handle, 'RS512', Buffer.alloc(32), Buffer.alloc(256)));
    expect(wrongDigest).toBeInstanceOf(BadParameter);
    expect(wrongDigest.message).toBe("Invalid digest length 32 for algorithm 'RS512': expected 64 bytes.");
  });
});

describe('an HSM that cannot be reached', () => {
  it('a library that is missing or not a PKCS#11 library is a 503 naming that, not a 500', async () => {
    for (const libraryPath of ['/nonexistent/libcloudhsm_pkcs11.so', '/etc/hostname']) {
      const unreachable = new Pkcs11PoolHsm({ ...token, libraryPath });
      const error = await failure(unreachable.randomBytes(16));
      expect(error).toBeInstanceOf(ServiceUnavailable);
      expect(error.status).toBe(503);
      expect(error.headers['Retry-After']).toBe('5');
      expect(error.message).toBe("The pool's HSM is unavailable: the PKCS#11 library could not be loaded.");
    }
  });

  it('a token label with no token, and a wrong PIN, are 503s whose message and cause never carry the PIN', async () => {
    const noToken = await failure(new Pkcs11PoolHsm({ ...token, tokenLabel: 'no-such-token' }).randomBytes(16));
    expect(noToken).toBeInstanceOf(ServiceUnavailable);
    expect(noToken.message).toBe("The pool's HSM is unavailable: no token is labelled 'no-such-token'.");
    const wrongPin = { ...otherToken, pin: 'not-the-pin-4711' };
    const error = await failure(new Pkcs11PoolHsm(wrongPin).generateKey({ kty: 'oct', size: 128 }));
    expect(error).toBeInstanceOf(ServiceUnavailable);
    expect(error.message).toBe(`The pool's HSM is unavailable: the user could not log in to token '${otherToken.tokenLabel}'.`);
    expect((error.cause as Error).message).toBe('CKR_PIN_INCORRECT');
    expect(JSON.stringify({ message: error.message, cause: String(error.cause), stack: error.stack })).not.toContain('4711');
  });

  it('a security officer PIN that is not configured is a 503 for the domain key', async () => {
    const { soPin: _, ...withoutSo } = otherToken;
    const error = await failure(new Pkcs11PoolHsm(withoutSo).createDomainKey());
    expect(error).toBeInstanceOf(ServiceUnavailable);
    expect(error.message).toBe("The pool's HSM is unavailable: the pool's security officer PIN is not configured.");
  });

  it('a session the token closed fails one call as a 503, and the next call opens a new session and works', async () => {
    const key = await hsm.generateKey({ kty: 'EC', curve: 'P-256' });
    const { module, session } = operatorSession(token);
    const slot = module.C_GetSessionInfo(session).slotID;
    module.C_CloseAllSessions(slot);
    const lost = await failure(hsm.signDigest(key.handle, 'ES256', Buffer.alloc(32, 1)));
    expect(lost).toBeInstanceOf(ServiceUnavailable);
    expect(lost.status).toBe(503);
    expect((await hsm.signDigest(key.handle, 'ES256', Buffer.alloc(32, 1))).length).toBe(64);
  });
});

describe('the native addon', () => {
  it('was built against the headers of the Node major version that runs it (the node devDependency, Node 24)', () => {
    const addon = dirname(createRequire(import.meta.url).resolve('pkcs11js/package.json'));
    const config = readFileSync(join(addon, 'build/config.gypi'), 'utf8');
    const nodedir = /"nodedir": "([^"]+)"/.exec(config)?.[1];
    expect(nodedir).toBeDefined();
    const version = readFileSync(join(nodedir!, 'include/node/node_version.h'), 'utf8');
    expect(/#define NODE_MAJOR_VERSION (\d+)/.exec(version)?.[1]).toBe(process.versions.node.split('.')[0]);
    expect(process.versions.node.split('.')[0]).toBe('24');
  });
});
