// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API first.
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { raw } from './local.ts';

/**
 * Certificate material for the certificate tests, made and read by the openssl CLI in a temporary
 * directory: an independent implementation, so what Coffer makes is checked by something that did not
 * make it, and what Coffer is handed (PFX, PEM, CA-signed leaves) is what real tools produce.
 */
const OPENSSL = '/usr/bin/openssl';

function openssl(args: string[], input?: Buffer | string): Buffer {
  return execFileSync(OPENSSL, args, { input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
}

function inTempDir<T>(work: (path: (file: string) => string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-certs-'));
  try {
    return work((file) => join(dir, file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export interface PemBlock {
  label: string;
  der: Buffer;
  text: string;
}

/** The PEM blocks of a text, in order. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)) {
    blocks.push({ label: match[1]!, der: Buffer.from(match[2]!.replace(/\s+/g, ''), 'base64'), text: match[0] });
  }
  return blocks;
}

export type KeySpec = { kind: 'rsa'; bits?: number } | { kind: 'ec'; curve: 'P-256' | 'P-384' | 'P-521' };

function newKeyArgs(spec: KeySpec): string[] {
  return spec.kind === 'rsa' ? ['-newkey', `rsa:${spec.bits ?? 2048}`] : ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${spec.curve}`];
}

export interface KeyAndCertificate {
  /** PKCS#8, PEM ("PRIVATE KEY"). */
  keyPem: string;
  certPem: string;
  certDer: Buffer;
  certificate: X509Certificate;
}

/** A self-signed certificate (openssl req -x509) with the subject given as /CN=.../O=... and optional DNS names. */
export function selfSignedCertificate(options: { key: KeySpec; subject: string; dnsNames?: string[]; days?: number }): KeyAndCertificate {
  return inTempDir((path) => {
    const args = ['req', '-x509', ...newKeyArgs(options.key), '-nodes', '-keyout', path('key.pem'), '-out', path('cert.pem')];
    args.push('-subj', options.subject, '-days', String(options.days ?? 30));
    if (options.dnsNames?.length) args.push('-addext', `subjectAltName=${options.dnsNames.map((d) => `DNS:${d}`).join(',')}`);
    openssl(args);
    const keyPem = openssl(['pkey', '-in', path('key.pem')]).toString('utf8');
    const certPem = openssl(['x509', '-in', path('cert.pem')]).toString('utf8');
    const certificate = new X509Certificate(certPem);
    return { keyPem, certPem, certDer: Buffer.from(certificate.raw), certificate };
  });
}

/**
 * The security officers a managed HSM pool's security domain download splits its domain key among:
 * each a self-signed RSA-2048 certificate (with its private key, for the restore's quorum) and the
 * JWK the download takes for it (its certificate in `x5c`).
 */
export function securityDomainOfficers(count = 3): { officer: KeyAndCertificate; jwk: Record<string, unknown> }[] {
  return Array.from({ length: count }, (_, i) => {
    const officer = selfSignedCertificate({ key: { kind: 'rsa', bits: 2048 }, subject: `/CN=officer-${i + 1}` });
    const { n, e } = officer.certificate.publicKey.export({ format: 'jwk' });
    const jwk = {
      kid: `officer-${i + 1}`,
      kty: 'RSA',
      key_ops: ['verify', 'encrypt', 'wrapKey'],
      alg: 'RSA-OAEP',
      n,
      e,
      x5c: [officer.certDer.toString('base64')],
    };
    return { officer, jwk };
  });
}

/** A PKCS#12 file as `openssl pkcs12 -export` writes it; no password means the empty one. */
export function makePfx(material: { keyPem: string; certPem: string; chainPem?: string }, password = ''): Buffer {
  return inTempDir((path) => {
    writeFileSync(path('key.pem'), material.keyPem);
    writeFileSync(path('cert.pem'), material.certPem + (material.chainPem ?? ''));
    return openssl(['pkcs12', '-export', '-inkey', path('key.pem'), '-in', path('cert.pem'), '-passout', `pass:${password}`]);
  });
}

export interface OpenedPfx {
  privateKey: KeyObject;
  /** The certificates in the file, leaf first as openssl prints them. */
  certificates: X509Certificate[];
  /** Whether the file held a private key at all. */
  hasKey: boolean;
}

/** Opens a PKCS#12 file with openssl (`pkcs12 -nodes`), trying the legacy provider for RC2/3DES files. */
export function openPfx(pfx: Uint8Array, password = ''): OpenedPfx {
  return inTempDir((path) => {
    writeFileSync(path('in.pfx'), pfx);
    const base = ['pkcs12', '-in', path('in.pfx'), '-nodes', '-passin', `pass:${password}`];
    let text: string;
    try {
      text = openssl(base).toString('utf8');
    } catch {
      text = openssl([...base, '-legacy']).toString('utf8');
    }
    const blocks = pemBlocks(text);
    const keyBlock = blocks.find((b) => b.label.endsWith('PRIVATE KEY'));
    return {
      privateKey: keyBlock ? createPrivateKey(keyBlock.text) : (undefined as unknown as KeyObject),
      hasKey: keyBlock !== undefined,
      certificates: blocks.filter((b) => b.label === 'CERTIFICATE').map((b) => new X509Certificate(b.der)),
    };
  });
}

export interface TestCa extends KeyAndCertificate {
  /** Signs a PKCS#10 request (DER) as `openssl x509 -req` does, copying the request's extensions into the leaf; answers the leaf, DER. */
  sign(csrDer: Uint8Array, days?: number): Buffer;
}

/** A certificate authority of the test's own: RSA 2048, basicConstraints CA:TRUE, keyCertSign. */
export function testCa(commonName = 'Coffer Test CA'): TestCa {
  const ca = inTempDir((path) => {
    openssl([
      'req',
      '-x509',
      ...newKeyArgs({ kind: 'rsa', bits: 2048 }),
      '-nodes',
      '-keyout',
      path('key.pem'),
      '-out',
      path('cert.pem'),
      '-subj',
      `/CN=${commonName}`,
      '-days',
      '30',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    const keyPem = openssl(['pkey', '-in', path('key.pem')]).toString('utf8');
    const certPem = openssl(['x509', '-in', path('cert.pem')]).toString('utf8');
    const certificate = new X509Certificate(certPem);
    return { keyPem, certPem, certDer: Buffer.from(certificate.raw), certificate };
  });
  return {
    ...ca,
    sign: (csrDer, days = 30) =>
      inTempDir((path) => {
        writeFileSync(path('csr.der'), csrDer);
        writeFileSync(path('ca.pem'), ca.certPem);
        writeFileSync(path('ca.key'), ca.keyPem);
        return openssl([
          'x509',
          '-req',
          '-inform',
          'DER',
          '-in',
          path('csr.der'),
          '-CA',
          path('ca.pem'),
          '-CAkey',
          path('ca.key'),
          '-set_serial',
          `0x${randomBytes(8).toString('hex')}`,
          '-days',
          String(days),
          '-copy_extensions',
          'copyall',
          '-outform',
          'DER',
        ]);
      }),
  };
}

/** Verifies a PKCS#10 request's self-signature with openssl (throws when it does not verify) and answers its subject as openssl prints it. */
export function verifyCsr(csrDer: Uint8Array): { subject: string; request: x509.Pkcs10CertificateRequest } {
  const printed = inTempDir((path) => {
    writeFileSync(path('csr.der'), csrDer);
    return openssl(['req', '-inform', 'DER', '-in', path('csr.der'), '-verify', '-noout', '-subject', '-nameopt', 'RFC2253']).toString('utf8');
  });
  const subject = /subject=(.*)/.exec(printed)?.[1]?.trim() ?? '';
  return { subject, request: new x509.Pkcs10CertificateRequest(Buffer.from(csrDer)) };
}

export interface CertificateExtensions {
  /** Key usage names as Azure spells them (digitalSignature, keyEncipherment...). */
  keyUsage: string[];
  ekus: string[];
  dnsNames: string[];
  emails: string[];
  upns: string[];
  ca: boolean | undefined;
}

const KEY_USAGE_NAMES: [x509.KeyUsageFlags, string][] = [
  [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [x509.KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [x509.KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [x509.KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [x509.KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [x509.KeyUsageFlags.cRLSign, 'cRLSign'],
  [x509.KeyUsageFlags.encipherOnly, 'encipherOnly'],
  [x509.KeyUsageFlags.decipherOnly, 'decipherOnly'],
];

/** The extensions a certificate policy speaks of, read with @peculiar/x509 (node:crypto does not parse key usage bits or UPNs). */
export function certificateExtensions(der: Uint8Array): CertificateExtensions {
  const cert = new x509.X509Certificate(Buffer.from(der));
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  return {
    keyUsage: usage ? KEY_USAGE_NAMES.filter(([flag]) => (usage.usages & flag) !== 0).map(([, name]) => name) : [],
    ekus: eku ? Array.from(eku.usages, String) : [],
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    emails: names.filter((n) => n.type === 'email').map((n) => n.value),
    upns: names.filter((n) => n.type === 'upn').map((n) => n.value),
    ca: cert.getExtension(x509.BasicConstraintsExtension)?.ca,
  };
}

/** Whether a private key is the one a certificate's public key belongs to. */
export function keyMatchesCertificate(privateKey: KeyObject, certificate: X509Certificate): boolean {
  const fromKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return (
    Buffer.from(fromKey).equals(Buffer.from(certificate.publicKey.export({ format: 'der', type: 'spki' }))) && certificate.checkPrivateKey(privateKey)
  );
}

/**
 * A pending request's CSR (DER), read from its operation directly: the SDK's getCertificateOperation
 * first reads the certificate itself, so this keeps merge tests independent of that read.
 */
export async function pendingCsr(name: string): Promise<Buffer> {
  const pending = await raw('GET', `/certificates/${name}/pending?api-version=7.5`);
  if (pending.status !== 200 || pending.json?.status !== 'inProgress') {
    throw new Error(`no pending request for ${name}: ${pending.status} ${pending.text}`);
  }
  return Buffer.from(pending.json.csr as string, 'base64');
}
