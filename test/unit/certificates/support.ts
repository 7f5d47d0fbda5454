/** Keys, signers and an openssl runner shared by the X.509 and PKCS#12 unit tests. */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CertificateSigner, issueSelfSigned, type SignerCurve, signatureHash, type X509Request } from '../../../lib/certificates/x509.ts';

export interface TestKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  spki: Uint8Array;
  pkcs8: Uint8Array;
  signer: CertificateSigner;
}

/** A signer as certificates.ts will make one over KMS: hash chosen by signatureHash, ECDSA answered as DER. */
function signerFor(privateKey: KeyObject, kind: 'RSA' | 'EC', curve?: SignerCurve): CertificateSigner {
  const signer: CertificateSigner = {
    kind,
    ...(curve ? { curve } : {}),
    sign: async (data) => new Uint8Array(sign(signatureHash(signer), data, kind === 'EC' ? { key: privateKey, dsaEncoding: 'der' } : privateKey)),
  };
  return signer;
}

function keyFrom(pair: { privateKey: KeyObject; publicKey: KeyObject }, kind: 'RSA' | 'EC', curve?: SignerCurve): TestKey {
  return {
    ...pair,
    spki: new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' })),
    pkcs8: new Uint8Array(pair.privateKey.export({ format: 'der', type: 'pkcs8' })),
    signer: signerFor(pair.privateKey, kind, curve),
  };
}

export function rsaKey(modulusLength = 2048): TestKey {
  return keyFrom(generateKeyPairSync('rsa', { modulusLength }), 'RSA');
}

export function ecKey(curve: SignerCurve): TestKey {
  return keyFrom(generateKeyPairSync('ec', { namedCurve: curve }), 'EC', curve);
}

export function selfSigned(request: Partial<X509Request> & { subject: string }, key: TestKey, now = new Date()): Promise<Uint8Array> {
  return issueSelfSigned({ validity_months: 12, ...request }, key.spki, key.signer, now);
}

export function toPem(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export interface OpensslDirectory {
  /** Runs /usr/bin/openssl in the directory; answers stdout then stderr, throws on a non-zero exit. */
  run(args: string[]): string;
  write(name: string, content: Uint8Array | string): void;
  read(name: string): Buffer;
}

/** A temporary directory for openssl to read and write files in, removed afterwards. */
export function withOpenssl<T>(work: (directory: OpensslDirectory) => T): T {
  const directory = mkdtempSync(join(tmpdir(), 'coffer-x509-'));
  try {
    return work({
      run: (args) => {
        const result = spawnSync('/usr/bin/openssl', args, { cwd: directory, encoding: 'utf8' });
        if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`);
        return result.stdout + result.stderr;
      },
      write: (name, content) => writeFileSync(join(directory, name), content),
      read: (name) => readFileSync(join(directory, name)),
    });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** The DER of a PEM file's first block. */
export function derOfPem(pem: string | Buffer): Uint8Array {
  const body = /-----BEGIN [^-]+-----([\s\S]*?)-----END/.exec(String(pem))?.[1];
  if (body === undefined) throw new Error('no PEM block');
  return new Uint8Array(Buffer.from(body.replace(/\s+/g, ''), 'base64'));
}

/** root -> intermediate -> leaf, made by openssl. */
export function opensslChain(): { root: Uint8Array; intermediate: Uint8Array; leaf: Uint8Array; leafKeyPem: string } {
  return withOpenssl((directory) => {
    const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    directory.write('ca.ext', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
    directory.write('leaf.ext', 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:leaf.example\n');
    directory.run(['req', '-x509', ...newKey, '-keyout', 'root.key', '-subj', '/CN=Test Root', '-days', '30', '-out', 'root.pem']);
    directory.run(['req', ...newKey, '-keyout', 'int.key', '-subj', '/CN=Test Intermediate', '-out', 'int.csr']);
    directory.run([
      'x509',
      '-req',
      '-in',
      'int.csr',
      '-CA',
      'root.pem',
      '-CAkey',
      'root.key',
      '-set_serial',
      '2',
      '-days',
      '30',
      '-extfile',
      'ca.ext',
      '-out',
      'int.pem',
    ]);
    directory.run(['req', ...newKey, '-keyout', 'leaf.key', '-subj', '/CN=leaf.example', '-out', 'leaf.csr']);
    directory.run([
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'int.pem',
      '-CAkey',
      'int.key',
      '-set_serial',
      '3',
      '-days',
      '30',
      '-extfile',
      'leaf.ext',
      '-out',
      'leaf.pem',
    ]);
    return {
      root: derOfPem(directory.read('root.pem')),
      intermediate: derOfPem(directory.read('int.pem')),
      leaf: derOfPem(directory.read('leaf.pem')),
      leafKeyPem: directory.read('leaf.key').toString('utf8'),
    };
  });
}
