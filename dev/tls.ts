/**
 * Local certificate authority for the development stack.
 *
 * The Azure SDKs refuse plain HTTP for bearer-token traffic, so the gateway and the
 * development identity provider speak HTTPS with certificates that Node accepts.
 * Instead of disabling verification anywhere, we mint a small private CA once per data
 * directory and have clients trust it explicitly (NODE_EXTRA_CA_CERTS=<caFile>, the `ca`
 * TLS option, or tls.setDefaultCACertificates()).
 *
 * The CA carries a critical nameConstraints extension limiting it to `localhost` (and its
 * sub-domains), 127.0.0.0/8 and ::1: developers may add it to a system trust store, and a
 * leaked development CA key must not be able to impersonate real sites.
 *
 * Certificates are made with @peculiar/x509 over node:crypto's WebCrypto. The library resolves
 * its algorithms through tsyringe, which needs the Reflect metadata API: reflect-metadata is
 * imported first (the gateway and the handlers never load this file).
 */
import 'reflect-metadata';
import { createPrivateKey, KeyObject, X509Certificate as NodeCertificate, randomBytes, webcrypto } from 'node:crypto';
import { chmod, link, mkdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, id_ce_nameConstraints, NameConstraints } from '@peculiar/asn1-x509';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
} from '@peculiar/x509';
import { writeNewFile } from './files.ts';

export interface LocalCa {
  certPem: string;
  keyPem: string;
  /** Absolute path of the CA certificate PEM. */
  caFile: string;
}

export interface ServerCertificateNames {
  dns: string[];
  ips: string[];
}

export interface CertificateAndKey {
  certPem: string;
  /** PKCS#8 PEM. */
  keyPem: string;
}

const CA_VALIDITY_DAYS = 3650;
// Browsers cap publicly trusted leaf lifetimes at ~398 days; staying under that keeps the
// certificate acceptable to every client even though this CA is private.
const SERVER_VALIDITY_DAYS = 365;
const DAY_MS = 24 * 60 * 60 * 1000;
// Tolerate clocks that are slightly behind (containers, VMs resumed from sleep).
const BACKDATE_MS = 60 * 60 * 1000;

const crypto = webcrypto;
const EC_P256: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const ECDSA_SHA256: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
// RSA because MSAL signs client assertions with RS256/PS256.
const RSA_2048: webcrypto.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};

// Two callers in the same process (e.g. the gateway and the IdP starting concurrently)
// must not both try to create the CA.
const pending = new Map<string, Promise<LocalCa>>();

/** Creates <dataDir>/tls/ca.pem and ca-key.pem (0600) on first use and reuses them afterwards. */
export async function ensureLocalCa(dataDir: string): Promise<LocalCa> {
  const dir = join(resolve(dataDir), 'tls');
  let promise = pending.get(dir);
  if (!promise) {
    promise = loadOrCreateCa(dir);
    pending.set(dir, promise);
    // A failure must not be cached: the next call should retry.
    promise.catch(() => pending.delete(dir));
  }
  return promise;
}

/** A TLS server certificate (serverAuth) for the given names, signed by the local CA. */
export async function issueServerCertificate(ca: LocalCa, names: ServerCertificateNames): Promise<CertificateAndKey> {
  const dns = names.dns.map((n) => n.trim().toLowerCase()).filter((n) => n.length > 0);
  const ips = names.ips.map((n) => n.trim()).filter((n) => n.length > 0);
  const firstName = dns[0] ?? ips[0];
  if (firstName === undefined) throw new Error('A server certificate needs at least one DNS name or IP address');
  // Fail here rather than with an opaque "permitted subtree violation" during the handshake.
  const outside = [...dns.filter((n) => n !== 'localhost' && !n.endsWith('.localhost')), ...ips.filter((ip) => !isLoopbackIp(ip))];
  if (outside.length > 0) {
    throw new Error(`The local CA only certifies localhost names and loopback addresses; refusing ${outside.join(', ')}`);
  }

  const caCert = new X509Certificate(ca.certPem);
  const issuer = caSigningKey(ca.keyPem);
  const keys = await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const now = Date.now();
  // A leaf outliving its issuer fails verification anyway; capping it makes the failure
  // read "CA expired" instead of a confusing chain error.
  const notAfter = Math.min(now + SERVER_VALIDITY_DAYS * DAY_MS, caCert.notAfter.getTime());

  const cert = await X509CertificateGenerator.create(
    {
      // The CA's subject as it is encoded in the CA certificate, so the chain links byte for byte.
      issuer: caCert.subjectName,
      subject: distinguishedName({ CN: firstName }),
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(notAfter),
      publicKey: keys.publicKey,
      signingKey: issuer.key,
      signingAlgorithm: issuer.algorithm,
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
        new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth], false),
        // Clients ignore the CN when SANs are present, so every name must be listed here.
        new SubjectAlternativeNameExtension(
          [...dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))],
          false,
        ),
        await SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { certPem: pemOf(cert), keyPem: privateKeyPem(keys.privateKey) };
}

/**
 * A self-signed RSA certificate for client authentication (the identity provider's
 * service-principal certificates).
 */
export async function createClientAuthCertificate(name: string, validityDays = 365): Promise<CertificateAndKey> {
  const keys = await crypto.subtle.generateKey(RSA_2048, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await X509CertificateGenerator.createSelfSigned(
    {
      name: distinguishedName({ CN: name }),
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + validityDays * DAY_MS),
      keys,
      signingAlgorithm: RSA_2048,
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
        new ExtendedKeyUsageExtension([ExtendedKeyUsage.clientAuth], false),
        await SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { certPem: pemOf(cert), keyPem: privateKeyPem(keys.privateKey) };
}

// ---------------------------------------------------------------------------------------
// CA persistence

async function loadOrCreateCa(dir: string): Promise<LocalCa> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'ca-key.pem');

  const existing = await tryLoadCa(caFile, keyFile);
  if (existing) return existing;

  const created = await createCa();
  const suffix = randomBytes(6).toString('hex');
  const tmpKey = `${keyFile}.${suffix}.tmp`;
  const tmpCert = `${caFile}.${suffix}.tmp`;
  await writeNewFile(tmpKey, created.keyPem, 0o600);
  await writeNewFile(tmpCert, created.certPem, 0o644);
  try {
    // link() fails with EEXIST instead of overwriting, which makes "who creates the CA"
    // atomic across processes (parallel test workers, a second `npm start`).
    await link(tmpKey, keyFile);
  } catch (err) {
    await Promise.allSettled([unlink(tmpKey), unlink(tmpCert)]);
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return waitForCa(caFile, keyFile);
  }
  await rename(tmpCert, caFile);
  await unlink(tmpKey);
  return { certPem: created.certPem, keyPem: created.keyPem, caFile };
}

async function waitForCa(caFile: string, keyFile: string): Promise<LocalCa> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const ca = await tryLoadCa(caFile, keyFile);
    if (ca) return ca;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `Local CA at ${keyFile} has a private key but no certificate (${caFile}); ` +
      'an earlier run was probably interrupted. Delete both files to regenerate the CA.',
  );
}

async function tryLoadCa(caFile: string, keyFile: string): Promise<LocalCa | undefined> {
  let certPem: string;
  let keyPem: string;
  try {
    [certPem, keyPem] = await Promise.all([readFile(caFile, 'utf8'), readFile(keyFile, 'utf8')]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  // The key may have been copied around with a permissive umask; it is a CA key.
  const keyStat = await stat(keyFile);
  if ((keyStat.mode & 0o077) !== 0) await chmod(keyFile, 0o600);

  const cert = new NodeCertificate(certPem);
  if (!cert.ca) throw new Error(`${caFile} is not a CA certificate`);
  if (!cert.checkPrivateKey(createPrivateKey(keyPem))) {
    throw new Error(`${keyFile} does not match ${caFile}; delete both to regenerate the local CA`);
  }
  if (Date.parse(cert.validTo) <= Date.now()) {
    throw new Error(`Local CA ${caFile} expired on ${cert.validTo}; delete ${caFile} and ${keyFile} to regenerate it`);
  }
  return { certPem, keyPem, caFile };
}

async function createCa(): Promise<CertificateAndKey> {
  const keys = await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await X509CertificateGenerator.createSelfSigned(
    {
      // A random tag tells apart the CAs of different checkouts in a system trust store.
      name: distinguishedName({ CN: `Coffer Local Development CA ${randomBytes(4).toString('hex')}`, O: 'Coffer development' }),
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
      keys,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [
        // pathLenConstraint 0: this CA only ever signs leaf certificates.
        new BasicConstraintsExtension(true, 0, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        new Extension(id_ce_nameConstraints, true, AsnConvert.serialize(loopbackNameConstraints())),
        await SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { certPem: pemOf(cert), keyPem: privateKeyPem(keys.privateKey) };
}

/** NameConstraints permitting only localhost names and loopback addresses. */
function loopbackNameConstraints(): NameConstraints {
  const permitted = (base: GeneralName) => new GeneralSubtree({ base });
  return new NameConstraints({
    permittedSubtrees: new GeneralSubtrees([
      // A dNSName constraint "localhost" matches localhost and every *.localhost name.
      permitted(new GeneralName({ dNSName: 'localhost' })),
      permitted(new GeneralName({ iPAddress: '127.0.0.0/8' })),
      permitted(new GeneralName({ iPAddress: '::1/128' })),
    ]),
  });
}

/** How a CA key of each kind signs; this file makes P-256 CAs, the others are CAs put in place by hand. */
const CA_SIGNING: Record<
  string,
  { importAs: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams; signWith: webcrypto.EcdsaParams | webcrypto.Algorithm }
> = {
  'ec prime256v1': { importAs: EC_P256, signWith: ECDSA_SHA256 },
  'ec secp384r1': { importAs: { name: 'ECDSA', namedCurve: 'P-384' }, signWith: { name: 'ECDSA', hash: 'SHA-384' } },
  rsa: { importAs: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, signWith: { name: 'RSASSA-PKCS1-v1_5' } },
};

/** The CA's private key in the WebCrypto form the generator takes, and the algorithm it signs with. */
function caSigningKey(pem: string): { key: webcrypto.CryptoKey; algorithm: webcrypto.EcdsaParams | webcrypto.Algorithm } {
  const key = createPrivateKey(pem);
  const kind = [key.asymmetricKeyType, key.asymmetricKeyDetails?.namedCurve].filter(Boolean).join(' ');
  const signing = CA_SIGNING[kind];
  if (!signing) throw new Error(`Unsupported CA key (${kind || 'unknown'}); delete ca.pem and ca-key.pem to regenerate the local CA`);
  return { key: key.toCryptoKey(signing.importAs, false, ['sign']), algorithm: signing.signWith };
}

/** Names as UTF8String, which RFC 5280 asks of new certificates (and as earlier CAs here were written). */
function distinguishedName(attributes: Record<string, string>): Name {
  return new Name(Object.entries(attributes).map(([type, value]) => ({ [type]: [{ utf8String: value }] })));
}

// Each family on its own list: an IPv4-mapped address (::ffff:127.0.0.1) is not ::1, and the name
// constraints would not cover it.
const IPV4_LOOPBACK = new BlockList();
IPV4_LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
const IPV6_LOOPBACK = new BlockList();
IPV6_LOOPBACK.addAddress('::1', 'ipv6');

function isLoopbackIp(ip: string): boolean {
  const version = isIP(ip);
  if (version === 4) return IPV4_LOOPBACK.check(ip, 'ipv4');
  if (version === 6) return IPV6_LOOPBACK.check(ip, 'ipv6');
  throw new Error(`Not an IP address: ${ip}`);
}

/** PEM as Node writes it, ending in a newline: a certificate and a key concatenate into one valid file. */
function pemOf(cert: X509Certificate): string {
  return new NodeCertificate(Buffer.from(cert.rawData)).toString();
}

function privateKeyPem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}
