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
 * Certificates are assembled as DER with node:crypto signing rather than with
 * @peculiar/x509: that library needs a global Reflect metadata polyfill (tsyringe), which
 * is not a declared dependency here and would leak into every process importing this file.
 */
import { X509Certificate, createHash, createPrivateKey, generateKeyPair, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { chmod, link, mkdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { writeNewFile } from './files.ts';
import { promisify } from 'node:util';

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

const generateKeyPairAsync = promisify(generateKeyPair);

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
  const caKey = createPrivateKey(ca.keyPem);
  const { publicKey, privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  // A leaf outliving its issuer fails verification anyway; capping it makes the failure
  // read "CA expired" instead of a confusing chain error.
  const notAfter = Math.min(now + SERVER_VALIDITY_DAYS * DAY_MS, Date.parse(caCert.validTo));

  const certDer = buildCertificate({
    issuer: subjectNameDer(caCert.raw),
    subject: distinguishedName({ commonName: firstName }),
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(notAfter),
    publicKey,
    signingKey: caKey,
    extensions: [
      extension(OID.basicConstraints, true, der(SEQUENCE, Buffer.alloc(0))),
      extension(OID.keyUsage, true, keyUsage(['digitalSignature'])),
      extension(OID.extKeyUsage, false, der(SEQUENCE, oid(OID.serverAuth))),
      // Clients ignore the CN when SANs are present, so every name must be listed here.
      extension(OID.subjectAltName, false, der(SEQUENCE, ...dns.map((n) => der(0x82, Buffer.from(n, 'ascii'))), ...ips.map((ip) => der(0x87, ipBytes(ip))))),
      extension(OID.subjectKeyIdentifier, false, der(OCTET_STRING, keyIdentifier(publicKey))),
      extension(OID.authorityKeyIdentifier, false, der(SEQUENCE, der(0x80, keyIdentifier(caCert.publicKey)))),
    ],
  });
  return { certPem: toPem('CERTIFICATE', certDer), keyPem: privateKeyPem(privateKey) };
}

/**
 * A self-signed RSA certificate for client authentication (the identity provider's
 * service-principal certificates). RSA because MSAL signs client assertions with RS256/PS256.
 */
export async function createClientAuthCertificate(commonName: string, validityDays = 365): Promise<CertificateAndKey> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const now = Date.now();
  const name = distinguishedName({ commonName });
  const certDer = buildCertificate({
    issuer: name,
    subject: name,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + validityDays * DAY_MS),
    publicKey,
    signingKey: privateKey,
    extensions: [
      extension(OID.basicConstraints, true, der(SEQUENCE, Buffer.alloc(0))),
      extension(OID.keyUsage, true, keyUsage(['digitalSignature'])),
      extension(OID.extKeyUsage, false, der(SEQUENCE, oid(OID.clientAuth))),
      extension(OID.subjectKeyIdentifier, false, der(OCTET_STRING, keyIdentifier(publicKey))),
    ],
  });
  return { certPem: toPem('CERTIFICATE', certDer), keyPem: privateKeyPem(privateKey) };
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

  const cert = new X509Certificate(certPem);
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
  const { publicKey, privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  // A random tag tells apart the CAs of different checkouts in a system trust store.
  const name = distinguishedName({
    commonName: `Coffer Local Development CA ${randomBytes(4).toString('hex')}`,
    organization: 'Coffer development',
  });
  const certDer = buildCertificate({
    issuer: name,
    subject: name,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
    publicKey,
    signingKey: privateKey,
    extensions: [
      // pathLenConstraint 0: this CA only ever signs leaf certificates.
      extension(OID.basicConstraints, true, der(SEQUENCE, BOOLEAN_TRUE, integer(Buffer.from([0])))),
      extension(OID.keyUsage, true, keyUsage(['keyCertSign', 'cRLSign'])),
      extension(OID.nameConstraints, true, loopbackNameConstraints()),
      extension(OID.subjectKeyIdentifier, false, der(OCTET_STRING, keyIdentifier(publicKey))),
    ],
  });
  return { certPem: toPem('CERTIFICATE', certDer), keyPem: privateKeyPem(privateKey) };
}

// ---------------------------------------------------------------------------------------
// Minimal DER / X.509 v3 encoding (RFC 5280)

const SEQUENCE = 0x30;
const SET = 0x31;
const OCTET_STRING = 0x04;
const BIT_STRING = 0x03;
const BOOLEAN_TRUE = Buffer.from([0x01, 0x01, 0xff]);

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  nameConstraints: '2.5.29.30',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  sha256WithRsa: '1.2.840.113549.1.1.11',
} as const;

interface CertificateSpec {
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  signingKey: KeyObject;
  extensions: Buffer[];
}

function buildCertificate(spec: CertificateSpec): Buffer {
  const { algorithm, hash } = signatureAlgorithm(spec.signingKey);
  const tbs = der(
    SEQUENCE,
    der(0xa0, integer(Buffer.from([2]))), // v3
    integer(randomSerial()),
    algorithm,
    spec.issuer,
    der(SEQUENCE, time(spec.notBefore), time(spec.notAfter)),
    spec.subject,
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, der(SEQUENCE, ...spec.extensions)),
  );
  // node:crypto emits DER-encoded ECDSA signatures and PKCS#1 v1.5 RSA signatures, which
  // is exactly what the ecdsa-with-SHA* / sha256WithRSAEncryption identifiers specify.
  const signature = sign(hash, tbs, spec.signingKey);
  return der(SEQUENCE, tbs, algorithm, der(BIT_STRING, Buffer.from([0]), signature));
}

function signatureAlgorithm(key: KeyObject): { algorithm: Buffer; hash: string } {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return { algorithm: der(SEQUENCE, oid(OID.ecdsaWithSha256)), hash: 'sha256' };
    if (curve === 'secp384r1') return { algorithm: der(SEQUENCE, oid(OID.ecdsaWithSha384)), hash: 'sha384' };
    throw new Error(`Unsupported CA key curve ${curve ?? '(unknown)'}`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    return { algorithm: der(SEQUENCE, oid(OID.sha256WithRsa), Buffer.from([0x05, 0x00])), hash: 'sha256' };
  }
  throw new Error(`Unsupported signing key type ${key.asymmetricKeyType ?? '(unknown)'}`);
}

function distinguishedName(parts: { commonName: string; organization?: string }): Buffer {
  const rdn = (type: string, value: string) => der(SET, der(SEQUENCE, oid(type), der(0x0c, Buffer.from(value, 'utf8'))));
  const rdns = [rdn(OID.commonName, parts.commonName)];
  if (parts.organization) rdns.push(rdn(OID.organization, parts.organization));
  return der(SEQUENCE, ...rdns);
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return der(SEQUENCE, oid(id), ...(critical ? [BOOLEAN_TRUE] : []), der(OCTET_STRING, value));
}

const KEY_USAGE_BITS = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

function keyUsage(usages: (keyof typeof KEY_USAGE_BITS)[]): Buffer {
  let bits = 0;
  for (const usage of usages) bits |= 0x80 >> KEY_USAGE_BITS[usage];
  // DER named bit lists drop trailing zero bits; the first content byte counts them.
  let unused = 0;
  while (unused < 7 && (bits & (1 << unused)) === 0) unused++;
  return der(BIT_STRING, Buffer.from([unused, bits]));
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING contents. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const [, bitString] = children(spki, 0);
  if (!bitString || spki[bitString.start] !== BIT_STRING) throw new Error('Malformed SubjectPublicKeyInfo');
  return createHash('sha1').update(spki.subarray(bitString.contentStart + 1, bitString.end)).digest();
}

/** The issuer of a leaf must be the CA's subject byte for byte, so copy it from the DER. */
function subjectNameDer(certDer: Buffer): Buffer {
  const [tbs] = children(certDer, 0);
  if (!tbs) throw new Error('Malformed certificate');
  const fields = children(certDer, tbs.start);
  // version [0] is present in v3 certificates, shifting subject to index 5.
  const subject = fields[certDer[fields[0]?.start ?? 0] === 0xa0 ? 5 : 4];
  if (!subject) throw new Error('Malformed certificate');
  return certDer.subarray(subject.start, subject.end);
}

/** NameConstraints permitting only localhost names and loopback addresses. */
function loopbackNameConstraints(): Buffer {
  const subtree = (generalName: Buffer) => der(SEQUENCE, generalName);
  const ipRange = (address: number[], mask: number[]) => der(0x87, Buffer.from([...address, ...mask]));
  const ipv6Loopback = [...new Array<number>(15).fill(0), 1];
  return der(
    SEQUENCE,
    der(
      0xa0, // permittedSubtrees
      // A dNSName constraint "localhost" matches localhost and every *.localhost name.
      subtree(der(0x82, Buffer.from('localhost', 'ascii'))),
      subtree(ipRange([127, 0, 0, 0], [255, 0, 0, 0])),
      subtree(ipRange(ipv6Loopback, new Array<number>(16).fill(0xff))),
    ),
  );
}

function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z';
  const year = date.getUTCFullYear();
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050 on.
  return year < 2050 ? der(0x17, Buffer.from(digits.slice(2), 'ascii')) : der(0x18, Buffer.from(digits, 'ascii'));
}

function integer(value: Buffer): Buffer {
  let bytes = value;
  while (bytes.length > 1 && bytes[0] === 0 && ((bytes[1] ?? 0) & 0x80) === 0) bytes = bytes.subarray(1);
  // A leading 1-bit would make the INTEGER negative.
  if (((bytes[0] ?? 0) & 0x80) !== 0) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return der(0x02, bytes);
}

function randomSerial(): Buffer {
  const bytes = randomBytes(16);
  // RFC 5280 serials must be positive and at most 20 octets; keep the top bit clear.
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes;
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift((n & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

function ipBytes(ip: string): Buffer {
  const version = isIP(ip);
  if (version === 4) return Buffer.from(ip.split('.').map(Number));
  if (version !== 6) throw new Error(`Not an IP address: ${ip}`);
  let text = ip.replace(/%.*$/, '');
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two 16-bit groups.
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a = 0, b = 0, c = 0, d = 0] = (v4[2] ?? '').split('.').map(Number);
    text = `${v4[1] ?? ''}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const left = parse(halves[0]);
  const right = parse(halves[1]);
  const groups = halves.length > 1 ? [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right] : left;
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(group, i * 2));
  return out;
}

function isLoopbackIp(ip: string): boolean {
  const bytes = ipBytes(ip);
  return bytes.length === 4 ? bytes[0] === 127 : bytes.equals(ipBytes('::1'));
}

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const length = body.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), body]);
  const lengthBytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) lengthBytes.unshift(n & 0xff);
  return Buffer.concat([Buffer.from([tag, 0x80 | lengthBytes.length, ...lengthBytes]), body]);
}

interface Tlv {
  start: number;
  contentStart: number;
  end: number;
}

/** The TLVs directly inside the constructed element starting at `offset`. */
function children(buf: Buffer, offset: number): Tlv[] {
  const outer = readTlv(buf, offset);
  const result: Tlv[] = [];
  for (let pos = outer.contentStart; pos < outer.end; ) {
    const child = readTlv(buf, pos);
    result.push(child);
    pos = child.end;
  }
  return result;
}

function readTlv(buf: Buffer, start: number): Tlv {
  let pos = start + 1;
  const first = buf[pos++];
  if (first === undefined) throw new Error('Truncated DER');
  let length = first;
  if (first & 0x80) {
    length = 0;
    for (let i = 0; i < (first & 0x7f); i++) length = length * 256 + (buf[pos++] ?? 0);
  }
  const end = pos + length;
  if (end > buf.length) throw new Error('Truncated DER');
  return { start, contentStart: pos, end };
}

function toPem(label: string, derBytes: Buffer): string {
  const body = derBytes.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}
