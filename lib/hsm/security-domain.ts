import { createDecipheriv, createHash, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { CompactEncrypt, calculateJwkThumbprint, compactDecrypt, type JWK } from 'jose';
import { combine, split } from 'shamir-secret-sharing';
import { BadParameter } from '../core/errors.ts';

/**
 * A managed HSM pool's security domain (docs/adr/0022-pool-data-plane.md): the pool's domain key,
 * split with Shamir's secret sharing into one share per certificate of its security officers, each
 * share encrypted to its certificate, `required` of them enough to rebuild the key. Downloading it
 * activates the pool; uploading a quorum of its shares, each re-encrypted by the officers to the
 * pool's transfer key, restores the domain key into another pool.
 *
 * The key material comes from the HSM's random generator, is split here and imported into the HSM as
 * its trusted, non-extractable domain key (ADR 0019: a key made inside the HSM could never be split),
 * and the buffers holding it and its shares are zero-filled as soon as the import returns. Coffer
 * keeps no share: the blob is the caller's.
 */
export const SECURITY_DOMAIN_FORMAT = 'coffer-security-domain-1';
export const SECURITY_DOMAIN_UPLOAD_FORMAT = 'coffer-security-domain-upload-1';
/** An AES-256 domain key. */
export const DOMAIN_KEY_BYTES = 32;
const MIN_CERTIFICATES = 3;
const MAX_CERTIFICATES = 10;
const MIN_QUORUM = 2;
const MAX_QUORUM = 10;
const MIN_RSA_BITS = 2048;
/** The shares' encryption to the officers' certificates: done by Coffer in software, with the certificate's public key. */
const SHARE_ALGORITHM = { alg: 'RSA-OAEP-256', enc: 'A256GCM' } as const;
/**
 * The shares' encryption to the transfer key: the key lives in the pool's HSM, which decrypts the
 * content key; SoftHSM2 implements RSA-OAEP with SHA-1 only (ADR 0019), so upload uses RSA-OAEP.
 */
const TRANSFER_ALGORITHM = { alg: 'RSA-OAEP', enc: 'A256GCM' } as const;

/** A certificate of the download request (securitydomain.json SecurityDomainJsonWebKey): an RSA JWK with its x5c chain. */
export interface SecurityDomainCertificate {
  kid?: string | null;
  kty?: string | null;
  n?: string | null;
  e?: string | null;
  x5c?: string[] | null;
  'x5t#S256'?: string | null;
  [member: string]: unknown;
}

export interface SecurityDomainDownloadRequest {
  certificates: SecurityDomainCertificate[];
  required: number;
}

/** What the download answers as `value` (a JSON string): everything an officer needs to restore the pool's domain key elsewhere. */
export interface SecurityDomainBlob {
  format: typeof SECURITY_DOMAIN_FORMAT;
  /** The pool whose domain key this is. */
  pool: string;
  /** The domain key's handle in that pool's HSM. */
  domainKey: string;
  required: number;
  /**
   * One per certificate, in the request's order: the certificate's thumbprint, its key's RFC 7638
   * thumbprint (how an officer's private key finds its share), and the share as a compact JWE to it.
   */
  shares: { kid?: string; 'x5t#S256': string; keyThumbprint: string; share: string }[];
}

/** What an upload takes as `value`: a quorum of the shares, each re-encrypted to the target pool's transfer key. */
export interface SecurityDomainUploadBlob {
  format: typeof SECURITY_DOMAIN_UPLOAD_FORMAT;
  /** The pool the security domain was downloaded from, and its domain key's handle there. */
  pool: string;
  domainKey: string;
  required: number;
  /** The transfer key's `kid` the shares are encrypted to. */
  transferKey: string;
  /** Compact JWEs (RSA-OAEP, A256GCM) of the shares, at least `required` of them. */
  shares: string[];
}

/** What the download needs of the pool's HSM (the PoolHsm port and its PKCS#11 adapter provide it). */
export interface DomainKeyHsm {
  randomBytes(count: number): Promise<Buffer>;
  /** The material as the pool's trusted, non-extractable AES domain key, made by the security officer (under `handle`, if given); answers its handle. */
  importDomainKey(material: Uint8Array, handle?: string): Promise<string>;
}

/** The request's certificates and quorum, checked before anything is generated: precise 400s. */
function checkDownloadRequest(request: SecurityDomainDownloadRequest): { keys: KeyObject[]; thumbprints: string[] } {
  const { certificates, required } = request;
  if (certificates.length < MIN_CERTIFICATES || certificates.length > MAX_CERTIFICATES) {
    throw new BadParameter(
      `A security domain is encrypted to ${MIN_CERTIFICATES} to ${MAX_CERTIFICATES} certificates; the request has ${certificates.length}.`,
    );
  }
  if (!Number.isInteger(required) || required < MIN_QUORUM || required > MAX_QUORUM) {
    throw new BadParameter(`The quorum 'required' is ${MIN_QUORUM} to ${MAX_QUORUM} shares.`);
  }
  if (required > certificates.length) {
    throw new BadParameter(`The quorum 'required' (${required}) is more than the number of certificates (${certificates.length}).`);
  }
  const keys = certificates.map((certificate, index) => certificateKey(certificate, index));
  const thumbprints = certificates.map((certificate) => thumbprintOf(certificate.x5c![0]!));
  if (new Set(thumbprints).size !== thumbprints.length) throw new BadParameter('The certificates must differ: a certificate appears twice.');
  return { keys, thumbprints };
}

/**
 * The pool's domain key, made and imported into its HSM, and the blob that restores it: material
 * from the HSM's generator, split into one share per certificate, each share a JWE to its certificate.
 */
export async function downloadSecurityDomain(
  pool: string,
  request: SecurityDomainDownloadRequest,
  hsm: DomainKeyHsm,
): Promise<{ blob: SecurityDomainBlob; domainKey: string }> {
  const { keys, thumbprints } = checkDownloadRequest(request);
  const random = await hsm.randomBytes(DOMAIN_KEY_BYTES);
  // The library takes plain Uint8Arrays only, not Buffers.
  const material = new Uint8Array(random);
  random.fill(0);
  let shares: Uint8Array[] = [];
  try {
    shares = await split(material, request.certificates.length, request.required);
    const encrypted = await Promise.all(
      shares.map(async (share, index) => {
        const kid = request.certificates[index]!.kid ?? undefined;
        const header = { ...SHARE_ALGORITHM, 'x5t#S256': thumbprints[index]!, ...(kid ? { kid } : {}) };
        const jwe = await new CompactEncrypt(share).setProtectedHeader(header).encrypt(keys[index]!);
        const keyThumbprint = await keyThumbprintOf(keys[index]!);
        return { ...(kid ? { kid } : {}), 'x5t#S256': thumbprints[index]!, keyThumbprint, share: jwe };
      }),
    );
    const domainKey = await hsm.importDomainKey(material);
    return { blob: { format: SECURITY_DOMAIN_FORMAT, pool, domainKey, required: request.required, shares: encrypted }, domainKey };
  } finally {
    material.fill(0);
    for (const share of shares) share.fill(0);
  }
}

/**
 * The officers' side (scripts/security-domain.ts `restore`): a quorum of the blob's shares, each
 * decrypted with its officer's private key and encrypted again to the target pool's transfer key.
 * The shares are in the clear only in the officers' own process.
 */
export async function restoreForUpload(
  blob: SecurityDomainBlob,
  privateKeys: readonly KeyObject[],
  transferKey: JWK & { kid: string },
): Promise<SecurityDomainUploadBlob> {
  if (blob.format !== SECURITY_DOMAIN_FORMAT) throw new BadParameter(`The security domain is not in the '${SECURITY_DOMAIN_FORMAT}' format.`);
  if (privateKeys.length < blob.required) {
    throw new BadParameter(`The security domain needs ${blob.required} of its officers' keys; ${privateKeys.length} were given.`);
  }
  const target = createPublicKey({ key: { kty: 'RSA', n: transferKey.n!, e: transferKey.e! }, format: 'jwk' });
  const shares: string[] = [];
  const used = new Set<string>();
  for (const privateKey of privateKeys) {
    const keyThumbprint = await keyThumbprintOf(createPublicKey(privateKey));
    const mine = blob.shares.find((share) => share.keyThumbprint === keyThumbprint);
    if (!mine) throw new BadParameter("A private key given is no officer's of this security domain.");
    if (used.has(keyThumbprint)) throw new BadParameter("The same officer's key was given twice: a quorum is of different officers.");
    used.add(keyThumbprint);
    const { plaintext } = await compactDecrypt(mine.share, privateKey);
    try {
      shares.push(await new CompactEncrypt(plaintext).setProtectedHeader({ ...TRANSFER_ALGORITHM, kid: transferKey.kid }).encrypt(target));
    } finally {
      plaintext.fill(0);
    }
  }
  return {
    format: SECURITY_DOMAIN_UPLOAD_FORMAT,
    pool: blob.pool,
    domainKey: blob.domainKey,
    required: blob.required,
    transferKey: transferKey.kid,
    shares,
  };
}

/**
 * The pool's side of an upload: each share's content key decrypted by the transfer key inside the
 * HSM (`unwrapContentKey`), the share decrypted, the quorum combined into the domain key's material
 * and imported; every buffer that held key material zero-filled before this returns.
 */
export async function importUploadedDomain(
  upload: SecurityDomainUploadBlob,
  transferKeyId: string,
  unwrapContentKey: (encryptedKey: Buffer) => Promise<Buffer>,
  hsm: Pick<DomainKeyHsm, 'importDomainKey'>,
): Promise<string> {
  if (upload.format !== SECURITY_DOMAIN_UPLOAD_FORMAT) {
    throw new BadParameter(`The security domain upload is not in the '${SECURITY_DOMAIN_UPLOAD_FORMAT}' format.`);
  }
  if (upload.transferKey !== transferKeyId) {
    throw new BadParameter("The security domain's shares are encrypted to another transfer key: get this pool's with GET /securitydomain/upload.");
  }
  if (upload.shares.length < upload.required)
    throw new BadParameter(`The upload holds ${upload.shares.length} shares; the quorum is ${upload.required}.`);
  const shares: Uint8Array[] = [];
  let material: Uint8Array | undefined;
  try {
    for (const jwe of upload.shares) {
      const share = await decryptToTransferKey(jwe, unwrapContentKey);
      shares.push(new Uint8Array(share));
      share.fill(0);
    }
    material = await combine(shares);
    if (material.length !== DOMAIN_KEY_BYTES) throw new BadParameter('The shares do not combine into a domain key.');
    // Under the source pool's handle: the keys of that pool's backups name their domain key by it.
    return await hsm.importDomainKey(material, upload.domainKey);
  } finally {
    material?.fill(0);
    for (const share of shares) share.fill(0);
  }
}

/** A compact JWE (RSA-OAEP, A256GCM) whose content key the HSM decrypts. */
async function decryptToTransferKey(jwe: string, unwrapContentKey: (encryptedKey: Buffer) => Promise<Buffer>): Promise<Buffer> {
  const parts = jwe.split('.');
  if (parts.length !== 5) throw new BadParameter('A share of the upload is not a compact JWE.');
  const [protectedHeader, encryptedKey, iv, ciphertext, tag] = parts as [string, string, string, string, string];
  let header: { alg?: unknown; enc?: unknown };
  try {
    header = JSON.parse(Buffer.from(protectedHeader, 'base64url').toString('utf8')) as typeof header;
  } catch {
    throw new BadParameter("A share's JWE header is not JSON.");
  }
  if (header.alg !== TRANSFER_ALGORITHM.alg || header.enc !== TRANSFER_ALGORITHM.enc) {
    throw new BadParameter(`A share is encrypted to the transfer key with ${TRANSFER_ALGORITHM.alg} and ${TRANSFER_ALGORITHM.enc}.`);
  }
  const contentKey = await unwrapContentKey(Buffer.from(encryptedKey, 'base64url'));
  try {
    const decipher = createDecipheriv('aes-256-gcm', contentKey, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(protectedHeader, 'ascii'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
  } catch {
    throw new BadParameter("A share of the upload could not be decrypted with this pool's transfer key.");
  } finally {
    contentKey.fill(0);
  }
}

/** The certificate's RSA public key (x5c[0]), which the JWK's n and e, where given, must be. */
function certificateKey(certificate: SecurityDomainCertificate, index: number): KeyObject {
  const which = `Certificate ${index + 1}`;
  if (certificate.kty !== 'RSA' && certificate.kty !== 'RSA-HSM') throw new BadParameter(`${which} is not an RSA key (kty 'RSA').`);
  const der = certificate.x5c?.[0];
  if (typeof der !== 'string' || der === '') throw new BadParameter(`${which} has no certificate (x5c).`);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(Buffer.from(der, 'base64'));
  } catch {
    throw new BadParameter(`${which}'s x5c[0] is not a base64 DER X.509 certificate.`);
  }
  const key = x509.publicKey;
  if (key.asymmetricKeyType !== 'rsa') throw new BadParameter(`${which}'s certificate does not hold an RSA key.`);
  if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS)
    throw new BadParameter(`${which}'s RSA key is shorter than ${MIN_RSA_BITS} bits.`);
  const jwk = key.export({ format: 'jwk' });
  if ((certificate.n != null && certificate.n !== jwk.n) || (certificate.e != null && certificate.e !== jwk.e)) {
    throw new BadParameter(`${which}'s n and e are not its certificate's key.`);
  }
  const stated = certificate['x5t#S256'];
  if (stated != null && stated !== thumbprintOf(der)) throw new BadParameter(`${which}'s x5t#S256 is not its certificate's thumbprint.`);
  return key;
}

/** The certificate's SHA-256 thumbprint, base64url, as JWK's `x5t#S256`. */
function thumbprintOf(derBase64: string): string {
  return createHash('sha256').update(Buffer.from(derBase64, 'base64')).digest('base64url');
}

/** An RSA public key's RFC 7638 thumbprint (SHA-256, base64url). */
function keyThumbprintOf(key: KeyObject): Promise<string> {
  const { kty, n, e } = key.export({ format: 'jwk' });
  return calculateJwkThumbprint({ kty: kty!, n: n!, e: e! });
}
