/**
 * lib/certificates/pkcs12.ts and pem.ts: what they write must open in node's TLS and in `openssl
 * pkcs12`; what OpenSSL 3 writes by default (and with the legacy 3DES choice) must open here.
 */
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { buildPem, PemMalformed, PemUnsupportedKey, readPem } from '../../../lib/certificates/pem.ts';
import {
  buildPkcs12,
  type CertificateContents,
  Pkcs12Malformed,
  Pkcs12Unsupported,
  Pkcs12WrongPassword,
  readPkcs12,
} from '../../../lib/certificates/pkcs12.ts';
import { keyMatchesCertificate } from '../../../lib/certificates/x509.ts';
import { derOfPem, ecKey, opensslChain, rsaKey, selfSigned, toPem, withOpenssl } from './support.ts';

const rsa = rsaKey();
const chain = opensslChain();
const leafKeyPkcs8 = new Uint8Array(createPrivateKey(chain.leafKeyPem).export({ format: 'der', type: 'pkcs8' }));
const rsaCertificate = await selfSigned({ subject: 'CN=pfx.example, O=Contoso', sans: { dns_names: ['pfx.example'] } }, rsa);

const same = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(Buffer.from(b));

/** What `openssl pkcs12 -export` writes from the chain's leaf key and certificates, with `options` added. */
function opensslPkcs12(password: string, options: string[] = []): Uint8Array {
  return withOpenssl((directory) => {
    directory.write('k.pem', chain.leafKeyPem);
    directory.write('c.pem', toPem('CERTIFICATE', chain.leaf));
    directory.write('ca.pem', toPem('CERTIFICATE', chain.root) + toPem('CERTIFICATE', chain.intermediate));
    directory.run([
      'pkcs12',
      '-export',
      '-inkey',
      'k.pem',
      '-in',
      'c.pem',
      '-certfile',
      'ca.pem',
      '-passout',
      `pass:${password}`,
      '-out',
      'f.p12',
      ...options,
    ]);
    return new Uint8Array(directory.read('f.p12'));
  });
}

describe('buildPkcs12', () => {
  it('writes a password-less file node TLS opens with the key and certificate', async () => {
    const pfx = await buildPkcs12({ privateKeyPkcs8: rsa.pkcs8, chain: [rsaCertificate] });
    const context = createSecureContext({ pfx: Buffer.from(pfx) });
    // The context holds the pair: a mismatched key would have thrown "key values mismatch".
    expect(context.context).toBeDefined();
    expect(() => createSecureContext({ pfx: Buffer.from(pfx), passphrase: 'not-it' })).toThrow(/mac verify failure/i);
  });

  it('writes a file `openssl pkcs12 -passin pass: -nodes` opens: key, then the chain leaf first, MAC SHA-256', async () => {
    const pfx = await buildPkcs12({ privateKeyPkcs8: leafKeyPkcs8, chain: [chain.root, chain.leaf, chain.intermediate] });
    const { pem, info } = withOpenssl((directory) => {
      directory.write('f.p12', pfx);
      // openssl exits non-zero on a MAC that does not verify with the password.
      expect(() => directory.run(['pkcs12', '-in', 'f.p12', '-passin', 'pass:x', '-nodes'])).toThrow(/mac verify/i);
      return {
        pem: directory.run(['pkcs12', '-in', 'f.p12', '-passin', 'pass:', '-nodes']),
        info: directory.run(['pkcs12', '-in', 'f.p12', '-passin', 'pass:', '-info', '-noout']),
      };
    });
    expect(info).toContain('MAC: sha256, Iteration 2048');
    expect(info).toContain('Certificate bag');
    expect(info).toContain('Key bag');
    const keyBlock = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(pem)?.[0];
    expect(same(derOfPem(keyBlock ?? ''), leafKeyPkcs8)).toBe(true);
    const certificates = [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => derOfPem(m[0]));
    expect(certificates.map((der) => new X509Certificate(der).subject)).toEqual(['CN=leaf.example', 'CN=Test Intermediate', 'CN=Test Root']);
    // The key and the leaf share a localKeyId, which OpenSSL prints as the pair's attribute.
    const keyIds = [...pem.matchAll(/localKeyID: ([0-9A-F ]+)/g)].map((m) => m[1]);
    expect(keyIds).toHaveLength(2);
    expect(keyIds[0]).toBe(keyIds[1]);
  });

  it('round-trips through readPkcs12: the same key bytes and the same chain, leaf first', async () => {
    const contents: CertificateContents = { privateKeyPkcs8: leafKeyPkcs8, chain: [chain.intermediate, chain.root, chain.leaf] };
    const read = await readPkcs12(await buildPkcs12(contents));
    expect(same(read.privateKeyPkcs8, leafKeyPkcs8)).toBe(true);
    expect(read.chain).toHaveLength(3);
    expect(same(read.chain[0], chain.leaf)).toBe(true);
    expect(same(read.chain[1], chain.intermediate)).toBe(true);
    expect(same(read.chain[2], chain.root)).toBe(true);
    expect(keyMatchesCertificate(read.chain[0]!, read.privateKeyPkcs8!)).toBe(true);
  });

  it('writes certificates alone when there is no key', async () => {
    const read = await readPkcs12(await buildPkcs12({ chain: [rsaCertificate] }), '');
    expect(read.privateKeyPkcs8).toBeUndefined();
    expect(read.chain).toHaveLength(1);
    expect(same(read.chain[0], rsaCertificate)).toBe(true);
  });
});

describe('readPkcs12', () => {
  it("opens OpenSSL 3's default output (PBES2, PBKDF2, AES-256-CBC, HMAC-SHA256 MAC) with its password", async () => {
    const pfx = opensslPkcs12('secret');
    const read = await readPkcs12(pfx, 'secret');
    expect(same(read.privateKeyPkcs8, leafKeyPkcs8)).toBe(true);
    expect(read.chain.map((der) => new X509Certificate(der).subject)).toEqual(['CN=leaf.example', 'CN=Test Intermediate', 'CN=Test Root']);
  });

  it('refuses the wrong password, and a missing one, as Pkcs12WrongPassword saying nothing of either', async () => {
    const pfx = opensslPkcs12('secret');
    const wrong = await readPkcs12(pfx, 'wrong').catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(Pkcs12WrongPassword);
    expect((wrong as Error).message).not.toContain('wrong');
    expect((wrong as Error).message).not.toContain('secret');
    await expect(readPkcs12(pfx)).rejects.toThrow(Pkcs12WrongPassword);
  });

  it('opens a file with no MAC, and then a wrong password fails in decryption instead', async () => {
    const pfx = opensslPkcs12('secret', ['-nomac']);
    const read = await readPkcs12(pfx, 'secret');
    expect(same(read.privateKeyPkcs8, leafKeyPkcs8)).toBe(true);
    expect(read.chain).toHaveLength(3);
    await expect(readPkcs12(pfx, 'wrong')).rejects.toThrow(Pkcs12WrongPassword);
  });

  it('opens a file with unencrypted bags and an empty password', async () => {
    const pfx = opensslPkcs12('', ['-keypbe', 'NONE', '-certpbe', 'NONE']);
    const read = await readPkcs12(pfx);
    expect(same(read.privateKeyPkcs8, leafKeyPkcs8)).toBe(true);
    expect(same(read.chain[0], chain.leaf)).toBe(true);
  });

  it('opens legacy pbeWithSHAAnd3-KeyTripleDES-CBC bags with a SHA-1 MAC', async () => {
    const pfx = opensslPkcs12('secret', ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']);
    const read = await readPkcs12(pfx, 'secret');
    expect(same(read.privateKeyPkcs8, leafKeyPkcs8)).toBe(true);
    expect(read.chain).toHaveLength(3);
  });

  it("refuses `-legacy` files' RC2-40 certificate bags as Pkcs12Unsupported, naming the algorithm", async () => {
    const pfx = opensslPkcs12('secret', ['-legacy']);
    await expect(readPkcs12(pfx, 'secret')).rejects.toThrow(Pkcs12Unsupported);
    await expect(readPkcs12(pfx, 'secret')).rejects.toThrow('1.2.840.113549.1.12.1.6');
    // The MAC is checked first: a wrong password is still told as such.
    await expect(readPkcs12(pfx, 'wrong')).rejects.toThrow(Pkcs12WrongPassword);
  });

  it('refuses truncated and random bytes as Pkcs12Malformed', async () => {
    const pfx = await buildPkcs12({ privateKeyPkcs8: rsa.pkcs8, chain: [rsaCertificate] });
    for (const bytes of [pfx.subarray(0, pfx.length - 1), pfx.subarray(0, 40), new Uint8Array(randomBytes(512)), new Uint8Array()]) {
      await expect(readPkcs12(bytes)).rejects.toThrow(Pkcs12Malformed);
    }
    await expect(readPkcs12(new Uint8Array([...pfx, 0]))).rejects.toThrow(Pkcs12Malformed);
    // A certificate is DER too, but no PFX.
    await expect(readPkcs12(rsaCertificate)).rejects.toThrow(Pkcs12Malformed);
  });

  it('refuses a file whose content was changed after the MAC was made', async () => {
    const pfx = await buildPkcs12({ privateKeyPkcs8: rsa.pkcs8, chain: [rsaCertificate] });
    const tampered = new Uint8Array(pfx);
    // Inside the first certificate's signature: the structure still parses, the MAC no longer matches.
    const at = Buffer.from(tampered).indexOf(Buffer.from(rsaCertificate.subarray(rsaCertificate.length - 20)));
    tampered[at]! ^= 0x01;
    await expect(readPkcs12(tampered)).rejects.toThrow(Pkcs12WrongPassword);
  });
});

describe('PEM', () => {
  it('writes the PKCS#8 key first, then the chain leaf first, in 64 columns with \\n', () => {
    const pem = buildPem({ privateKeyPkcs8: leafKeyPkcs8, chain: [chain.root, chain.intermediate, chain.leaf] });
    const labels = [...pem.matchAll(/-----BEGIN ([A-Z ]+)-----/g)].map((m) => m[1]);
    expect(labels).toEqual(['PRIVATE KEY', 'CERTIFICATE', 'CERTIFICATE', 'CERTIFICATE']);
    expect(pem).not.toContain('\r');
    expect(pem.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    const lengths = pem
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('-----'))
      .map((line) => line.length);
    expect(Math.max(...lengths)).toBe(64);
    expect(new X509Certificate(pem).subject).toBe('CN=leaf.example');
    expect(createPrivateKey(pem).asymmetricKeyType).toBe('ec');
  });

  it('round-trips: the same key bytes and the chain, leaf first', () => {
    const read = readPem(buildPem({ privateKeyPkcs8: leafKeyPkcs8, chain: [chain.intermediate, chain.leaf, chain.root] }));
    expect(same(read.privateKeyPkcs8, leafKeyPkcs8)).toBe(true);
    expect(read.chain.map((der) => new X509Certificate(der).subject)).toEqual(['CN=leaf.example', 'CN=Test Intermediate', 'CN=Test Root']);
    const certificateOnly = readPem(buildPem({ chain: [rsaCertificate] }));
    expect(certificateOnly.privateKeyPkcs8).toBeUndefined();
    expect(same(certificateOnly.chain[0], rsaCertificate)).toBe(true);
  });

  it('reads CRLF text with other blocks around', () => {
    const text = `subject=CN = leaf\r\n${toPem('CERTIFICATE', chain.leaf).replaceAll('\n', '\r\n')}${toPem('X509 CRL', new Uint8Array([1, 2]))}${toPem('PRIVATE KEY', leafKeyPkcs8)}`;
    const read = readPem(text);
    expect(same(read.privateKeyPkcs8, leafKeyPkcs8)).toBe(true);
    expect(same(read.chain[0], chain.leaf)).toBe(true);
  });

  it('refuses keys that are not PKCS#8 as PemUnsupportedKey', () => {
    const certificate = toPem('CERTIFICATE', rsaCertificate);
    const pkcs1 = rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }) as string;
    expect(pkcs1).toContain('BEGIN RSA PRIVATE KEY');
    expect(() => readPem(pkcs1 + certificate)).toThrow(PemUnsupportedKey);
    const sec1 = ecKey('P-256').privateKey.export({ format: 'pem', type: 'sec1' }) as string;
    expect(() => readPem(certificate + sec1)).toThrow(PemUnsupportedKey);
    const encrypted = rsa.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'p' }) as string;
    expect(encrypted).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    expect(() => readPem(certificate + encrypted)).toThrow(PemUnsupportedKey);
  });

  it('refuses text with no certificate, bad base64, or a certificate block that is no certificate, as PemMalformed', () => {
    expect(() => readPem(toPem('PRIVATE KEY', leafKeyPkcs8))).toThrow(PemMalformed);
    expect(() => readPem('')).toThrow(PemMalformed);
    expect(() => readPem('-----BEGIN CERTIFICATE-----\nnot*base64!\n-----END CERTIFICATE-----\n')).toThrow(PemMalformed);
    expect(() => readPem('-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n')).toThrow(PemMalformed);
    expect(() => readPem(toPem('CERTIFICATE', new Uint8Array([0x30, 0x03, 1, 2, 3])))).toThrow(PemMalformed);
    expect(() => readPem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n')).toThrow(PemMalformed);
  });
});
