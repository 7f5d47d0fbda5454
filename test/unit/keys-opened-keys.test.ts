/**
 * Opened software keys (lib/keys/software.ts) and the cache that keeps them (lib/keys/operate.ts): a
 * warm sign or decrypt neither opens the sealed material again nor keeps its bytes; what it keeps is
 * the parsed key, which signs and decrypts as node:crypto expects, and is wiped as far as JavaScript
 * can wipe it. Public keys are parsed once too, and a bad one is refused every time.
 */
import { constants, createHash, createPublicKey, generateKeyPairSync, publicEncrypt, verify } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { BadParameter } from '../../lib/core/errors.ts';
import type { HsmKeys } from '../../lib/keys/hsm.ts';
import { generateSoftwareKey } from '../../lib/keys/jwk.ts';
import { KeyService } from '../../lib/keys/keys.ts';
import type { KeyOperationRecord } from '../../lib/keys/records.ts';
import { openPrivateKey, signDigest, verifyDigest, wipePrivateKey } from '../../lib/keys/software.ts';
import { EnvelopeCipher } from '../../lib/crypto/envelope.ts';
import { BackupProtector } from '../../lib/objects/backup.ts';
import { MemoryObjectStore } from '../../lib/objects/memory-store.ts';
import { ObjectSealer } from '../../lib/objects/sealing.ts';
import type { VaultAddress } from '../../lib/vaults/vault.ts';
import { CountingDataKeys } from '../support/data-keys.ts';
import { addressOf, testClock, testVault } from '../support/domain.ts';

/** Records every private-material blob it opens, and the bytes it handed out. */
class RecordingSealer extends ObjectSealer {
  readonly openedSecrets: Buffer[] = [];

  override async open(...args: Parameters<ObjectSealer['open']>): Promise<Buffer> {
    const opened = await super.open(...args);
    if (args[2] === 'secret') this.openedSecrets.push(opened);
    return opened;
  }
}

const noHsm = new Proxy({} as HsmKeys, {
  get: () => async () => {
    throw new Error('software keys never reach the HSM port');
  },
});

let sealer: RecordingSealer;
let keys: KeyService;
let at: VaultAddress;

beforeEach(() => {
  const cipher = new EnvelopeCipher(new CountingDataKeys());
  sealer = new RecordingSealer(cipher);
  keys = new KeyService(new MemoryObjectStore(), sealer, new BackupProtector(cipher, 'backup-key'), noHsm, () => {}, {}, testClock().now);
  at = addressOf(testVault());
});

async function operate(name: string, operation: 'sign' | 'decrypt', alg: string, value: Uint8Array): Promise<Buffer> {
  const record = (await keys.operate(at, name, undefined, operation, { alg, value: Buffer.from(value).toString('base64url') })) as KeyOperationRecord;
  return Buffer.from(record.result);
}

describe('opened software keys', () => {
  it.each([
    { kty: 'EC', crv: 'P-256', alg: 'ES256', hash: 'sha256' },
    { kty: 'EC', crv: 'P-384', alg: 'ES384', hash: 'sha384' },
    { kty: 'EC', crv: 'P-521', alg: 'ES512', hash: 'sha512' },
    { kty: 'EC', crv: 'P-256K', alg: 'ES256K', hash: 'sha256' },
    { kty: 'RSA', alg: 'PS256', hash: 'sha256' },
    { kty: 'RSA', alg: 'RS384', hash: 'sha384' },
  ])('$alg: the sealed key is opened once for many signatures, and its bytes are wiped', async ({ kty, crv, alg, hash }) => {
    const key = await keys.create(at, 'signer', { kty, ...(crv ? { crv } : {}) } as never);
    const publicKey = createPublicKey({ key: { ...key.publicKey, kty, crv: crv === 'P-256K' ? 'secp256k1' : crv } as never, format: 'jwk' });
    for (const text of ['one', 'two', 'three']) {
      const signature = await operate('signer', 'sign', alg, createHash(hash).update(text).digest());
      const options =
        kty === 'EC'
          ? { key: publicKey, dsaEncoding: 'ieee-p1363' as const }
          : alg.startsWith('PS')
            ? { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: createHash(hash).digest().length }
            : { key: publicKey };
      expect(verify(hash, Buffer.from(text), options, signature)).toBe(true);
    }
    expect(sealer.openedSecrets).toHaveLength(1);
    expect(sealer.openedSecrets[0]!.every((byte) => byte === 0)).toBe(true);
  });

  it('decrypts with the same opened key the signatures use', async () => {
    const key = await keys.create(at, 'rsa', { kty: 'RSA' });
    const publicKey = createPublicKey({ key: key.publicKey as never, format: 'jwk' });
    await operate('rsa', 'sign', 'RS256', createHash('sha256').update('x').digest());
    for (const text of ['first', 'second']) {
      const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(text));
      expect((await operate('rsa', 'decrypt', 'RSA-OAEP-256', ciphertext)).toString()).toBe(text);
    }
    expect(sealer.openedSecrets).toHaveLength(1);
  });
});

describe('openPrivateKey', () => {
  it('opens RSA as a key object and EC as its scalar, on every curve; wiping zeroes the scalar', async () => {
    const rsa = openPrivateKey((await generateSoftwareKey({ kind: 'RSA' })).privatePkcs8);
    expect(rsa.kind).toBe('RSA');
    for (const curve of ['P-256', 'P-384', 'P-521', 'P-256K'] as const) {
      const opened = openPrivateKey((await generateSoftwareKey({ kind: 'EC', curve })).privatePkcs8);
      expect(opened).toMatchObject({ kind: 'EC', curve });
      if (opened.kind !== 'EC') continue;
      expect(opened.ec.secret.some((byte) => byte !== 0)).toBe(true);
      wipePrivateKey(opened);
      expect(opened.ec.secret.every((byte) => byte === 0)).toBe(true);
    }
    wipePrivateKey(rsa); // nothing to wipe, and no error
  });

  it('refuses key material it cannot sign with, and an opened key the caller mistakes for another', async () => {
    const der = { type: 'pkcs8', format: 'der' } as const;
    expect(() => openPrivateKey(generateKeyPairSync('ed25519').privateKey.export(der))).toThrow(/not an RSA key or an EC key/);
    const p224 = generateKeyPairSync('ec', { namedCurve: 'secp224r1' }).privateKey.export(der);
    expect(() => openPrivateKey(p224)).toThrow(/not an RSA key or an EC key/);
    const p256 = openPrivateKey((await generateSoftwareKey({ kind: 'EC', curve: 'P-256' })).privatePkcs8);
    const digest = createHash('sha384').update('x').digest();
    expect(() => signDigest(p256, 'EC', 'P-384', 'ES384', digest)).toThrow(/not a EC P-384 key/);
    expect(() => signDigest(p256, 'RSA', undefined, 'RS384', digest)).toThrow(/not a RSA key/);
  });
});

describe('verifyDigest with parsed public keys', () => {
  it('keeps keys apart, and refuses a malformed key every time it is asked', async () => {
    const [a, b] = await Promise.all([generateSoftwareKey({ kind: 'EC' }), generateSoftwareKey({ kind: 'EC' })]);
    const digest = createHash('sha256').update('x').digest();
    const byA = signDigest(openPrivateKey(a.privatePkcs8), 'EC', 'P-256', 'ES256', digest);
    for (let i = 0; i < 2; i++) {
      expect(verifyDigest(a.publicJwk, 'ES256', digest, byA)).toBe(true);
      expect(verifyDigest(b.publicJwk, 'ES256', digest, byA)).toBe(false);
      expect(() => verifyDigest({ ...a.publicJwk, y: a.publicJwk.x }, 'ES256', digest, byA)).toThrow(BadParameter);
    }
  });
});
