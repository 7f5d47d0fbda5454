import { execFileSync } from 'node:child_process';
import { constants, createPrivateKey, generateKeyPairSync, privateDecrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactDecrypt, decodeProtectedHeader } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DOMAIN_KEY_BYTES,
  downloadSecurityDomain,
  importUploadedDomain,
  restoreForUpload,
  type SecurityDomainCertificate,
} from '../../lib/hsm/security-domain.ts';
import { type KeyAndCertificate, selfSignedCertificate } from '../support/certificates.ts';

/**
 * A pool's security domain without a network (docs/adr/0022): the download's checks, the split of
 * HSM-generated material into one share per officer's certificate, each a JWE only that officer
 * opens; the officers' restore to another pool's transfer key; and the import of the combined quorum,
 * which is the material the first pool imported, with every buffer that held it zeroed.
 */
let officers: KeyAndCertificate[] = [];
let certificates: SecurityDomainCertificate[] = [];

function jwkOf(officer: KeyAndCertificate, kid: string): SecurityDomainCertificate {
  const { n, e } = officer.certificate.publicKey.export({ format: 'jwk' });
  return { kid, kty: 'RSA', key_ops: ['verify', 'encrypt', 'wrapKey'], n, e, x5c: [officer.certDer.toString('base64')], alg: 'RSA-OAEP-256' };
}

/** An HSM that keeps a copy of what it was asked to import. */
function fakeHsm() {
  const imported: { material: Buffer; given: Uint8Array }[] = [];
  return {
    imported,
    randomBytes: async (count: number) => randomBytes(count),
    importDomainKey: async (material: Uint8Array) => {
      imported.push({ material: Buffer.from(material), given: material });
      return `coffer-domain-${imported.length}`;
    },
  };
}

beforeAll(() => {
  officers = [1, 2, 3].map((i) => selfSignedCertificate({ key: { kind: 'rsa', bits: 2048 }, subject: `/CN=officer-${i}` }));
  certificates = officers.map((officer, i) => jwkOf(officer, `officer-${i + 1}`));
}, 60_000);

describe('a security domain download', () => {
  it('splits HSM material into one JWE share per certificate, imports it, and zeroes it', async () => {
    const hsm = fakeHsm();
    const { blob, domainKey } = await downloadSecurityDomain('pool1', { certificates, required: 2 }, hsm);
    expect(domainKey).toBe('coffer-domain-1');
    expect(hsm.imported).toHaveLength(1);
    const [{ material, given }] = hsm.imported as [{ material: Buffer; given: Uint8Array }];
    expect(material).toHaveLength(DOMAIN_KEY_BYTES);
    expect(Buffer.from(given).equals(Buffer.alloc(DOMAIN_KEY_BYTES))).toBe(true);
    expect(blob).toMatchObject({ format: 'coffer-security-domain-1', pool: 'pool1', domainKey, required: 2 });
    expect(blob.shares.map((s) => s.kid)).toEqual(['officer-1', 'officer-2', 'officer-3']);
    for (const [i, share] of blob.shares.entries()) {
      expect(decodeProtectedHeader(share.share)).toEqual({
        alg: 'RSA-OAEP-256',
        enc: 'A256GCM',
        kid: `officer-${i + 1}`,
        'x5t#S256': share['x5t#S256'],
      });
      // Only its officer opens it.
      const { plaintext } = await compactDecrypt(share.share, createPrivateKey(officers[i]!.keyPem));
      expect(plaintext.length).toBeGreaterThan(DOMAIN_KEY_BYTES);
      await expect(compactDecrypt(share.share, createPrivateKey(officers[(i + 1) % 3]!.keyPem))).rejects.toThrow();
    }
  });

  it('refuses bad certificates and quorums before anything is generated', async () => {
    const hsm = fakeHsm();
    const ec = selfSignedCertificate({ key: { kind: 'ec', curve: 'P-256' }, subject: '/CN=ec' });
    const cases: [SecurityDomainCertificate[], number, string][] = [
      [certificates.slice(0, 2), 2, 'A security domain is encrypted to 3 to 10 certificates; the request has 2.'],
      [certificates, 1, "The quorum 'required' is 2 to 10 shares."],
      [certificates, 11, "The quorum 'required' is 2 to 10 shares."],
      [certificates, 4, "The quorum 'required' (4) is more than the number of certificates (3)."],
      [[...certificates.slice(0, 2), { ...certificates[2], kty: 'EC' }], 2, "Certificate 3 is not an RSA key (kty 'RSA')."],
      [[...certificates.slice(0, 2), { ...certificates[2], x5c: [] }], 2, 'Certificate 3 has no certificate (x5c).'],
      [
        [...certificates.slice(0, 2), { ...certificates[2], x5c: ['bm90IGEgY2VydA=='] }],
        2,
        "Certificate 3's x5c[0] is not a base64 DER X.509 certificate.",
      ],
      [
        [...certificates.slice(0, 2), { ...certificates[2], x5c: [ec.certDer.toString('base64')] }],
        2,
        "Certificate 3's certificate does not hold an RSA key.",
      ],
      [[...certificates.slice(0, 2), { ...certificates[2], n: certificates[0]!.n }], 2, "Certificate 3's n and e are not its certificate's key."],
      [[...certificates.slice(0, 2), { ...certificates[2], 'x5t#S256': 'AAAA' }], 2, "Certificate 3's x5t#S256 is not its certificate's thumbprint."],
      [[...certificates.slice(0, 2), certificates[0]!], 2, 'The certificates must differ: a certificate appears twice.'],
    ];
    for (const [certs, required, message] of cases) {
      await expect(downloadSecurityDomain('pool1', { certificates: certs, required }, hsm), message).rejects.toMatchObject({
        status: 400,
        code: 'BadParameter',
        message,
      });
    }
    expect(hsm.imported).toEqual([]);
  });
});

describe('a security domain restored into another pool', () => {
  it('a quorum of officers re-encrypts their shares to the transfer key, and the pool rebuilds the same key', async () => {
    const source = fakeHsm();
    const { blob } = await downloadSecurityDomain('pool1', { certificates, required: 2 }, source);
    const transfer = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const transferKey = { ...transfer.publicKey.export({ format: 'jwk' }), kid: 'https://pool2.managedhsm.vault.localhost/transferkey' };
    const quorum = [officers[2]!, officers[0]!].map((o) => createPrivateKey(o.keyPem));
    const upload = await restoreForUpload(blob, quorum, transferKey);
    expect(upload).toMatchObject({
      format: 'coffer-security-domain-upload-1',
      pool: 'pool1',
      domainKey: blob.domainKey,
      required: 2,
      transferKey: transferKey.kid,
    });
    expect(upload.shares).toHaveLength(2);
    for (const share of upload.shares) expect(decodeProtectedHeader(share)).toEqual({ alg: 'RSA-OAEP', enc: 'A256GCM', kid: transferKey.kid });

    // The target pool's HSM decrypts each share's content key with the transfer key (RSA-OAEP, SHA-1).
    const unwrap = async (encryptedKey: Buffer) =>
      privateDecrypt({ key: transfer.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, encryptedKey);
    const target = fakeHsm();
    expect(await importUploadedDomain(upload, transferKey.kid, unwrap, target)).toBe('coffer-domain-1');
    expect(target.imported[0]!.material.equals(source.imported[0]!.material)).toBe(true);
    expect(Buffer.from(target.imported[0]!.given).equals(Buffer.alloc(DOMAIN_KEY_BYTES))).toBe(true);
  });

  it('refuses fewer keys than the quorum, a key of no officer, another transfer key and a tampered share', async () => {
    const { blob } = await downloadSecurityDomain('pool1', { certificates, required: 2 }, fakeHsm());
    const transfer = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const transferKey = { ...transfer.publicKey.export({ format: 'jwk' }), kid: 'tk' };
    const keyOf = (i: number) => createPrivateKey(officers[i]!.keyPem);
    await expect(restoreForUpload(blob, [keyOf(0)], transferKey)).rejects.toMatchObject({
      message: "The security domain needs 2 of its officers' keys; 1 were given.",
    });
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await expect(restoreForUpload(blob, [keyOf(0), stranger], transferKey)).rejects.toMatchObject({
      message: "A private key given is no officer's of this security domain.",
    });
    await expect(restoreForUpload(blob, [keyOf(1), keyOf(1)], transferKey)).rejects.toMatchObject({ status: 400 });
    const upload = await restoreForUpload(blob, [keyOf(0), keyOf(1)], transferKey);
    const unwrap = async (encryptedKey: Buffer) =>
      privateDecrypt({ key: transfer.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, encryptedKey);
    const target = fakeHsm();
    await expect(importUploadedDomain(upload, 'another', unwrap, target)).rejects.toMatchObject({ status: 400 });
    await expect(importUploadedDomain({ ...upload, shares: upload.shares.slice(0, 1) }, 'tk', unwrap, target)).rejects.toMatchObject({
      message: 'The upload holds 1 shares; the quorum is 2.',
    });
    const [head, key, iv, ciphertext, tag] = upload.shares[0]!.split('.');
    const flipped = Buffer.from(ciphertext!, 'base64url');
    flipped.writeUInt8(flipped.readUInt8(0) ^ 1, 0);
    const tampered = [head, key, iv, flipped.toString('base64url'), tag].join('.');
    await expect(importUploadedDomain({ ...upload, shares: [tampered, upload.shares[1]!] }, 'tk', unwrap, target)).rejects.toMatchObject({
      message: "A share of the upload could not be decrypted with this pool's transfer key.",
    });
    expect(target.imported).toEqual([]);
  });
});

describe('scripts/security-domain.ts restore', () => {
  it('turns the download answer, a quorum of PEM keys and the transfer key answer into the upload body', async () => {
    const source = fakeHsm();
    const { blob } = await downloadSecurityDomain('pool1', { certificates, required: 2 }, source);
    const transfer = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const transferKey = { ...transfer.publicKey.export({ format: 'jwk' }), kid: 'tk-1' };
    const dir = mkdtempSync(join(tmpdir(), 'coffer-sd-'));
    try {
      const file = (name: string, text: string) => {
        writeFileSync(join(dir, name), text, { mode: 0o600 });
        return join(dir, name);
      };
      const args = ['restore', '--domain', file('download.json', JSON.stringify({ value: JSON.stringify(blob) }))];
      args.push('--key', file('o1.pem', officers[0]!.keyPem), '--key', file('o3.pem', officers[2]!.keyPem));
      args.push('--transfer-key', file('tk.json', JSON.stringify({ transfer_key: transferKey })));
      const stdout = execFileSync(join('node_modules', '.bin', 'tsx'), [join('scripts', 'security-domain.ts'), ...args], { encoding: 'utf8' });
      const upload = JSON.parse(JSON.parse(stdout).value);
      const unwrap = async (encryptedKey: Buffer) =>
        privateDecrypt({ key: transfer.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, encryptedKey);
      const target = fakeHsm();
      await importUploadedDomain(upload, 'tk-1', unwrap, target);
      expect(target.imported[0]!.material.equals(source.imported[0]!.material)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
