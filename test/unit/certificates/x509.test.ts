/**
 * lib/certificates/x509.ts held to node:crypto's X509Certificate, pkijs's own parser and `openssl req
 * -verify`: what the module writes must read back the same in each of them.
 */
import { X509Certificate } from 'node:crypto';
import { webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import { CertificationRequest, CryptoEngine, Extensions } from 'pkijs';
import { describe, expect, it } from 'vitest';
import { BadParameter } from '../../../lib/core/errors.ts';
import {
  assertX509Request,
  buildCsr,
  describeCertificate,
  issueSelfSigned,
  keyMatchesCertificate,
  orderChain,
  signatureHash,
  spkiMatchesCertificate,
  type X509Request,
} from '../../../lib/certificates/x509.ts';
import { derOfPem, ecKey, opensslChain, rsaKey, selfSigned, type TestKey, withOpenssl } from './support.ts';

const engine = new CryptoEngine({ name: 'node', crypto: webcrypto as unknown as ConstructorParameters<typeof CryptoEngine>[0]['crypto'] });

const KEYS: { name: string; key: TestKey; hash: string; curve?: string }[] = [
  { name: 'RSA 2048', key: rsaKey(), hash: 'sha256' },
  { name: 'EC P-256', key: ecKey('P-256'), hash: 'sha256', curve: 'P-256' },
  { name: 'EC P-384', key: ecKey('P-384'), hash: 'sha384', curve: 'P-384' },
  { name: 'EC P-521', key: ecKey('P-521'), hash: 'sha512', curve: 'P-521' },
];

const FULL_REQUEST: X509Request = {
  subject: 'CN=www.contoso.com, O=Contoso, OU=IT, C=US, L=Seattle, S=WA, E=admin@contoso.com',
  sans: { dns_names: ['www.contoso.com', 'contoso.com'], emails: ['ops@contoso.com'], upns: ['alice@contoso.com'] },
  ekus: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'],
  key_usage: ['digitalSignature', 'keyEncipherment'],
  validity_months: 12,
};

const NOW = new Date('2026-01-31T10:20:30Z');

describe('signatureHash', () => {
  it('answers SHA-256 for RSA and P-256, SHA-384 for P-384, SHA-512 for P-521', () => {
    expect(signatureHash({ kind: 'RSA' })).toBe('sha256');
    expect(signatureHash({ kind: 'EC', curve: 'P-256' })).toBe('sha256');
    expect(signatureHash({ kind: 'EC', curve: 'P-384' })).toBe('sha384');
    expect(signatureHash({ kind: 'EC', curve: 'P-521' })).toBe('sha512');
  });
});

describe('issueSelfSigned', () => {
  for (const { name, key, hash, curve } of KEYS) {
    it(`${name}: a v3 certificate node reads as requested, signed with ${hash}, verifying with its own key`, async () => {
      const der = await issueSelfSigned(FULL_REQUEST, key.spki, key.signer, NOW);
      const x509 = new X509Certificate(der);
      expect(x509.subject).toBe('CN=www.contoso.com\nO=Contoso\nOU=IT\nC=US\nL=Seattle\nST=WA\nemailAddress=admin@contoso.com');
      expect(x509.issuer).toBe(x509.subject);
      expect(x509.subjectAltName).toBe('DNS:www.contoso.com, DNS:contoso.com, email:ops@contoso.com, othername:UPN:alice@contoso.com');
      expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
      expect(x509.ca).toBe(false);
      expect(x509.verify(key.publicKey)).toBe(true);
      expect(x509.checkPrivateKey(key.privateKey)).toBe(true);
      expect(new Date(x509.validFrom).toISOString()).toBe('2026-01-31T10:20:30.000Z');
      // Jan 31 + 12 months is Jan 31 of the next year; a serial is positive and 16 bytes.
      expect(new Date(x509.validTo).toISOString()).toBe('2027-01-31T10:20:30.000Z');
      expect(x509.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);

      const facts = describeCertificate(der);
      expect(facts.subject).toBe('CN=www.contoso.com, O=Contoso, OU=IT, C=US, L=Seattle, ST=WA, E=admin@contoso.com');
      expect(facts.issuer).toBe(facts.subject);
      expect(facts.sans).toEqual(FULL_REQUEST.sans);
      expect(facts.ekus).toEqual(FULL_REQUEST.ekus);
      expect(facts.key_usage).toEqual(['digitalSignature', 'keyEncipherment']);
      expect(facts.kind).toBe(curve ? 'EC' : 'RSA');
      expect(facts.curve).toBe(curve);
      expect(facts.keySize).toBe(curve ? undefined : 2048);
      expect(Buffer.from(facts.spki).equals(Buffer.from(key.spki))).toBe(true);
      expect(facts.notBefore).toBe(Date.parse('2026-01-31T10:20:30Z') / 1000);
      expect(facts.notAfter).toBe(Date.parse('2027-01-31T10:20:30Z') / 1000);
      expect(facts.validityMonths).toBe(12);
      expect(facts.x5t).toBe(Buffer.from(x509.fingerprint.replaceAll(':', ''), 'hex').toString('base64url'));
    });
  }

  it('marks key usage critical with exactly the bits asked for, and the subject and authority key ids agree', async () => {
    const key = KEYS[1]!.key;
    const der = await selfSigned({ subject: 'CN=bits', key_usage: ['keyCertSign', 'cRLSign', 'decipherOnly'] }, key);
    const text = withOpenssl((directory) => {
      directory.write('c.der', der);
      return directory.run(['x509', '-in', 'c.der', '-inform', 'DER', '-noout', '-text']);
    });
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign, Decipher Only\n/);
    const ski = /Subject Key Identifier: *\n\s+([0-9A-F:]+)/.exec(text)?.[1];
    expect(ski).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(text).toContain(`Authority Key Identifier: \n                ${ski}`);
    expect(text).toMatch(/Basic Constraints: *\n\s+CA:FALSE/);
    expect(text).not.toContain('Extended Key Usage');
    expect(text).not.toContain('Subject Alternative Name');
    expect(describeCertificate(der).key_usage).toEqual(['keyCertSign', 'cRLSign', 'decipherOnly']);
  });

  it('reads the subject back as written: the round trip of a two-attribute subject', async () => {
    const der = await selfSigned({ subject: 'CN=a.example, O=Contoso' }, KEYS[0]!.key);
    const facts = describeCertificate(der);
    expect(facts.subject).toBe('CN=a.example, O=Contoso');
    expect(facts.sans).toBeUndefined();
    expect(facts.key_usage).toBeUndefined();
    expect(facts.ekus).toBeUndefined();
  });

  it("takes ';' separators, quoted values holding separators, ST, DC, STREET and SERIALNUMBER", async () => {
    const der = await selfSigned(
      { subject: 'CN="Contoso, Ltd; Web"; DC=contoso; DC=com; STREET=1 Main St; SERIALNUMBER=42; ST=Washington' },
      KEYS[1]!.key,
    );
    expect(describeCertificate(der).subject).toBe('CN="Contoso, Ltd; Web", DC=contoso, DC=com, STREET=1 Main St, SERIALNUMBER=42, ST=Washington');
    expect(new X509Certificate(der).subject).toBe('CN=Contoso\\, Ltd\\; Web\nDC=contoso\nDC=com\nstreet=1 Main St\nserialNumber=42\nST=Washington');
  });

  it('ends validity on the last day of a shorter month, and in GeneralizedTime from 2050', async () => {
    const key = KEYS[1]!.key;
    const shortMonth = new X509Certificate(await selfSigned({ subject: 'CN=m', validity_months: 1 }, key, NOW));
    expect(new Date(shortMonth.validTo).toISOString()).toBe('2026-02-28T10:20:30.000Z');
    expect(describeCertificate(new Uint8Array(shortMonth.raw)).validityMonths).toBe(1);
    const century = await selfSigned({ subject: 'CN=m', validity_months: 1200 }, key, NOW);
    expect(new Date(new X509Certificate(century).validTo).toISOString()).toBe('2126-01-31T10:20:30.000Z');
    expect(describeCertificate(century).validityMonths).toBe(1200);
  });

  it('refuses a request with a bad subject, key usage, EKU or validity, as BadParameter', async () => {
    const key = KEYS[0]!.key;
    const bad: [Partial<X509Request>, RegExp][] = [
      [{ subject: '' }, /empty/],
      [{ subject: 'CN' }, /no '='/],
      [{ subject: 'XX=a' }, /unknown attribute 'XX'/],
      [{ subject: 'CN=a,' }, /ends with a separator/],
      [{ subject: 'CN="a' }, /unterminated quote/],
      [{ subject: 'CN=' }, /empty value/],
      [{ subject: 'CN=a, C=USA' }, /two-letter/],
      [{ subject: 'CN=a', key_usage: ['signEverything'] }, /Unknown key usage 'signEverything'/],
      [{ subject: 'CN=a', ekus: ['serverAuth'] }, /'serverAuth' is not an OID/],
      [{ subject: 'CN=a', validity_months: 0 }, /validity_months/],
      [{ subject: 'CN=a', validity_months: 1201 }, /validity_months/],
    ];
    for (const [request, message] of bad) {
      const full = { subject: 'CN=a', validity_months: 12, ...request };
      expect(() => assertX509Request(full), JSON.stringify(request)).toThrow(BadParameter);
      expect(() => assertX509Request(full)).toThrow(message);
      await expect(issueSelfSigned(full, key.spki, key.signer, NOW)).rejects.toThrow(BadParameter);
    }
    expect(() => assertX509Request(FULL_REQUEST)).not.toThrow();
  });
});

describe('buildCsr', () => {
  for (const { name, key } of KEYS) {
    it(`${name}: a PKCS#10 request pkijs and openssl verify, carrying the extensions asked for`, async () => {
      const der = await buildCsr(FULL_REQUEST, key.spki, key.signer);
      const csr = CertificationRequest.fromBER(der);
      expect(await csr.verify(engine)).toBe(true);
      expect(Buffer.from(csr.subjectPublicKeyInfo.toSchema().toBER(false)).equals(Buffer.from(key.spki))).toBe(true);
      const [attribute] = csr.attributes ?? [];
      expect(attribute?.type).toBe('1.2.840.113549.1.9.14');
      const extensions = new Extensions({ schema: attribute!.values[0] }).extensions;
      expect(extensions.map((extension) => [extension.extnID, extension.critical])).toEqual([
        ['2.5.29.15', true],
        ['2.5.29.37', false],
        ['2.5.29.17', false],
      ]);

      const text = withOpenssl((directory) => {
        directory.write('r.der', der);
        return directory.run(['req', '-in', 'r.der', '-inform', 'DER', '-verify', '-noout', '-text']);
      });
      expect(text).toContain('self-signature verify OK');
      expect(text).toContain('Subject: CN = www.contoso.com, O = Contoso, OU = IT, C = US, L = Seattle, ST = WA, emailAddress = admin@contoso.com');
      expect(text).toMatch(
        /X509v3 Subject Alternative Name: *\n\s+DNS:www.contoso.com, DNS:contoso.com, email:ops@contoso.com, othername: UPN::alice@contoso.com/,
      );
      expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment/);
      expect(text).toMatch(/X509v3 Extended Key Usage: *\n\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    });
  }

  it('signs a request that openssl verifies, and fails verification when one byte is changed', async () => {
    const key = KEYS[0]!.key;
    const der = await buildCsr({ subject: 'CN=plain', validity_months: 12 }, key.spki, key.signer);
    const tampered = new Uint8Array(der);
    // The last byte is signature: any change must break it.
    tampered[tampered.length - 1]! ^= 0x01;
    withOpenssl((directory) => {
      directory.write('good.der', der);
      directory.write('bad.der', tampered);
      // OpenSSL 3.0 exits 0 either way: its verdict is in what it prints.
      expect(directory.run(['req', '-in', 'good.der', '-inform', 'DER', '-verify', '-noout'])).toContain('verify OK');
      expect(directory.run(['req', '-in', 'bad.der', '-inform', 'DER', '-verify', '-noout'])).toContain('verify failure');
    });
    expect(CertificationRequest.fromBER(der).attributes ?? []).toEqual([]);
  });
});

describe('describeCertificate', () => {
  it('refuses bytes that are not one DER certificate', async () => {
    const der = await selfSigned({ subject: 'CN=x' }, KEYS[1]!.key);
    expect(() => describeCertificate(new Uint8Array([1, 2, 3]))).toThrow(BadParameter);
    expect(() => describeCertificate(der.subarray(0, der.length - 1))).toThrow(BadParameter);
    expect(() => describeCertificate(new Uint8Array([...der, 0]))).toThrow(BadParameter);
    expect(() => describeCertificate(new TextEncoder().encode(new X509Certificate(der).toString()))).toThrow(BadParameter);
    expect(() => describeCertificate(new Uint8Array(new asn1js.Sequence({ value: [] }).toBER(false)))).toThrow(BadParameter);
  });

  it('reads a certificate openssl made: issuer, P-256K curve, and ST printed as ST', () => {
    const der = withOpenssl((directory) => {
      directory.run([
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:secp256k1',
        '-nodes',
        '-keyout',
        'k.pem',
        '-subj',
        '/C=US/ST=WA/O=Fabrikam/CN=fabrikam.example',
        '-days',
        '90',
        '-out',
        'c.pem',
      ]);
      return derOfPem(directory.read('c.pem'));
    });
    const facts = describeCertificate(der);
    expect(facts.subject).toBe('C=US, ST=WA, O=Fabrikam, CN=fabrikam.example');
    expect(facts.kind).toBe('EC');
    expect(facts.curve).toBe('P-256K');
    expect(facts.validityMonths).toBe(3);
  });
});

describe('key matching', () => {
  it('matches the certificate to its own key, and not to another', async () => {
    const [rsa, p256, p384] = [KEYS[0]!.key, KEYS[1]!.key, KEYS[2]!.key];
    const der = await selfSigned({ subject: 'CN=m' }, p256);
    expect(keyMatchesCertificate(der, p256.pkcs8)).toBe(true);
    expect(keyMatchesCertificate(der, ecKey('P-256').pkcs8)).toBe(false);
    expect(keyMatchesCertificate(der, p384.pkcs8)).toBe(false);
    expect(keyMatchesCertificate(der, rsa.pkcs8)).toBe(false);
    expect(keyMatchesCertificate(der, new Uint8Array([0x30, 0x00]))).toBe(false);
    expect(spkiMatchesCertificate(der, p256.spki)).toBe(true);
    expect(spkiMatchesCertificate(der, p384.spki)).toBe(false);
    expect(spkiMatchesCertificate(der, new Uint8Array([1]))).toBe(false);
  });
});

describe('orderChain', () => {
  const { root, intermediate, leaf } = opensslChain();
  const subjects = (chain: Uint8Array[]) => chain.map((der) => describeCertificate(der).subject);

  it('orders a scrambled three-certificate chain leaf first, then each issuer', () => {
    const expected = ['CN=leaf.example', 'CN=Test Intermediate', 'CN=Test Root'];
    for (const scrambled of [
      [root, leaf, intermediate],
      [intermediate, root, leaf],
      [root, intermediate, leaf],
      [leaf, intermediate, root],
    ]) {
      expect(subjects(orderChain(scrambled))).toEqual(expected);
    }
  });

  it('puts certificates that are not part of the chain last, in the order given', async () => {
    const strangerA = await selfSigned({ subject: 'CN=Stranger A' }, KEYS[1]!.key);
    const strangerB = await selfSigned({ subject: 'CN=Stranger B' }, KEYS[1]!.key);
    expect(subjects(orderChain([strangerB, root, leaf, strangerA, intermediate]))).toEqual([
      'CN=leaf.example',
      'CN=Test Intermediate',
      'CN=Test Root',
      'CN=Stranger B',
      'CN=Stranger A',
    ]);
    expect(subjects(orderChain([leaf, root]))).toEqual(['CN=leaf.example', 'CN=Test Root']);
    expect(orderChain([])).toEqual([]);
  });
});
