/**
 * A pool key as PKCS#11 objects: the templates it is generated, unwrapped and recreated with, and how
 * its spec and public part are read back. Every object of a key carries the key's handle as CKA_LABEL
 * and CKA_ID. The private and secret objects are CKA_SENSITIVE (CKA_VALUE and the private parts are
 * never readable) and CKA_WRAP_WITH_TRUSTED (they leave the HSM only wrapped under a CKA_TRUSTED key,
 * which only the security officer can create: the pool's domain key; docs/adr/0019-pkcs11-adapter.md).
 */
import { createPrivateKey, type JsonWebKey } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { BadParameter } from '../core/errors.ts';
import { ecdsaHalfSize } from '../crypto/ecdsa-signature.ts';
import type { Curve } from '../keys/algorithms.ts';
import type { HsmAesKeySize, HsmKeySpec, HsmPublicKey, HsmRsaKeySize } from '../hsm/hsm-keys.ts';
import { checkKeySpec } from '../hsm/hsm-key-rules.ts';
import { CURVE_PARAMS } from './mechanisms.ts';
import type { ObjectHandle, Pkcs11Module } from './token-session.ts';

type Template = pkcs11js.Template;

/** The objects of one key found in the token, with what they are. */
export interface KeyObjects {
  spec: HsmKeySpec;
  publicKey: HsmPublicKey;
  /** RSA and EC keys: the private and public objects. */
  privateKey?: ObjectHandle;
  publicObject?: ObjectHandle;
  /** AES keys. */
  secretKey?: ObjectHandle;
}

const RSA_PUBLIC_EXPONENT = Buffer.from([1, 0, 1]);

/**
 * CKA_ID is the handle and the key's spec ('coffer-...;oct-256'): SoftHSM2 2.6 leaves CKA_VALUE_LEN at 0
 * for an unwrapped AES key and refuses it in the unwrap template, so an imported AES key's size is
 * read from here.
 */
function identity(handle: string, spec: HsmKeySpec): Template {
  const specName = spec.kty === 'EC' ? `EC-${spec.curve}` : `${spec.kty}-${spec.size}`;
  return [
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_LABEL, value: handle },
    { type: pkcs11js.CKA_ID, value: Buffer.from(`${handle};${specName}`) },
  ];
}

/** Material that never leaves the HSM in the clear, and leaves it wrapped only under the trusted domain key. */
const PROTECTED: Template = [
  { type: pkcs11js.CKA_SENSITIVE, value: true },
  { type: pkcs11js.CKA_EXTRACTABLE, value: true },
  { type: pkcs11js.CKA_WRAP_WITH_TRUSTED, value: true },
];

/** One RSA key signs, verifies, encrypts and decrypts (Key Vault's six operations on one key). */
export function rsaTemplates(handle: string, size: HsmRsaKeySize): { publicTemplate: Template; privateTemplate: Template } {
  const spec = { kty: 'RSA', size } as const;
  return {
    publicTemplate: [
      ...identity(handle, spec),
      { type: pkcs11js.CKA_MODULUS_BITS, value: size },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: RSA_PUBLIC_EXPONENT },
      ...publicUsage(),
    ],
    privateTemplate: [...identity(handle, spec), ...privateUsage('RSA'), ...PROTECTED],
  };
}

export function ecTemplates(handle: string, curve: Curve): { publicTemplate: Template; privateTemplate: Template } {
  const spec = { kty: 'EC', curve } as const;
  return {
    publicTemplate: [
      ...identity(handle, spec),
      { type: pkcs11js.CKA_EC_PARAMS, value: CURVE_PARAMS[curve] },
      { type: pkcs11js.CKA_VERIFY, value: true },
    ],
    privateTemplate: [...identity(handle, spec), ...privateUsage('EC'), ...PROTECTED],
  };
}

/**
 * AES keys encrypt and decrypt (GCM, CBC) and wrap and unwrap (key wrap of the caller's key bytes, which
 * the adapter puts into a session object first: C_Encrypt has no CKM_AES_KEY_WRAP). A key they wrap must
 * be extractable and not CKA_WRAP_WITH_TRUSTED, so no pool key can be wrapped under one of them.
 */
export function aesTemplate(handle: string, size: HsmAesKeySize): Template {
  return [
    ...identity(handle, { kty: 'oct', size }),
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_VALUE_LEN, value: size / 8 },
    ...secretUsage(),
    ...PROTECTED,
  ];
}

/** The template a key's private or secret object is unwrapped with when a backup brings it back. */
export function unwrapTemplate(handle: string, spec: HsmKeySpec): Template {
  if (spec.kty === 'oct') {
    return [
      ...identity(handle, spec),
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      ...secretUsage(),
      ...PROTECTED,
    ];
  }
  return [
    ...identity(handle, spec),
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: spec.kty === 'RSA' ? pkcs11js.CKK_RSA : pkcs11js.CKK_EC },
    ...privateUsage(spec.kty),
    ...PROTECTED,
  ];
}

/** The public object of a key a backup brings back, from the public part the backup carries. */
export function publicObjectTemplate(handle: string, publicKey: HsmPublicKey): Template | undefined {
  if (publicKey.kty === 'oct') return undefined;
  const spec: HsmKeySpec =
    publicKey.kty === 'EC' ? { kty: 'EC', curve: publicKey.crv } : { kty: 'RSA', size: (publicKey.n.length * 8) as HsmRsaKeySize };
  const base = [...identity(handle, spec), { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }];
  if (publicKey.kty === 'RSA') {
    return [
      ...base,
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA },
      { type: pkcs11js.CKA_MODULUS, value: publicKey.n },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: publicKey.e },
      ...publicUsage(),
    ];
  }
  const point = Buffer.concat([Buffer.from([4]), publicKey.x, publicKey.y]);
  return [
    ...base,
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
    { type: pkcs11js.CKA_EC_PARAMS, value: CURVE_PARAMS[publicKey.crv] },
    { type: pkcs11js.CKA_EC_POINT, value: derOctetString(point) },
    { type: pkcs11js.CKA_VERIFY, value: true },
  ];
}

/** The trusted AES-256 domain key: only wraps and unwraps, never leaves the HSM. Public, as the SO creates it. */
export function domainKeyTemplate(handle: string): Template {
  return [
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: false },
    { type: pkcs11js.CKA_LABEL, value: handle },
    { type: pkcs11js.CKA_ID, value: Buffer.from(handle) },
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_TRUSTED, value: true },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_UNWRAP, value: true },
    { type: pkcs11js.CKA_ENCRYPT, value: false },
    { type: pkcs11js.CKA_DECRYPT, value: false },
    { type: pkcs11js.CKA_SIGN, value: false },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
  ];
}

/** The domain key made from given material (a security domain's): the generated key's attributes, with its value instead of its length. */
export function importedDomainKeyTemplate(handle: string, value: Buffer): Template {
  return [...domainKeyTemplate(handle).filter((attribute) => attribute.type !== pkcs11js.CKA_VALUE_LEN), { type: pkcs11js.CKA_VALUE, value }];
}

/** Caller key bytes as a short-lived session object, so AES key wrap (C_WrapKey) can wrap them. */
export function callerKeyTemplate(value: Uint8Array): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_VALUE, value: Buffer.from(value) },
    { type: pkcs11js.CKA_SENSITIVE, value: false },
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
  ];
}

/** The template unwrapped caller key bytes land in, a session object read once and destroyed. */
export function unwrappedCallerKeyTemplate(): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: false },
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
  ];
}

/** The objects labelled `handle`: a key's one, two (a key pair) or none; more than 8 is no key of Coffer's. */
export function objectsLabelled(module: Pkcs11Module, session: Buffer, handle: string): ObjectHandle[] {
  module.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: handle }]);
  try {
    return module.C_FindObjects(session, 8);
  } finally {
    module.C_FindObjectsFinal(session);
  }
}

/** Every object labelled `handle`, read into what the key is; undefined when the token has none. */
export function readKeyObjects(module: Pkcs11Module, session: Buffer, handle: string): KeyObjects | undefined {
  const found = objectsLabelled(module, session, handle);
  let privateKey: ObjectHandle | undefined;
  let publicObject: ObjectHandle | undefined;
  let secretKey: ObjectHandle | undefined;
  for (const object of found) {
    const objectClass = ulong(attribute(module, session, object, pkcs11js.CKA_CLASS));
    if (objectClass === pkcs11js.CKO_PRIVATE_KEY) privateKey = object;
    else if (objectClass === pkcs11js.CKO_PUBLIC_KEY) publicObject = object;
    else if (objectClass === pkcs11js.CKO_SECRET_KEY) secretKey = object;
  }
  if (secretKey) {
    const valueLength = ulong(attribute(module, session, secretKey, pkcs11js.CKA_VALUE_LEN));
    const size =
      valueLength > 0 ? valueLength * 8 : Number(/;oct-(\d+)$/.exec(attribute(module, session, secretKey, pkcs11js.CKA_ID).toString())?.[1]);
    return { spec: { kty: 'oct', size } as HsmKeySpec, publicKey: { kty: 'oct' }, secretKey };
  }
  if (!publicObject) return undefined;
  const keyType = ulong(attribute(module, session, publicObject, pkcs11js.CKA_KEY_TYPE));
  if (keyType === pkcs11js.CKK_RSA) {
    const [n, e] = module.C_GetAttributeValue(session, publicObject, [{ type: pkcs11js.CKA_MODULUS }, { type: pkcs11js.CKA_PUBLIC_EXPONENT }]);
    const modulus = n!.value as Buffer;
    const spec = { kty: 'RSA', size: modulus.length * 8 } as HsmKeySpec;
    return { spec, publicKey: { kty: 'RSA', n: modulus, e: e!.value as Buffer }, privateKey, publicObject };
  }
  const params = attribute(module, session, publicObject, pkcs11js.CKA_EC_PARAMS);
  const curve = (Object.keys(CURVE_PARAMS) as Curve[]).find((name) => CURVE_PARAMS[name].equals(params));
  if (!curve) return undefined;
  const point = ecPoint(attribute(module, session, publicObject, pkcs11js.CKA_EC_POINT), curve);
  const half = ecdsaHalfSize(curve);
  return {
    spec: { kty: 'EC', curve },
    publicKey: { kty: 'EC', crv: curve, x: point.subarray(1, 1 + half), y: point.subarray(1 + half) },
    privateKey,
    publicObject,
  };
}

// ---------------------------------------------------------------------------------------------

function publicUsage(): Template {
  return [
    { type: pkcs11js.CKA_VERIFY, value: true },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_WRAP, value: false },
  ];
}

function privateUsage(kty: 'RSA' | 'EC'): Template {
  return [
    { type: pkcs11js.CKA_SIGN, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: kty === 'RSA' },
    { type: pkcs11js.CKA_UNWRAP, value: false },
    { type: pkcs11js.CKA_DERIVE, value: false },
  ];
}

function secretUsage(): Template {
  return [
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_UNWRAP, value: true },
    { type: pkcs11js.CKA_SIGN, value: false },
  ];
}

function attribute(module: Pkcs11Module, session: Buffer, object: Buffer, type: number): Buffer {
  const [read] = module.C_GetAttributeValue(session, object, [{ type }]);
  return read!.value as Buffer;
}

/** A CK_ULONG attribute as the library returns it: native byte order, the platform's width. */
function ulong(value: Buffer): number {
  return value.length >= 8 ? Number(value.readBigUInt64LE(0)) : value.readUInt32LE(0);
}

/** CKA_EC_POINT is the uncompressed point in a DER OCTET STRING (PKCS#11 2.40); some libraries return it bare. */
function ecPoint(value: Buffer, curve: Curve): Buffer {
  const size = 1 + 2 * ecdsaHalfSize(curve);
  if (value.length === size && value[0] === 4) return value;
  const lengthBytes = value[1]! & 0x80 ? value[1]! & 0x7f : 0;
  const point = value.subarray(2 + lengthBytes);
  if (value[0] !== 4 || point.length !== size || point[0] !== 4)
    throw new Error('The HSM returned an EC point that is not an uncompressed point of its curve.');
  return point;
}

function derOctetString(content: Buffer): Buffer {
  const length = content.length < 0x80 ? Buffer.from([content.length]) : Buffer.from([0x81, content.length]);
  return Buffer.concat([Buffer.from([4]), length, content]);
}

/** A PKCS#8 private key as the attributes of its private object, its spec and its public part (the key's own checks first). */
export function privateKeyParts(pkcs8: Uint8Array): { spec: HsmKeySpec; publicKey: HsmPublicKey; material: pkcs11js.Template } {
  let jwk: JsonWebKey;
  try {
    jwk = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
  } catch {
    throw new BadParameter('The key to import is not a valid private key.');
  }
  const bytes = (value: string | undefined) => Buffer.from(value ?? '', 'base64url');
  if (jwk.kty === 'RSA') {
    const n = bytes(jwk.n);
    const spec = checkKeySpec({ kty: 'RSA', size: n.length * 8 } as HsmKeySpec);
    const material = (
      [
        [pkcs11js.CKA_MODULUS, jwk.n],
        [pkcs11js.CKA_PUBLIC_EXPONENT, jwk.e],
        [pkcs11js.CKA_PRIVATE_EXPONENT, jwk.d],
        [pkcs11js.CKA_PRIME_1, jwk.p],
        [pkcs11js.CKA_PRIME_2, jwk.q],
        [pkcs11js.CKA_EXPONENT_1, jwk.dp],
        [pkcs11js.CKA_EXPONENT_2, jwk.dq],
        [pkcs11js.CKA_COEFFICIENT, jwk.qi],
      ] as const
    ).map(([type, value]) => ({ type, value: bytes(value) }));
    return { spec, publicKey: { kty: 'RSA', n, e: bytes(jwk.e) }, material };
  }
  const curve = ({ 'P-256': 'P-256', 'P-384': 'P-384', 'P-521': 'P-521', secp256k1: 'P-256K' } as const)[jwk.crv as 'P-256'];
  if (jwk.kty !== 'EC' || !curve) throw new BadParameter('The key to import is an RSA or EC key on P-256, P-384, P-521 or P-256K.');
  return {
    spec: { kty: 'EC', curve },
    publicKey: { kty: 'EC', crv: curve, x: bytes(jwk.x), y: bytes(jwk.y) },
    material: [
      // A copy: the material's buffers are zero-filled after the import, the curve's constant must not be.
      { type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from(CURVE_PARAMS[curve]) },
      { type: pkcs11js.CKA_VALUE, value: bytes(jwk.d) },
    ],
  };
}
