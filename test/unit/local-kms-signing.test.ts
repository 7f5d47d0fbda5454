/**
 * The local KMS signs DIGEST messages with hand-built padding (RSA) and BigInt arithmetic (ECDSA),
 * because node:crypto only signs messages it hashes itself. These tests hold that code to
 * node:crypto's RAW implementation: whatever one signs, the other must verify.
 */
import { createECDH, createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blobKeyId, canonicalContext, openBlob, sealBlob } from '../../dev/kms/ciphertext.ts';
import { CURVES, decodeDerSignature, encodeDerSignature, mod } from '../../dev/kms/ecdsa.ts';
import { signMessage, verifySignature } from '../../dev/kms/signing.ts';
import { SIGNING } from '../../dev/kms/specs.ts';
import type { Curve, SigningAlgorithm } from '../../dev/kms/specs.ts';

const message = Buffer.from('the quick brown fox jumps over the lazy dog');

function nodeOptions(key: KeyObject, algorithm: SigningAlgorithm) {
  const info = SIGNING[algorithm];
  if (info.scheme === 'pss') return { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: info.digestLength };
  if (info.scheme === 'pkcs1') return { key, padding: 1 /* RSA_PKCS1_PADDING */ };
  return { key };
}

describe('local KMS curve parameters', () => {
  it.each(Object.keys(CURVES) as Curve[])('%s matches OpenSSL', (curve) => {
    const c = CURVES[curve];
    const ecdh = createECDH(curve);
    ecdh.setPrivateKey(Buffer.from([1]));
    const g = ecdh.getPublicKey();
    expect(BigInt(`0x${g.subarray(1, 1 + c.size).toString('hex')}`)).toBe(c.gx);
    expect(BigInt(`0x${g.subarray(1 + c.size).toString('hex')}`)).toBe(c.gy);
    // (n-1)·G = -G = (Gx, p - Gy): pins both the group order and the field prime.
    ecdh.setPrivateKey(Buffer.from((c.n - 1n).toString(16).padStart(c.size * 2, '0'), 'hex'));
    const minusG = ecdh.getPublicKey();
    expect(BigInt(`0x${minusG.subarray(1, 1 + c.size).toString('hex')}`)).toBe(c.gx);
    expect(BigInt(`0x${minusG.subarray(1 + c.size).toString('hex')}`)).toBe(c.p - c.gy);
    expect(mod(c.gy * c.gy, c.p)).toBe(mod(c.gx * c.gx * c.gx + c.a * c.gx + c.b, c.p));
  });
});

describe('local KMS DER signatures', () => {
  it('round-trips and rejects non-canonical encodings', () => {
    const big = (1n << 520n) + 12345n;
    for (const [r, s] of [
      [1n, 2n],
      [0x80n, 0x7fn],
      [big, big - 1n],
    ] as const) {
      expect(decodeDerSignature(encodeDerSignature(r, s))).toEqual({ r, s });
    }
    const good = encodeDerSignature(0x7fn, 5n);
    expect(decodeDerSignature(Buffer.concat([good, Buffer.from([0])]))).toBeUndefined(); // trailing byte
    expect(decodeDerSignature(Buffer.from('3007020200010201050000', 'hex'))).toBeUndefined(); // non-minimal
    expect(decodeDerSignature(Buffer.from('300602018102010500', 'hex'))).toBeUndefined(); // negative r
  });
});

describe('local KMS DIGEST signing agrees with node:crypto', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaAlgorithms: SigningAlgorithm[] = [
    'RSASSA_PSS_SHA_256',
    'RSASSA_PSS_SHA_384',
    'RSASSA_PSS_SHA_512',
    'RSASSA_PKCS1_V1_5_SHA_256',
    'RSASSA_PKCS1_V1_5_SHA_384',
    'RSASSA_PKCS1_V1_5_SHA_512',
  ];
  const ecCases: [Curve, SigningAlgorithm][] = [
    ['prime256v1', 'ECDSA_SHA_256'],
    ['secp384r1', 'ECDSA_SHA_384'],
    ['secp521r1', 'ECDSA_SHA_512'],
    ['secp256k1', 'ECDSA_SHA_256'],
  ];
  const cases: [string, KeyObject, KeyObject, SigningAlgorithm][] = [
    ...rsaAlgorithms.map((algorithm): [string, KeyObject, KeyObject, SigningAlgorithm] => ['RSA 2048', rsa.privateKey, rsa.publicKey, algorithm]),
    ...ecCases.map(([curve, algorithm]): [string, KeyObject, KeyObject, SigningAlgorithm] => {
      const pair = generateKeyPairSync('ec', { namedCurve: curve });
      return [curve, pair.privateKey, pair.publicKey, algorithm];
    }),
  ];

  it.each(cases)('%s %s', (_name, privateKey, publicKey, algorithm) => {
    const digest = createHash(SIGNING[algorithm].hash).update(message).digest();
    const ours = signMessage(privateKey, algorithm, digest, 'DIGEST');
    expect(verify(SIGNING[algorithm].hash, message, nodeOptions(publicKey, algorithm), ours)).toBe(true);

    const theirs = sign(SIGNING[algorithm].hash, message, nodeOptions(privateKey, algorithm));
    expect(verifySignature(publicKey, algorithm, digest, 'DIGEST', theirs)).toBe(true);
    expect(verifySignature(publicKey, algorithm, message, 'RAW', theirs)).toBe(true);

    const otherDigest = createHash(SIGNING[algorithm].hash).update('another message').digest();
    expect(verifySignature(publicKey, algorithm, otherDigest, 'DIGEST', theirs)).toBe(false);
    const corrupted = Buffer.from(theirs);
    corrupted[corrupted.length - 3] = corrupted[corrupted.length - 3]! ^ 0x01;
    expect(verifySignature(publicKey, algorithm, digest, 'DIGEST', corrupted)).toBe(false);
    expect(verifySignature(publicKey, algorithm, digest, 'DIGEST', Buffer.from([0x30, 0x00]))).toBe(false);
  });
});

describe('local KMS ciphertext blobs', () => {
  const keyId = '1234abcd-12ab-34cd-56ef-1234567890ab';
  const material = Buffer.alloc(32, 7);

  it('name their key and bind the encryption context regardless of member order', () => {
    const blob = sealBlob(keyId, material, Buffer.from('secret'), { b: '2', a: '1' });
    expect(blobKeyId(blob)).toBe(keyId);
    expect(openBlob(material, blob, { a: '1', b: '2' }).toString()).toBe('secret');
    expect(() => openBlob(material, blob, { a: '1' })).toThrow(expect.objectContaining({ type: 'InvalidCiphertextException' }));
    expect(canonicalContext({ 'a=1;b': '2' }).equals(canonicalContext({ a: '1;b=2' }))).toBe(false);
  });

  it('fail when the header is rewritten to name another key', () => {
    const blob = sealBlob(keyId, material, Buffer.from('secret'), undefined);
    blob[5] = blob[5]! ^ 0xff;
    expect(blobKeyId(blob)).not.toBe(keyId);
    expect(() => openBlob(material, blob, undefined)).toThrow(expect.objectContaining({ type: 'InvalidCiphertextException' }));
  });
});
