import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { get as httpsGet, createServer, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { CertificateClient } from '@azure/keyvault-certificates';
import { SecretClient } from '@azure/keyvault-secrets';
import { describe, expect, it } from 'vitest';
import { derToPem, pemBlocks, pendingCsr, testCa } from '../support/certificates.ts';
import { adminSecretCredential, localStack, uniqueName } from '../support/local.ts';

/**
 * Certificates from Coffer serve real TLS: a node:https server on loopback is configured from the
 * managed secret exactly as an application would (PFX, or the PEM key and chain), and node's TLS
 * client decides, by its own verification, whether to trust it.
 */
const info = localStack();
const credential = adminSecretCredential(info);
const clientOptions = { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } };
const certificates = new CertificateClient(info.vaultUrl, credential, clientOptions);
const secrets = new SecretClient(info.vaultUrl, credential, clientOptions);
const POLL = { intervalInMs: 100 };
const BODY = 'served with a Coffer certificate';

/** Serves BODY on 127.0.0.1 with the given TLS material while `use` runs. */
async function withServer<T>(tls: ServerOptions, use: (port: number) => Promise<T>): Promise<T> {
  const server = createServer(tls, (_req, res) => res.end(BODY));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    return await use((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

interface Fetched {
  status: number;
  body: string;
  peerFingerprint256: string;
}

/** GET / as a client that trusts only `ca` (or node's default store when absent), naming the server localhost. */
function fetchLocalhost(port: number, ca?: string): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = httpsGet({ host: '127.0.0.1', port, path: '/', servername: 'localhost', ca, agent: false, timeout: 10_000 }, (res) => {
      const peer = (res.socket as TLSSocket).getPeerCertificate();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, peerFingerprint256: peer.fingerprint256 }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

const VERIFICATION_ERRORS = [
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
];

describe('TLS with certificates from Coffer', () => {
  it('serves a self-signed localhost certificate from its PFX secret, trusted only by a client given that certificate', async () => {
    const name = uniqueName('tls-self');
    const poller = await certificates.beginCreateCertificate(
      name,
      {
        issuerName: 'Self',
        subject: 'CN=localhost',
        subjectAlternativeNames: { dnsNames: ['localhost'] },
        keyType: 'RSA',
        keySize: 2048,
        enhancedKeyUsage: ['1.3.6.1.5.5.7.3.1'],
        keyUsage: ['digitalSignature', 'keyEncipherment'],
        validityInMonths: 12,
        contentType: 'application/x-pkcs12',
      },
      POLL,
    );
    const created = await poller.pollUntilDone();
    const cert = new X509Certificate(Buffer.from(created.cer!));
    expect(cert.subject).toBe('CN=localhost');
    const secret = await secrets.getSecret(name);
    expect(secret.properties.contentType).toBe('application/x-pkcs12');
    const pfx = Buffer.from(secret.value!, 'base64');

    await withServer({ pfx }, async (port) => {
      const trusted = await fetchLocalhost(port, derToPem(created.cer!));
      expect(trusted.status).toBe(200);
      expect(trusted.body).toBe(BODY);
      expect(trusted.peerFingerprint256).toBe(cert.fingerprint256);
      const refused = await fetchLocalhost(port).then(
        () => undefined,
        (error: NodeJS.ErrnoException) => error,
      );
      expect(refused?.code).toBeOneOf(VERIFICATION_ERRORS);
    });
  });

  it('serves a CA-signed localhost certificate (CSR, merge) from its PEM secret, trusted by a client that trusts the CA', async () => {
    const name = uniqueName('tls-ca');
    await certificates.beginCreateCertificate(
      name,
      {
        issuerName: 'Unknown',
        subject: 'CN=localhost',
        subjectAlternativeNames: { dnsNames: ['localhost'] },
        keyType: 'EC',
        keyCurveName: 'P-256',
        enhancedKeyUsage: ['1.3.6.1.5.5.7.3.1'],
        keyUsage: ['digitalSignature'],
        contentType: 'application/x-pem-file',
      },
      POLL,
    );
    const ca = testCa('Coffer TLS Test CA');
    const leaf = ca.sign(await pendingCsr(name));
    const merged = await certificates.mergeCertificate(name, [leaf, ca.certDer]);
    expect(Buffer.from(merged.cer!).equals(leaf)).toBe(true);

    const secret = await secrets.getSecret(name);
    expect(secret.properties.contentType).toBe('application/x-pem-file');
    const blocks = pemBlocks(secret.value!);
    const key = blocks.find((b) => b.label === 'PRIVATE KEY');
    const chain = blocks.filter((b) => b.label === 'CERTIFICATE');
    expect(key).toBeDefined();
    expect(chain[0]!.der.equals(leaf)).toBe(true);
    expect(chain.map((b) => new X509Certificate(b.der).fingerprint256)).toContain(ca.certificate.fingerprint256);

    await withServer({ key: key!.text, cert: chain.map((b) => b.text).join('\n') }, async (port) => {
      const trusted = await fetchLocalhost(port, ca.certPem);
      expect(trusted.status).toBe(200);
      expect(trusted.body).toBe(BODY);
      expect(trusted.peerFingerprint256).toBe(new X509Certificate(leaf).fingerprint256);
      const refused = await fetchLocalhost(port).then(
        () => undefined,
        (error: NodeJS.ErrnoException) => error,
      );
      expect(refused?.code).toBeOneOf(VERIFICATION_ERRORS);
    });
  });
});
