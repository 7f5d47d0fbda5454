/**
 * Importing key material (BYOK): wrapping keys, import tokens, unwrapping and checking material.
 *
 * The import token is self-contained: the wrapping private key, the target key id, the wrapping
 * algorithm and the expiry, sealed under the root key. That binds the token to one wrapping key
 * and one KMS key exactly as AWS's does, survives a restart without keeping pending imports in the
 * store, and cannot be forged or edited by the caller because it is authenticated.
 */
import { constants, createDecipheriv, createPrivateKey, createPublicKey, generateKeyPair, privateDecrypt, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { kmsError } from './errors.ts';
import { SPECS } from './specs.ts';
import type { KeySpec, WrappingAlgorithm, WrappingKeySpec } from './specs.ts';
import type { KeyStore } from './store.ts';

const generateKeyPairAsync = promisify(generateKeyPair);
const IMPORT_PARAMETERS_LIFETIME_MS = 24 * 60 * 60 * 1000;
const WRAPPING_KEY_REUSE_MS = 60 * 60 * 1000;
const TOKEN_PURPOSE = 'import-token';
// RFC 5649's alternative initial value: what `openssl enc -id-aes256-wrap-pad` uses, as AWS's guide shows.
const KEY_WRAP_PAD_IV = Buffer.from('a65959a6', 'hex');

interface ImportTokenContent {
  keyId: string;
  wrappingAlgorithm: WrappingAlgorithm;
  /** Epoch milliseconds. */
  validTo: number;
  /** PKCS#8 DER, base64. */
  wrappingKey: string;
}

/**
 * Wrapping key pairs, reused per spec for an hour. An RSA-4096 pair takes up to seconds to generate,
 * and callers (Coffer's BYOK path among them) ask for one per import. Sharing a pair between tokens
 * weakens nothing here: each token still names its own KMS key and expiry, and AWS documents no
 * promise that two GetParametersForImport calls return different public keys.
 */
const wrappingKeys = new Map<WrappingKeySpec, { created: number; pair: Promise<{ privateKey: KeyObject; publicKey: KeyObject }> }>();

function wrappingKeyPair(spec: WrappingKeySpec, now: number): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  const cached = wrappingKeys.get(spec);
  if (cached && now - cached.created >= 0 && now - cached.created < WRAPPING_KEY_REUSE_MS) return cached.pair;
  const pair = generateKeyPairAsync('rsa', { modulusLength: Number(spec.slice('RSA_'.length)), publicExponent: 0x10001 });
  wrappingKeys.set(spec, { created: now, pair });
  pair.catch(() => wrappingKeys.delete(spec));
  return pair;
}

export async function createImportParameters(
  store: KeyStore,
  keyId: string,
  wrappingAlgorithm: WrappingAlgorithm,
  wrappingKeySpec: WrappingKeySpec,
  now: number,
): Promise<{ importToken: Buffer; publicKey: Buffer; validTo: number }> {
  const { privateKey, publicKey } = await wrappingKeyPair(wrappingKeySpec, now);
  const validTo = now + IMPORT_PARAMETERS_LIFETIME_MS;
  const content: ImportTokenContent = {
    keyId,
    wrappingAlgorithm,
    validTo,
    wrappingKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
  };
  return {
    importToken: store.sealBytes(Buffer.from(JSON.stringify(content), 'utf8'), TOKEN_PURPOSE),
    publicKey: publicKey.export({ format: 'der', type: 'spki' }),
    validTo,
  };
}

/** Opens the token and the wrapped material it goes with; returns the plaintext key material. */
export function unwrapKeyMaterial(store: KeyStore, keyId: string, importToken: Buffer, encrypted: Buffer, now: number): Buffer {
  let content: ImportTokenContent;
  try {
    content = JSON.parse(store.openBytes(importToken, TOKEN_PURPOSE).toString('utf8')) as ImportTokenContent;
  } catch {
    throw kmsError('InvalidImportTokenException', 'The import token is invalid.');
  }
  if (content.keyId !== keyId) {
    throw kmsError('InvalidImportTokenException', 'The import token was issued for a different KMS key.');
  }
  if (content.validTo <= now) throw kmsError('ExpiredImportTokenException', 'The import token has expired.');
  const wrappingKey = createPrivateKey({ key: Buffer.from(content.wrappingKey, 'base64'), format: 'der', type: 'pkcs8' });
  try {
    return unwrap(wrappingKey, content.wrappingAlgorithm, encrypted);
  } catch {
    throw kmsError(
      'InvalidCiphertextException',
      `The encrypted key material could not be unwrapped with the wrapping key and ${content.wrappingAlgorithm}.`,
    );
  }
}

function unwrap(wrappingKey: KeyObject, algorithm: WrappingAlgorithm, encrypted: Buffer): Buffer {
  const oaepHash = algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256';
  const rsaDecrypt = (data: Buffer) => privateDecrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data);
  if (algorithm === 'RSAES_OAEP_SHA_1' || algorithm === 'RSAES_OAEP_SHA_256') return rsaDecrypt(encrypted);
  // RSA_AES_KEY_WRAP_*: the RSA-OAEP-wrapped ephemeral AES-256 key, then the RFC 5649-wrapped material.
  const modulusBytes = (wrappingKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
  if (encrypted.length <= modulusBytes) throw new Error('no wrapped key material after the wrapped AES key');
  const aesKey = rsaDecrypt(encrypted.subarray(0, modulusBytes));
  if (aesKey.length !== 32) throw new Error('the ephemeral key must be AES-256');
  const decipher = createDecipheriv('id-aes256-wrap-pad', aesKey, KEY_WRAP_PAD_IV);
  return Buffer.concat([decipher.update(encrypted.subarray(modulusBytes)), decipher.final()]);
}

/**
 * Checks the material fits the key and returns it in the form the store keeps: the raw 256-bit key
 * for symmetric keys, a re-encoded PKCS#8 DER private key for asymmetric ones.
 */
export function normalizeKeyMaterial(keySpec: KeySpec, material: Buffer): Buffer {
  const spec = SPECS[keySpec];
  if (spec.kind === 'symmetric') {
    if (material.length !== 32) {
      throw kmsError('IncorrectKeyMaterialException', `Key material for ${keySpec} must be a 256-bit symmetric key.`);
    }
    return material;
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
  } catch {
    throw kmsError('IncorrectKeyMaterialException', `Key material for ${keySpec} must be a DER-encoded PKCS#8 private key.`);
  }
  const details = key.asymmetricKeyDetails;
  const matches =
    spec.kind === 'rsa'
      ? key.asymmetricKeyType === 'rsa' && details?.modulusLength === spec.modulusBits
      : key.asymmetricKeyType === 'ec' && details?.namedCurve === spec.curve;
  if (!matches) {
    const actual =
      key.asymmetricKeyType === 'rsa'
        ? `an RSA ${details?.modulusLength ?? '?'}-bit key`
        : `a ${key.asymmetricKeyType} ${details?.namedCurve ?? ''} key`;
    throw kmsError('IncorrectKeyMaterialException', `The key material is ${actual.trim()}, which does not match the key spec ${keySpec}.`);
  }
  return key.export({ format: 'der', type: 'pkcs8' });
}

/** Whether reimported material is the material the key already has (KMS refuses anything else). */
export function sameKeyMaterial(keySpec: KeySpec, current: Buffer, candidate: Buffer): boolean {
  if (SPECS[keySpec].kind === 'symmetric') return current.length === candidate.length && timingSafeEqual(current, candidate);
  // Compare public halves: two PKCS#8 encodings of one key can differ (optional public key, attributes).
  const publicOf = (der: Buffer) =>
    createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
  return publicOf(current).equals(publicOf(candidate));
}
