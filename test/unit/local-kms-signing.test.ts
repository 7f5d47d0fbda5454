/**
 * The local KMS signs DIGEST messages through the code Key Vault's software keys use
 * (lib/crypto/rsa-digest.ts for RSA, lib/keys/software.ts's @noble/curves ECDSA, converted to DER),
 * because node:crypto only signs messages it hashes itself. These tests hold that path to
 * node:crypto's RAW implementation: whatever one signs, the other must verify.
 */
import { createECDH, createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { blobKeyId, canonicalContext, openBlob, sealBlob } from '../../dev/kms/ciphertext.ts';
import { signMessage, verifySignature } from '../../dev/kms/signing.ts';
import { SIGNING } from '../../dev/kms/specs.ts';
import type { Curve, SigningAlgorithm } from '../../dev/kms/specs.ts';
import { derToRaw, rawToDer } from '../../lib/crypto/ecdsa-signature.ts';
import { azureCurve, curveInfo } from '../../lib/keys/jwk.ts';

const message = Buffer.from('the quick brown fox jumps over the lazy dog');

const KMS_CURVES: [Curve, SigningAlgorithm][] = [
  ['prime256v1', 'ECDSA_SHA_256'],
  ['secp384r1', 'ECDSA_SHA_384'],
  ['secp521r1', 'ECDSA_SHA_512'],
  ['secp256k1', 'ECDSA_SHA_256'],
];

function nodeOptions(key: KeyObject, algorithm: SigningAlgorithm) {
  const info = SIGNING[algorithm];
  if (info.scheme === 'pss') return { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: info.digestLength };
  if (info.scheme === 'pkcs1') return { key, padding: 1 /* RSA_PKCS1_PADDING */ };
  return { key };
}

/** @noble/curves, an implementation independent of OpenSSL, per Azure curve. */
const NOBLE = { 'P-256': p256, 'P-384': p384, 'P-521': p521, 'P-256K': secp256k1 } as const;

/** The @noble/curves curve that DIGEST signing picks for a KMS (OpenSSL) curve name. */
function nobleFor(curve: Curve) {
  const azure = azureCurve(curve);
  expect(azure).toBeDefined();
  return { azure: azure!, ...curveInfo(azure!), noble: NOBLE[azure!] };
}

function toBytes(value: bigint, size: number): Buffer {
  return Buffer.from(value.toString(16).padStart(size * 2, '0'), 'hex');
}

/** A DER TLV, with the long length form where DER needs it. */
function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length < 0x80 ? Buffer.from([content.length]) : Buffer.from([0x81, content.length]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

/** The content of a minimal DER INTEGER for a non-negative value. */
function minimal(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

describe('local KMS curves', () => {
  it.each(KMS_CURVES)('%s maps to the noble curve OpenSSL means by that name', (curve) => {
    const { noble, size } = nobleFor(curve);
    const { n, p } = noble.Point.CURVE();
    const ecdh = createECDH(curve);
    // 1·G pins the generator; (n-1)·G = -G = (Gx, p - Gy) pins both the group order and the field prime.
    ecdh.setPrivateKey(toBytes(1n, size));
    const g = ecdh.getPublicKey();
    expect(Buffer.from(noble.getPublicKey(toBytes(1n, size), false))).toEqual(g);
    ecdh.setPrivateKey(toBytes(n - 1n, size));
    const minusG = ecdh.getPublicKey();
    expect(Buffer.from(noble.getPublicKey(toBytes(n - 1n, size), false))).toEqual(minusG);
    expect(minusG.subarray(1, 1 + size)).toEqual(g.subarray(1, 1 + size));
    expect(BigInt(`0x${minusG.subarray(1 + size).toString('hex')}`)).toBe(p - BigInt(`0x${g.subarray(1 + size).toString('hex')}`));
  });
});

describe('local KMS DER signatures', () => {
  it('round-trip through raw R||S at the curve width, P-521 included', () => {
    const big = (1n << 520n) + 12345n;
    for (const [curve, r, s] of [
      ['P-256', 1n, 2n],
      ['P-256', 0x80n, 0x7fn],
      ['P-521', big, big - 1n],
    ] as const) {
      const size = curveInfo(curve).size;
      const raw = Buffer.concat([toBytes(r, size), toBytes(s, size)]);
      const der = rawToDer(raw, curve);
      expect(der).toEqual(tlv(0x30, Buffer.concat([tlv(0x02, minimal(r)), tlv(0x02, minimal(s))])));
      expect(derToRaw(der, curve)).toEqual(raw);
    }
  });

  it.each(KMS_CURVES)('%s: Verify takes only the strict DER of a valid signature', (curve, algorithm) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    const { azure, noble, size } = nobleFor(curve);
    const digest = createHash(SIGNING[algorithm].hash).update(message).digest();
    const der = sign(SIGNING[algorithm].hash, message, { key: privateKey, dsaEncoding: 'der' });
    const raw = derToRaw(der, azure);
    const [r, s] = [raw.subarray(0, size), raw.subarray(size)];
    expect(verifySignature(publicKey, algorithm, digest, 'DIGEST', der)).toBe(true);

    // (r, n - s) is as valid as (r, s): OpenSSL emits either, so KMS accepts high S as well as low.
    const mirrored = rawToDer(Buffer.concat([r, toBytes(noble.Point.CURVE().n - BigInt(`0x${s.toString('hex')}`), size)]), azure);
    expect(verify(SIGNING[algorithm].hash, message, { key: publicKey, dsaEncoding: 'der' }, mirrored)).toBe(true);
    expect(verifySignature(publicKey, algorithm, digest, 'DIGEST', mirrored)).toBe(true);

    // The same (r, s) in encodings KMS would neither produce nor accept.
    const rContent = minimal(BigInt(`0x${r.toString('hex')}`));
    const rInteger = tlv(0x02, rContent);
    const sInteger = tlv(0x02, minimal(BigInt(`0x${s.toString('hex')}`)));
    const body = Buffer.concat([rInteger, sInteger]);
    expect(tlv(0x30, body)).toEqual(der);
    for (const bad of [
      Buffer.concat([der, Buffer.from([0])]), // trailing byte
      tlv(0x30, Buffer.concat([tlv(0x02, Buffer.concat([Buffer.from([0]), rContent])), sInteger])), // non-minimal r
      Buffer.concat([Buffer.from([0x30, 0x82, 0, body.length]), body]), // length in more bytes than needed
      tlv(0x30, body.subarray(0, body.length - 1)), // truncated s
      tlv(0x30, Buffer.concat([sInteger, rInteger])), // halves swapped
      raw, // JOSE R||S, not DER
    ]) {
      expect(verifySignature(publicKey, algorithm, digest, 'DIGEST', bad)).toBe(false);
    }
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
  const cases: [string, KeyObject, KeyObject, SigningAlgorithm][] = [
    ...rsaAlgorithms.map((algorithm): [string, KeyObject, KeyObject, SigningAlgorithm] => ['RSA 2048', rsa.privateKey, rsa.publicKey, algorithm]),
    ...KMS_CURVES.map(([curve, algorithm]): [string, KeyObject, KeyObject, SigningAlgorithm] => {
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
