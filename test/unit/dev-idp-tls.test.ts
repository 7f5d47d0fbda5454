import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { checkServerIdentity, connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientAuthCertificate, ensureLocalCa, issueServerCertificate } from '../../dev/tls.ts';
import type { LocalCa } from '../../dev/tls.ts';

/** The local CA and the certificates it issues, checked with Node's own X.509 and TLS code. */

const DAY = 24 * 60 * 60 * 1000;
let dir: string;
let ca: LocalCa;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffer-tls-'));
  ca = await ensureLocalCa(join(dir, 'data'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// DER of an extension's OID followed by BOOLEAN TRUE: the extension is present and critical.
const criticalExtension = (oidTail: number) => Buffer.from([0x06, 0x03, 0x55, 0x1d, oidTail, 0x01, 0x01, 0xff]);

describe('ensureLocalCa', () => {
  it('creates a CA certificate and a private key readable by the owner only', async () => {
    expect(isAbsolute(ca.caFile)).toBe(true);
    expect(ca.caFile).toBe(join(dir, 'data', 'tls', 'ca.pem'));
    expect((await stat(join(dir, 'data', 'tls', 'ca-key.pem'))).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(Date.parse(cert.validTo) - Date.now()).toBeGreaterThan(9 * 365 * DAY);
    expect(cert.raw.includes(criticalExtension(0x13))).toBe(true); // basicConstraints
    expect(cert.raw.includes(criticalExtension(0x0f))).toBe(true); // keyUsage
    expect(cert.raw.includes(criticalExtension(0x1e))).toBe(true); // nameConstraints
  });

  it('reuses the CA on disk', async () => {
    // A second path to the same directory bypasses the in-process memo, so this reads the files.
    await symlink(join(dir, 'data'), join(dir, 'alias'));
    const again = await ensureLocalCa(join(dir, 'alias'));
    expect(again.certPem).toBe(ca.certPem);
    expect(again.keyPem).toBe(ca.keyPem);
  });

  it('creates exactly one CA when callers race on a fresh directory', async () => {
    // Two paths to one directory: two in-process memo entries, so both callers really create
    // a CA and only the exclusive link() decides which one survives.
    await mkdir(join(dir, 'race'));
    await symlink(join(dir, 'race'), join(dir, 'race-alias'));
    const [a, b] = await Promise.all([ensureLocalCa(join(dir, 'race')), ensureLocalCa(join(dir, 'race-alias'))]);
    expect(a.certPem).toBe(b.certPem);
    expect(a.keyPem).toBe(b.keyPem);
  });
});

describe('issueServerCertificate', () => {
  let server: { certPem: string; keyPem: string };
  let cert: X509Certificate;

  beforeAll(async () => {
    server = await issueServerCertificate(ca, { dns: ['localhost', '*.vault.localhost'], ips: ['127.0.0.1', '::1'] });
    cert = new X509Certificate(server.certPem);
  });

  it('is a leaf for the requested names, for server authentication, signed by the CA, valid for about a year', () => {
    const caCert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(false);
    expect(cert.subjectAltName).toBe('DNS:localhost, DNS:*.vault.localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(server.keyPem))).toBe(true);
    const lifetime = Date.parse(cert.validTo) - Date.now();
    expect(lifetime).toBeGreaterThan(360 * DAY);
    expect(lifetime).toBeLessThan(370 * DAY);
    expect(cert.checkHost('default.vault.localhost')).toBe('*.vault.localhost');
    expect(checkServerIdentity('::1', cert.toLegacyObject())).toBeUndefined();
  });

  it('is accepted by Node TLS when the CA is trusted through the ca option', async () => {
    const httpsServer = createServer({ cert: server.certPem, key: server.keyPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.1', resolve));
    const { port } = httpsServer.address() as AddressInfo;
    const handshake = (servername: string, trusted = ca.certPem) =>
      new Promise<string>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port, servername, ca: trusted }, () => {
          socket.end();
          resolve('ok');
        });
        socket.on('error', (error) => resolve(error.message));
      });
    try {
      expect(await handshake('localhost')).toBe('ok');
      expect(await handshake('default.vault.localhost')).toBe('ok');
      expect(await handshake('other.localhost')).toContain("is not in the cert's altnames");
      const otherCa = await ensureLocalCa(join(dir, 'other'));
      expect(await handshake('localhost', otherCa.certPem)).not.toBe('ok');
    } finally {
      httpsServer.close();
    }
  });

  it('refuses names the CA is not allowed to certify', async () => {
    await expect(issueServerCertificate(ca, { dns: ['example.com'], ips: [] })).rejects.toThrow(/example\.com/);
    await expect(issueServerCertificate(ca, { dns: [], ips: ['10.0.0.1'] })).rejects.toThrow(/10\.0\.0\.1/);
    await expect(issueServerCertificate(ca, { dns: [], ips: [] })).rejects.toThrow();
  });
});

describe('createClientAuthCertificate', () => {
  it('makes a self-signed RSA client certificate whose cert+key PEM Node can load', async () => {
    const { certPem, keyPem } = await createClientAuthCertificate('my-app');
    const cert = new X509Certificate(certPem);
    expect(cert.subject).toBe('CN=my-app');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
    expect(cert.verify(cert.publicKey)).toBe(true);
    // ClientCertificateCredential hands the whole file to the signer.
    expect(createPrivateKey(certPem + keyPem).asymmetricKeyType).toBe('rsa');
  });
});
