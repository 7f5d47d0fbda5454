import { X509Certificate, createHash, createPublicKey, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { type EntraError, entraErrors } from './errors.ts';
import type { CertificateRecord, ServicePrincipalRecord } from './registry.ts';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

// scrypt with N=2^14 costs ~16 MiB and tens of milliseconds: cheap for a token request that
// MSAL caches for an hour, expensive for anyone brute-forcing a copied registry file.
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;
const SCRYPT_MAXMEM = 64 * 1024 * 1024;

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
// MSAL signs with PS256 when it has a SHA-256 thumbprint (what @azure/identity passes) and
// RS256 otherwise; Entra accepts both.
const ASSERTION_ALGORITHMS = ['RS256', 'PS256'];
const CLOCK_SKEW_SECONDS = 300;
// Assertions are meant to be short-lived (MSAL uses 10 minutes). Capping the lifetime also
// bounds how long a jti has to be remembered.
const MAX_ASSERTION_LIFETIME_SECONDS = 24 * 60 * 60;

/** A client secret in the shape Entra hands them out: 40 URL-safe characters. */
export function newClientSecret(): string {
  return randomBytes(30).toString('base64url');
}

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(secret, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: SCRYPT_MAXMEM });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(secret, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT_MAXMEM,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Thumbprints as they appear in JWS `x5t` / `x5t#S256` headers (base64url of the digest). */
export function certificateThumbprints(certificatePem: string): { x5t: string; x5tS256: string; notAfter: string } {
  const cert = new X509Certificate(certificatePem);
  return {
    x5t: createHash('sha1').update(cert.raw).digest('base64url'),
    x5tS256: createHash('sha256').update(cert.raw).digest('base64url'),
    notAfter: new Date(cert.validTo).toISOString(),
  };
}

/**
 * Remembers the `jti` of accepted assertions until they expire, so an assertion captured
 * from a request log or proxy cannot be replayed. In memory only: a restart forgets, which
 * is acceptable for a development IdP.
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();
  private inserts = 0;

  /** Records the id; returns false if it was already used and has not expired yet. */
  claim(id: string, expiresAt: number, now: number): boolean {
    if (++this.inserts % 256 === 0) this.prune(now);
    const previous = this.seen.get(id);
    if (previous !== undefined && previous >= now) return false;
    this.seen.set(id, expiresAt + CLOCK_SKEW_SECONDS);
    return true;
  }

  private prune(now: number): void {
    for (const [id, expiresAt] of this.seen) if (expiresAt < now) this.seen.delete(id);
  }
}

/**
 * Verifies a private_key_jwt client assertion (RFC 7523) the way Entra does: the signing
 * certificate is found by thumbprint among the application's registered certificates; iss
 * and sub must be the client id; aud must be this tenant's token endpoint.
 */
export async function verifyClientAssertion(
  assertion: string,
  principal: ServicePrincipalRecord,
  audiences: string[],
  replay: ReplayCache,
): Promise<void> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    throw entraErrors.malformedAssertion();
  }
  const alg = typeof header.alg === 'string' ? header.alg : '';
  if (!ASSERTION_ALGORITHMS.includes(alg)) throw entraErrors.unsupportedAssertionAlgorithm(alg || 'none');

  const x5tS256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
  const x5t = typeof header.x5t === 'string' ? header.x5t : undefined;
  const certificate = findCertificate(principal.certificates, x5tS256, x5t);
  if (!certificate) {
    throw entraErrors.unknownCertificate(principal.clientId, thumbprintForMessage(x5tS256 ?? x5t));
  }
  if (Date.parse(certificate.notAfter) <= Date.now()) throw entraErrors.expiredCertificate(principal.clientId);

  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(assertion, publicKeyFor(certificate), {
      algorithms: [alg],
      issuer: principal.clientId,
      subject: principal.clientId,
      audience: audiences,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp', 'jti'],
    }));
  } catch (error) {
    throw mapJoseError(error);
  }
  const now = Math.floor(Date.now() / 1000);
  const exp = payload.exp ?? 0;
  if (exp - now > MAX_ASSERTION_LIFETIME_SECONDS) throw entraErrors.assertionTime();
  if (!replay.claim(`${principal.clientId}:${String(payload.jti)}`, exp, now)) throw entraErrors.assertionReplay();
}

/**
 * Finds the registered certificate a thumbprint header names. The headers are compared as the digests
 * they encode, not as strings: MSAL for Python sends `x5t` as base64url *with* its `=` padding, @azure/identity
 * without, and Entra accepts both. A present `x5t#S256` decides, since SHA-256 is the stronger name.
 */
function findCertificate(certificates: CertificateRecord[], x5tS256: string | undefined, x5t: string | undefined): CertificateRecord | undefined {
  if (x5tS256 !== undefined) {
    const digest = thumbprintDigest(x5tS256, SHA256_BYTES);
    return digest && certificates.find((c) => digest.equals(Buffer.from(c.x5tS256, 'base64url')));
  }
  if (x5t !== undefined) {
    const digest = thumbprintDigest(x5t, SHA1_BYTES);
    return digest && certificates.find((c) => digest.equals(Buffer.from(c.x5t, 'base64url')));
  }
  return undefined;
}

const SHA1_BYTES = 20;
const SHA256_BYTES = 32;

/**
 * The digest a thumbprint header carries: base64url (RFC 7515 §4.1.7), its padding optional. Anything else,
 * or a digest of the wrong length, names no certificate. Node's base64url decoder alone would skip stray
 * characters, so the alphabet is checked first.
 */
function thumbprintDigest(value: string, length: number): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(value)) return undefined;
  const digest = Buffer.from(value.replace(/=+$/, ''), 'base64url');
  return digest.length === length ? digest : undefined;
}

function thumbprintForMessage(value: string | undefined): string {
  if (!value) return '(none)';
  // Entra reports the hex thumbprint that portals show, not the base64url header value.
  const digest = thumbprintDigest(value, SHA256_BYTES) ?? thumbprintDigest(value, SHA1_BYTES);
  return digest ? digest.toString('hex').toUpperCase() : '(invalid)';
}

const publicKeys = new Map<string, KeyObject>();

function publicKeyFor(certificate: CertificateRecord): KeyObject {
  let key = publicKeys.get(certificate.x5tS256);
  if (!key) {
    key = createPublicKey(certificate.certificatePem);
    publicKeys.set(certificate.x5tS256, key);
  }
  return key;
}

function mapJoseError(error: unknown): EntraError {
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return entraErrors.assertionSignature();
  if (error instanceof joseErrors.JWTExpired) return entraErrors.assertionTime();
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return entraErrors.assertionAudience();
    if (error.claim === 'iss' || error.claim === 'sub') return entraErrors.assertionClientMismatch();
    if (error.claim === 'nbf' || error.claim === 'iat' || error.claim === 'exp') return entraErrors.assertionTime();
    return entraErrors.malformedAssertion();
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return entraErrors.unsupportedAssertionAlgorithm('unknown');
  return entraErrors.malformedAssertion();
}
