/**
 * PKCS#12 (RFC 7292) files: pkijs's structures, node:crypto's ciphers, HMAC and PBKDF2. The PKCS#12
 * key derivation (RFC 7292 appendix B) is written here because the MAC needs it with the empty and the
 * absent password, and legacy 3DES bags need it for key and IV; pkijs's own always appends a terminator.
 */
import { createDecipheriv, createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import * as asn1js from 'asn1js';
import {
  AlgorithmIdentifier,
  Attribute,
  AuthenticatedSafe,
  CertBag,
  Certificate,
  ContentInfo,
  DigestInfo,
  EncryptedData,
  MacData,
  PBES2Params,
  PBKDF2Params,
  PFX,
  type PKCS8ShroudedKeyBag,
  PrivateKeyInfo,
  SafeBag,
  SafeContents,
} from 'pkijs';
import { orderChain } from './x509.ts';

export interface CertificateContents {
  privateKeyPkcs8?: Uint8Array;
  /** DER, leaf first (orderChain). */
  chain: Uint8Array[];
}

/** Not DER PKCS#12, or truncated. */
export class Pkcs12Malformed extends Error {
  constructor(message = 'The PKCS#12 file is malformed or truncated.') {
    super(message);
    this.name = 'Pkcs12Malformed';
  }
}

/** The MAC does not verify, or a bag does not decrypt, with the password given. */
export class Pkcs12WrongPassword extends Error {
  constructor(message = 'The PKCS#12 file does not open with the password given.') {
    super(message);
    this.name = 'Pkcs12WrongPassword';
  }
}

/** A structure or algorithm this reader does not implement (public-key integrity, RC2, ...). */
export class Pkcs12Unsupported extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Pkcs12Unsupported';
  }
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbeSha1TripleDes: '1.2.840.113549.1.12.1.3',
  pbeSha1TwoKeyTripleDes: '1.2.840.113549.1.12.1.4',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

type Hash = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

const DIGESTS: Record<string, Hash> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  [OID.sha256]: 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

const HMAC_PRFS: Record<string, Hash> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};

const PBES2_CIPHERS: Record<string, { cipher: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { cipher: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { cipher: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { cipher: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { cipher: 'des-ede3-cbc', keyLength: 24 },
};

/** What OpenSSL 3 writes by default; node and `openssl pkcs12` read it. */
const MAC_ITERATIONS = 2048;
/**
 * A file names its own iteration counts: above this one, opening it would hold a Lambda for seconds
 * (OpenSSL writes 2048; the most cautious tools, 600000).
 */
const MAX_ITERATIONS = 1_000_000;

/** The password as PKCS#12 takes it for its KDF: UTF-16BE with a two-byte terminator; `null` is the absent password. */
function bmpPassword(password: string | null): Buffer {
  if (password === null) return Buffer.alloc(0);
  const bytes = Buffer.alloc(password.length * 2 + 2);
  for (let index = 0; index < password.length; index++) bytes.writeUInt16BE(password.charCodeAt(index), index * 2);
  return bytes;
}

/** RFC 7292 appendix B.2: id 1 derives a key, 2 an IV, 3 a MAC key. */
function pkcs12Kdf(hash: Hash, password: Buffer, salt: Uint8Array, iterations: number, id: 1 | 2 | 3, length: number): Buffer {
  const u = createHash(hash).digest().length;
  const v = hash === 'sha384' || hash === 'sha512' ? 128 : 64;
  const repeatTo = (source: Uint8Array) => {
    const out = Buffer.alloc(v * Math.ceil(source.length / v));
    for (let index = 0; index < out.length; index++) out[index] = source[index % source.length]!;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([repeatTo(salt), repeatTo(password)]);
  const out = Buffer.alloc(length);
  for (let offset = 0; offset < length; offset += u) {
    let A = createHash(hash).update(D).update(I).digest();
    for (let round = 1; round < iterations; round++) A = createHash(hash).update(A).digest();
    A.copy(out, offset, 0, Math.min(u, length - offset));
    // I_j = (I_j + B + 1) mod 2^(8v), for each v-byte block of I.
    const B = repeatTo(A).subarray(0, v);
    for (let block = 0; block < I.length; block += v) {
      let carry = 1;
      for (let index = v - 1; index >= 0; index--) {
        const sum = I[block + index]! + B[index]! + carry;
        I[block + index] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return out;
}

function mac(hash: Hash, password: Buffer, salt: Uint8Array, iterations: number, content: Uint8Array): Buffer {
  const key = pkcs12Kdf(hash, password, salt, iterations, 3, createHash(hash).digest().length);
  return createHmac(hash, key).update(content).digest();
}

function der(block: { toBER(sizeOnly?: boolean): ArrayBuffer }): ArrayBuffer {
  return block.toBER(false);
}

function localKeyId(id: Uint8Array): Attribute {
  return new Attribute({ type: OID.localKeyId, values: [new asn1js.OctetString({ valueHex: id })] });
}

function dataContentInfo(safeContents: SafeContents): ContentInfo {
  return new ContentInfo({ contentType: OID.data, content: new asn1js.OctetString({ valueHex: der(safeContents.toSchema()) }) });
}

export async function buildPkcs12(contents: CertificateContents): Promise<Uint8Array> {
  const chain = orderChain(contents.chain);
  // The leaf's SHA-1 pairs it with the key, as OpenSSL and Windows name the pair.
  const pairId = chain[0] ? createHash('sha1').update(chain[0]).digest() : randomBytes(20);
  const certificateBags = chain.map(
    (certificate, index) =>
      new SafeBag({
        bagId: OID.certBag,
        bagValue: new CertBag({ certId: OID.x509Certificate, parsedValue: Certificate.fromBER(certificate) }),
        ...(index === 0 && contents.privateKeyPkcs8 ? { bagAttributes: [localKeyId(pairId)] } : {}),
      }),
  );
  const safes: ContentInfo[] = [];
  if (certificateBags.length > 0) safes.push(dataContentInfo(new SafeContents({ safeBags: certificateBags })));
  if (contents.privateKeyPkcs8) {
    const keyBag = new SafeBag({
      bagId: OID.keyBag,
      bagValue: PrivateKeyInfo.fromBER(contents.privateKeyPkcs8),
      bagAttributes: [localKeyId(pairId)],
    });
    safes.push(dataContentInfo(new SafeContents({ safeBags: [keyBag] })));
  }
  const authenticatedSafe = new Uint8Array(der(new AuthenticatedSafe({ safeContents: safes }).toSchema()));
  const salt = randomBytes(16);
  const pfx = new PFX({
    version: 3,
    authSafe: new ContentInfo({ contentType: OID.data, content: new asn1js.OctetString({ valueHex: authenticatedSafe }) }),
    macData: new MacData({
      mac: new DigestInfo({
        digestAlgorithm: new AlgorithmIdentifier({ algorithmId: OID.sha256, algorithmParams: new asn1js.Null() }),
        digest: new asn1js.OctetString({
          valueHex: mac('sha256', bmpPassword(''), salt, MAC_ITERATIONS, authenticatedSafe),
        }),
      }),
      macSalt: new asn1js.OctetString({ valueHex: salt }),
      iterations: MAC_ITERATIONS,
    }),
  });
  return new Uint8Array(der(pfx.toSchema()));
}

function iterationsWithinLimit(iterations: number): number {
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new Pkcs12Malformed();
  if (iterations > MAX_ITERATIONS) {
    throw new Pkcs12Unsupported(`The PKCS#12 file asks for ${iterations} iterations; at most ${MAX_ITERATIONS} are supported.`);
  }
  return iterations;
}

/** The MAC with the password given; an empty password also tries the absent one, as OpenSSL's PKCS12_parse does. */
function verifyMac(macData: MacData, content: Uint8Array, password: string): void {
  const hash = DIGESTS[macData.mac.digestAlgorithm.algorithmId];
  if (!hash) throw new Pkcs12Unsupported(`The PKCS#12 MAC algorithm ${macData.mac.digestAlgorithm.algorithmId} is not supported.`);
  const salt = macData.macSalt.valueBlock.valueHexView;
  const iterations = iterationsWithinLimit(macData.iterations ?? 1);
  const expected = Buffer.from(macData.mac.digest.valueBlock.valueHexView);
  const candidates = password === '' ? [bmpPassword(''), bmpPassword(null)] : [bmpPassword(password)];
  const verifies = candidates.some((candidate) => {
    const actual = mac(hash, candidate, salt, iterations, content);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  });
  if (!verifies) throw new Pkcs12WrongPassword();
}

function decipher(cipher: string, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  try {
    const decipher = createDecipheriv(cipher, key, iv);
    return Buffer.concat([decipher.update(data), decipher.final()]);
  } catch {
    // Bad padding is what a wrong key looks like to CBC.
    throw new Pkcs12WrongPassword();
  }
}

function pbes2Decrypt(parameters: asn1js.AsnType | undefined, password: string, data: Uint8Array): Uint8Array {
  let pbes2: PBES2Params;
  let pbkdf2: PBKDF2Params;
  try {
    pbes2 = new PBES2Params({ schema: parameters });
  } catch {
    throw new Pkcs12Malformed();
  }
  if (pbes2.keyDerivationFunc.algorithmId !== OID.pbkdf2) {
    throw new Pkcs12Unsupported(`The PKCS#12 key derivation ${pbes2.keyDerivationFunc.algorithmId} is not supported.`);
  }
  try {
    pbkdf2 = new PBKDF2Params({ schema: pbes2.keyDerivationFunc.algorithmParams });
  } catch {
    throw new Pkcs12Malformed();
  }
  const scheme = PBES2_CIPHERS[pbes2.encryptionScheme.algorithmId];
  if (!scheme) throw new Pkcs12Unsupported(`The PKCS#12 cipher ${pbes2.encryptionScheme.algorithmId} is not supported.`);
  const prf = pbkdf2.prf ? HMAC_PRFS[pbkdf2.prf.algorithmId] : 'sha1';
  if (!prf) throw new Pkcs12Unsupported(`The PKCS#12 PBKDF2 function ${pbkdf2.prf?.algorithmId} is not supported.`);
  const salt = pbkdf2.salt;
  if (!(salt instanceof asn1js.OctetString)) throw new Pkcs12Unsupported('A PBKDF2 salt that is not an OCTET STRING is not supported.');
  const iv = pbes2.encryptionScheme.algorithmParams;
  if (!(iv instanceof asn1js.OctetString)) throw new Pkcs12Malformed();
  // PBES2 takes the password as bytes (UTF-8), unlike the PKCS#12 KDF's UTF-16.
  const key = pbkdf2Sync(
    Buffer.from(password, 'utf8'),
    salt.valueBlock.valueHexView,
    iterationsWithinLimit(pbkdf2.iterationCount),
    scheme.keyLength,
    prf,
  );
  return decipher(scheme.cipher, key, iv.valueBlock.valueHexView, data);
}

/** PKCS#12's own PBE (RFC 7292 appendix C), for the 3DES variants node's OpenSSL still has. */
function pkcs12PbeDecrypt(parameters: asn1js.AsnType | undefined, password: string, data: Uint8Array, twoKey: boolean): Uint8Array {
  if (!(parameters instanceof asn1js.Sequence)) throw new Pkcs12Malformed();
  const [salt, iterations] = parameters.valueBlock.value;
  if (!(salt instanceof asn1js.OctetString) || !(iterations instanceof asn1js.Integer)) throw new Pkcs12Malformed();
  const count = iterationsWithinLimit(iterations.valueBlock.valueDec);
  const saltBytes = salt.valueBlock.valueHexView;
  const passwordBytes = bmpPassword(password);
  let key = pkcs12Kdf('sha1', passwordBytes, saltBytes, count, 1, twoKey ? 16 : 24);
  if (twoKey) key = Buffer.concat([key, key.subarray(0, 8)]);
  const iv = pkcs12Kdf('sha1', passwordBytes, saltBytes, count, 2, 8);
  return decipher('des-ede3-cbc', key, iv, data);
}

function decrypt(algorithm: AlgorithmIdentifier, password: string, data: Uint8Array): Uint8Array {
  switch (algorithm.algorithmId) {
    case OID.pbes2:
      return pbes2Decrypt(algorithm.algorithmParams, password, data);
    case OID.pbeSha1TripleDes:
      return pkcs12PbeDecrypt(algorithm.algorithmParams, password, data, false);
    case OID.pbeSha1TwoKeyTripleDes:
      return pkcs12PbeDecrypt(algorithm.algorithmParams, password, data, true);
    default:
      // RC2 and RC4 (pbeWithSHAAnd40BitRC2-CBC and kin) are in OpenSSL 3's legacy provider, which node does not load.
      throw new Pkcs12Unsupported(`The PKCS#12 encryption ${algorithm.algorithmId} is not supported.`);
  }
}

interface Bags {
  keys: { pkcs8: Uint8Array; localKeyId?: string }[];
  certificates: { der: Uint8Array; localKeyId?: string }[];
}

function localKeyIdOf(bag: SafeBag): string | undefined {
  const attribute = bag.bagAttributes?.find((candidate) => candidate.type === OID.localKeyId);
  const value = attribute?.values[0];
  return value instanceof asn1js.OctetString ? Buffer.from(value.valueBlock.valueHexView).toString('hex') : undefined;
}

function parseSafeContents(bytes: Uint8Array): SafeContents {
  try {
    return SafeContents.fromBER(bytes);
  } catch {
    throw new Pkcs12Malformed();
  }
}

function collectBags(safeContents: SafeContents, password: string, bags: Bags, depth = 0): void {
  for (const bag of safeContents.safeBags) {
    const id = localKeyIdOf(bag);
    if (bag.bagId === OID.keyBag) {
      bags.keys.push({ pkcs8: new Uint8Array(der((bag.bagValue as PrivateKeyInfo).toSchema())), localKeyId: id });
    } else if (bag.bagId === OID.shroudedKeyBag) {
      const shrouded = bag.bagValue as PKCS8ShroudedKeyBag;
      const pkcs8 = decrypt(shrouded.encryptionAlgorithm, password, shrouded.encryptedData.valueBlock.valueHexView);
      const parsed = asn1js.fromBER(pkcs8);
      if (parsed.offset !== pkcs8.length || !(parsed.result instanceof asn1js.Sequence)) throw new Pkcs12WrongPassword();
      bags.keys.push({ pkcs8, localKeyId: id });
    } else if (bag.bagId === OID.certBag) {
      const certBag = bag.bagValue as CertBag;
      if (certBag.certId !== OID.x509Certificate || !(certBag.certValue instanceof asn1js.OctetString)) continue;
      bags.certificates.push({ der: new Uint8Array(certBag.certValue.getValue()), localKeyId: id });
    } else if (bag.bagId === OID.safeContentsBag && depth < 4) {
      collectBags(bag.bagValue as SafeContents, password, bags, depth + 1);
    }
    // CRL and secret bags hold nothing a certificate is made of.
  }
}

export async function readPkcs12(bytes: Uint8Array, password = ''): Promise<CertificateContents> {
  const parsed = asn1js.fromBER(bytes);
  if (bytes.length === 0 || parsed.offset === -1 || parsed.offset !== bytes.length || parsed.result.error) {
    throw new Pkcs12Malformed();
  }
  let pfx: PFX;
  try {
    pfx = new PFX({ schema: parsed.result });
  } catch {
    throw new Pkcs12Malformed();
  }
  if (pfx.authSafe.contentType !== OID.data) {
    throw new Pkcs12Unsupported('PKCS#12 files with public-key integrity (signed) are not supported.');
  }
  if (!(pfx.authSafe.content instanceof asn1js.OctetString)) throw new Pkcs12Malformed();
  const authenticatedSafeBytes = new Uint8Array(pfx.authSafe.content.getValue());
  if (pfx.macData) verifyMac(pfx.macData, authenticatedSafeBytes, password);

  let authenticatedSafe: AuthenticatedSafe;
  try {
    authenticatedSafe = AuthenticatedSafe.fromBER(authenticatedSafeBytes);
  } catch {
    throw new Pkcs12Malformed();
  }
  const bags: Bags = { keys: [], certificates: [] };
  for (const safe of authenticatedSafe.safeContents) {
    if (safe.contentType === OID.data) {
      if (!(safe.content instanceof asn1js.OctetString)) throw new Pkcs12Malformed();
      collectBags(parseSafeContents(new Uint8Array(safe.content.getValue())), password, bags);
    } else if (safe.contentType === OID.encryptedData) {
      let encrypted: EncryptedData;
      try {
        encrypted = new EncryptedData({ schema: safe.content });
      } catch {
        throw new Pkcs12Malformed();
      }
      const info = encrypted.encryptedContentInfo;
      const plain = decrypt(info.contentEncryptionAlgorithm, password, new Uint8Array(info.getEncryptedContent()));
      const inner = asn1js.fromBER(plain);
      if (inner.offset !== plain.length || !(inner.result instanceof asn1js.Sequence)) throw new Pkcs12WrongPassword();
      collectBags(parseSafeContents(plain), password, bags);
    } else {
      throw new Pkcs12Unsupported(`PKCS#12 safes of type ${safe.contentType} (public-key privacy) are not supported.`);
    }
  }

  if (bags.keys.length > 1) throw new Pkcs12Unsupported('A PKCS#12 file with more than one private key is not supported.');
  const key = bags.keys[0];
  // The key's certificate goes first whatever orderChain makes of names: localKeyId says which it is.
  const paired = key?.localKeyId ? bags.certificates.findIndex((certificate) => certificate.localKeyId === key.localKeyId) : -1;
  const ordered = orderChain(bags.certificates.map((certificate) => certificate.der));
  const leaf = paired >= 0 ? bags.certificates[paired]!.der : undefined;
  const chain = leaf && ordered[0] !== leaf ? [leaf, ...ordered.filter((certificate) => certificate !== leaf)] : ordered;
  return key ? { privateKeyPkcs8: key.pkcs8, chain } : { chain };
}
