/**
 * Local certificate authority for the development stack.
 *
 * The Azure SDKs refuse plain HTTP for bearer-token traffic, so the gateway and the
 * development identity provider must speak HTTPS with certificates that Node accepts.
 * Instead of disabling verification anywhere, we mint a small private CA once per data
 * directory and have clients trust it explicitly (NODE_EXTRA_CA_CERTS=<caFile>, the `ca`
 * TLS option, or tls.setDefaultCACertificates()).
 *
 * The CA carries a critical nameConstraints extension limiting it to `localhost`
 * (and its sub-domains), 127.0.0.0/8 and ::1: developers may add the CA to a system
 * trust store, and a leaked dev CA key must not be able to impersonate real sites.
 */
import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import * as x509 from '@peculiar/x509';

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

const CA_VALIDITY_DAYS = 3650;
// Browsers cap publicly trusted leaf lifetimes at ~398 days; staying under that keeps
// the certificate acceptable to every client even though this CA is private.
const SERVER_VALIDITY_DAYS = 365;
const DAY_MS = 24 * 60 * 60 * 1000;
// Tolerate clocks that are slightly behind (containers, VMs resumed from sleep).
const BACKDATE_MS = 60 * 60 * 1000;

const EC_KEY: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const EC_SIGNING: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

const subtle = webcrypto.subtle;
// Pin the provider rather than relying on whatever globalThis.crypto happens to be.
x509.cryptoProvider.set(webcrypto);

// Two callers in the same process (e.g. the gateway and the IdP starting concurrently)
// must not both try to create the CA.
const pending = new Map<string, Promise<LocalCa>>();

export async function ensureLocalCa(dataDir: string): Promise<LocalCa> {
  const dir = join(resolve(dataDir), 'tls');
  let promise = pending.get(dir);
  if (!promise) {
    promise = loadOrCreateCa(dir);
    pending.set(dir, promise);
    // A failure must not be cached forever: the next call should retry.
    promise.catch(() => pending.delete(dir));
  }
  return promise;
}

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
    // atomic across processes (parallel vitest workers, a second `npm start`).
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

async function createCa(): Promise<{ certPem: string; keyPem: string }> {
  const keys = (await subtle.generateKey(EC_KEY, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  // A random tag in the name tells apart CAs of different checkouts in a system trust store.
  const tag = randomBytes(4).toString('hex');
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=Coffer Local Development CA ${tag}, O=Coffer development`,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: EC_SIGNING,
    keys,
    extensions: [
      // pathLength 0: this CA only ever signs leaf certificates.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.Extension('2.5.29.30', true, loopbackNameConstraints()),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportPkcs8Pem(keys.privateKey) };
}

export async function issueServerCertificate(
  ca: LocalCa,
  names: ServerCertificateNames,
): Promise<{ certPem: string; keyPem: string }> {
  const dns = names.dns.map((n) => n.trim().toLowerCase()).filter((n) => n.length > 0);
  const ips = names.ips.map((n) => n.trim()).filter((n) => n.length > 0);
  for (const ip of ips) {
    if (isIP(ip) === 0) throw new Error(`Not an IP address: ${ip}`);
  }
  const firstName = dns[0] ?? ips[0];
  if (firstName === undefined) throw new Error('A server certificate needs at least one DNS name or IP address');

  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importSigningKey(ca.keyPem);
  const keys = (await subtle.generateKey(EC_KEY, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  // A leaf outliving its issuer would fail verification anyway; cap it so the error
  // surfaces as "CA expired" rather than a confusing chain failure.
  const notAfter = Math.min(now + SERVER_VALIDITY_DAYS * DAY_MS, caCert.notAfter.getTime());

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${firstName}`,
    issuer: caCert.subject,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(notAfter),
    signingAlgorithm: caKey.signing,
    publicKey: keys.publicKey,
    signingKey: caKey.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      // Clients ignore the CN when SANs are present, so every name must be listed here.
      new x509.SubjectAlternativeNameExtension(
        [...dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))],
        false,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportPkcs8Pem(keys.privateKey) };
}

async function importSigningKey(keyPem: string): Promise<{ key: webcrypto.CryptoKey; signing: webcrypto.Algorithm | webcrypto.EcdsaParams }> {
  const keyObject = createPrivateKey(keyPem);
  const der = keyObject.export({ format: 'der', type: 'pkcs8' });
  if (keyObject.asymmetricKeyType === 'ec') {
    const curve = keyObject.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === 'secp384r1' ? 'P-384' : curve === 'prime256v1' ? 'P-256' : undefined;
    if (!namedCurve) throw new Error(`Unsupported CA key curve ${curve ?? '(unknown)'}`);
    const key = await subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve }, false, ['sign']);
    return { key, signing: { name: 'ECDSA', hash: namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256' } as webcrypto.EcdsaParams };
  }
  if (keyObject.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const key = await subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
    return { key, signing: algorithm };
  }
  throw new Error(`Unsupported CA key type ${keyObject.asymmetricKeyType ?? '(unknown)'}`);
}

async function exportPkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await subtle.exportKey('pkcs8', key));
  const body = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN PRIVATE KEY-----\n${body}-----END PRIVATE KEY-----\n`;
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  // A DER INTEGER with the top bit set would be negative, which RFC 5280 forbids.
  bytes[0] = (bytes[0] ?? 0) & 0x7f | 0x01;
  return bytes.toString('hex');
}

async function writeNewFile(path: string, contents: string, mode: number): Promise<void> {
  // 'wx' + explicit mode: the key is never readable by others, not even briefly.
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(contents, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** DER of NameConstraints permitting only localhost names and loopback addresses. */
function loopbackNameConstraints(): Buffer {
  const subtree = (generalName: Buffer) => der(0x30, generalName);
  const dnsName = (name: string) => der(0x82, Buffer.from(name, 'ascii'));
  const ipRange = (address: number[], mask: number[]) => der(0x87, Buffer.from([...address, ...mask]));
  const ipv6Loopback = [...new Array<number>(15).fill(0), 1];
  const permitted = Buffer.concat([
    // A dNSName constraint "localhost" matches localhost and every *.localhost name.
    subtree(dnsName('localhost')),
    subtree(ipRange([127, 0, 0, 0], [255, 0, 0, 0])),
    subtree(ipRange(ipv6Loopback, new Array<number>(16).fill(0xff))),
  ]);
  return der(0x30, der(0xa0, permitted));
}

function der(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let header: Buffer;
  if (length < 0x80) {
    header = Buffer.from([tag, length]);
  } else {
    const lengthBytes: number[] = [];
    for (let n = length; n > 0; n >>= 8) lengthBytes.unshift(n & 0xff);
    header = Buffer.from([tag, 0x80 | lengthBytes.length, ...lengthBytes]);
  }
  return Buffer.concat([header, content]);
}
