import { createHash, createPrivateKey, type KeyObject, verify as nodeVerify, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import {
  type CertificateContentType,
  CertificateClient,
  type CertificatePolicy,
  type KeyVaultCertificate,
  type ListPropertiesOfCertificatesOptions,
} from '@azure/keyvault-certificates';
import { CryptographyClient, KeyClient, type SignatureAlgorithm } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  certificateExtensions,
  keyMatchesCertificate,
  makePfx,
  openPfx,
  pemBlocks,
  pendingCsr,
  selfSignedCertificate,
  testCa,
  verifyCsr,
} from '../support/certificates.ts';
import { adminSecretCredential, localStack, raw, uniqueName } from '../support/local.ts';
import { createLocalVault } from '../support/vaults.ts';

/**
 * The official @azure/keyvault-certificates CertificateClient against the local vault, with the
 * SecretClient and KeyClient reading the certificate's managed secret and key. What Coffer makes is
 * checked by node:crypto, @peculiar/x509 and the openssl CLI, never by Coffer itself.
 */
const info = localStack();
const credential = adminSecretCredential(info);
const clientOptions = { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } };
const POLL = { intervalInMs: 100 };

function clientsFor(vaultUrl: string) {
  return {
    certificates: new CertificateClient(vaultUrl, credential, clientOptions),
    secrets: new SecretClient(vaultUrl, credential, clientOptions),
    keys: new KeyClient(vaultUrl, credential, clientOptions),
  };
}

const { certificates, secrets, keys } = clientsFor(info.vaultUrl);

async function createSelfSigned(name: string, policy: Omit<CertificatePolicy, 'issuerName'>, client = certificates) {
  const poller = await client.beginCreateCertificate(name, { issuerName: 'Self', ...policy } as CertificatePolicy, POLL);
  return poller.pollUntilDone();
}

function parsed(certificate: KeyVaultCertificate): X509Certificate {
  expect(certificate.cer).toBeInstanceOf(Uint8Array);
  return new X509Certificate(Buffer.from(certificate.cer!));
}

function sha1(bytes: Uint8Array): Buffer {
  return createHash('sha1').update(bytes).digest();
}

function monthsLater(date: Date, months: number): Date {
  const later = new Date(date);
  later.setUTCMonth(later.getUTCMonth() + months);
  return later;
}

/** The algorithm and digest a certificate's key signs with, from its public key. */
function signingAlgorithm(publicKey: KeyObject): { alg: SignatureAlgorithm; hash: 'sha256' | 'sha384' | 'sha512' } {
  if (publicKey.asymmetricKeyType === 'rsa') return { alg: 'RS256', hash: 'sha256' };
  const curve = publicKey.asymmetricKeyDetails?.namedCurve;
  if (curve === 'prime256v1') return { alg: 'ES256', hash: 'sha256' };
  if (curve === 'secp384r1') return { alg: 'ES384', hash: 'sha384' };
  if (curve === 'secp521r1') return { alg: 'ES512', hash: 'sha512' };
  throw new Error(`no signing algorithm for ${publicKey.asymmetricKeyType} ${curve}`);
}

/** The certificate's managed key signs remotely (CryptographyClient) and node:crypto verifies the signature with the certificate's public key. */
async function keySignsForCertificate(keyId: string, certificate: X509Certificate) {
  const { alg, hash } = signingAlgorithm(certificate.publicKey);
  const message = Buffer.from(`signed by ${keyId}`);
  const digest = createHash(hash).update(message).digest();
  const signed = await new CryptographyClient(keyId, credential, clientOptions).sign(alg, digest);
  expect(signed.keyID).toBe(keyId);
  const verifyKey = alg.startsWith('ES') ? { key: certificate.publicKey, dsaEncoding: 'ieee-p1363' as const } : certificate.publicKey;
  expect(nodeVerify(hash, message, verifyKey, Buffer.from(signed.result))).toBe(true);
  expect(nodeVerify(hash, Buffer.from('another message'), verifyKey, Buffer.from(signed.result))).toBe(false);
}

/** The managed secret holds the certificate with its private key, in the content type the policy asks for. */
async function secretHoldsKeyFor(name: string, certificate: KeyVaultCertificate, contentType: CertificateContentType, client = secrets) {
  const cert = parsed(certificate);
  const secret = await client.getSecret(name);
  expect(secret.properties.contentType).toBe(contentType);
  expect(secret.properties.managed).toBe(true);
  expect(secret.properties.certificateKeyId).toBe(certificate.keyId);
  expect(secret.properties.version).toBe(certificate.properties.version);
  if (contentType === 'application/x-pem-file') {
    const blocks = pemBlocks(secret.value!);
    expect(blocks.map((b) => b.label)).toEqual(['PRIVATE KEY', 'CERTIFICATE']);
    expect(blocks[1]!.der.equals(Buffer.from(cert.raw))).toBe(true);
    expect(keyMatchesCertificate(createPrivateKey(blocks[0]!.text), cert)).toBe(true);
  } else {
    const pfx = Buffer.from(secret.value!, 'base64');
    expect(() => createSecureContext({ pfx })).not.toThrow();
    const opened = openPfx(pfx);
    expect(opened.hasKey).toBe(true);
    expect(Buffer.from(opened.certificates[0]!.raw).equals(Buffer.from(cert.raw))).toBe(true);
    expect(keyMatchesCertificate(opened.privateKey, cert)).toBe(true);
  }
  return secret;
}

async function expectStatus(promise: Promise<unknown>, statusCode: number, code?: string) {
  const expected: Record<string, unknown> = { statusCode };
  if (code) expected.code = code;
  await expect(promise).rejects.toMatchObject(expected);
}

const API = 'api-version=7.5';

async function expectNothingStored(name: string) {
  await expectStatus(certificates.getCertificate(name), 404);
  await expectStatus(secrets.getSecret(name), 404);
  await expectStatus(keys.getKey(name), 404);
}

describe('self-signed certificates (issuer Self)', () => {
  it.each([
    ['RSA 2048', { keyType: 'RSA', keySize: 2048 }, 'application/x-pkcs12', ['digitalSignature', 'keyEncipherment']],
    ['RSA 3072', { keyType: 'RSA', keySize: 3072 }, 'application/x-pem-file', ['digitalSignature', 'keyEncipherment']],
    ['EC P-256', { keyType: 'EC', keyCurveName: 'P-256' }, 'application/x-pkcs12', ['digitalSignature']],
    ['EC P-384', { keyType: 'EC', keyCurveName: 'P-384' }, 'application/x-pem-file', ['digitalSignature', 'keyAgreement']],
    ['EC P-521', { keyType: 'EC', keyCurveName: 'P-521' }, 'application/x-pkcs12', ['digitalSignature']],
  ] as const)('creates %s (%s) with the asked subject, names, usages and validity', async (_label, key, contentType, keyUsage) => {
    const name = uniqueName('self');
    const host = `${name}.example`;
    const sans = { dnsNames: [host, `www.${host}`], emails: [`admin@${host}`], userPrincipalNames: [`user@${host}`] };
    const ekus = ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'];
    const policy = {
      ...key,
      subject: `CN=${host}, O=Coffer Tests`,
      subjectAlternativeNames: sans,
      enhancedKeyUsage: ekus,
      keyUsage: [...keyUsage],
      validityInMonths: 13,
      contentType,
    } as Omit<CertificatePolicy, 'issuerName'>;
    const before = Date.now();
    const created = await createSelfSigned(name, policy);

    expect(created.name).toBe(name);
    expect(created.properties.enabled).toBe(true);
    expect(created.properties.version).toMatch(/^[0-9a-f]{32}$/);
    expect(new URL(created.keyId!).pathname).toBe(`/keys/${name}/${created.properties.version}`);
    expect(new URL(created.secretId!).pathname).toBe(`/secrets/${name}/${created.properties.version}`);

    const cert = parsed(created);
    expect(cert.subject.split('\n').sort()).toEqual([`CN=${host}`, 'O=Coffer Tests']);
    // Self-signed: issued by its own subject, signed by its own key (checkIssued would also demand keyCertSign, which a leaf has not).
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true);
    for (const dns of sans.dnsNames) expect(cert.subjectAltName).toContain(`DNS:${dns}`);
    expect(cert.subjectAltName).toContain(`email:admin@${host}`);
    expect([...cert.keyUsage].sort()).toEqual(ekus);
    const extensions = certificateExtensions(cert.raw);
    expect(extensions.keyUsage.sort()).toEqual([...keyUsage].sort());
    expect(extensions.ekus.sort()).toEqual(ekus);
    expect(extensions.dnsNames.sort()).toEqual([...sans.dnsNames].sort());
    expect(extensions.emails).toEqual(sans.emails);
    expect(extensions.upns).toEqual(sans.userPrincipalNames);
    if (key.keyType === 'RSA') expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(key.keySize);
    else
      expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe(
        { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' }[key.keyCurveName],
      );

    // Valid from about now for 13 months (a day's slack either way for how the months are counted).
    expect(cert.validFromDate.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(cert.validFromDate.getTime()).toBeGreaterThan(before - 24 * 3600_000);
    expect(Math.abs(cert.validToDate.getTime() - monthsLater(cert.validFromDate, 13).getTime())).toBeLessThanOrEqual(2 * 24 * 3600_000);
    expect(created.properties.expiresOn?.getTime()).toBe(cert.validToDate.getTime());
    expect(created.properties.notBefore?.getTime()).toBe(cert.validFromDate.getTime());

    const thumbprint = sha1(created.cer!);
    expect(Buffer.from(created.properties.x509Thumbprint!).equals(thumbprint)).toBe(true);
    expect(created.properties.x509ThumbprintString).toBe(thumbprint.toString('hex'));
    expect(cert.fingerprint.replace(/:/g, '').toLowerCase()).toBe(thumbprint.toString('hex'));

    const expectedPolicy = {
      issuerName: 'Self',
      subject: `CN=${host}, O=Coffer Tests`,
      subjectAlternativeNames: sans,
      enhancedKeyUsage: ekus,
      keyUsage: [...keyUsage],
      validityInMonths: 13,
      contentType,
      exportable: true,
      ...key,
    };
    expect(created.policy).toMatchObject(expectedPolicy);
    expect(await certificates.getCertificatePolicy(name)).toMatchObject(expectedPolicy);

    await secretHoldsKeyFor(name, created, contentType);
    const managedKey = await keys.getKey(name);
    expect(managedKey.id).toBe(created.keyId);
    expect(managedKey.properties.managed).toBe(true);
    expect(managedKey.keyType).toBe(key.keyType);
    await keySignsForCertificate(created.keyId!, cert);
  });
});

describe('HSM-backed certificates on a premium vault', () => {
  let premium: ReturnType<typeof clientsFor>;
  beforeAll(async () => {
    premium = clientsFor((await createLocalVault('certhsm', { sku: 'premium' })).vaultUri);
  });

  it.each([
    ['RSA-HSM', { keyType: 'RSA-HSM', keySize: 2048 }, 'application/x-pkcs12'],
    ['EC-HSM', { keyType: 'EC-HSM', keyCurveName: 'P-256' }, 'application/x-pem-file'],
  ] as const)('creates a %s certificate whose key stays in the HSM and signs for it', async (keyType, key, contentType) => {
    const name = uniqueName('hsm');
    const created = await createSelfSigned(
      name,
      { ...key, exportable: false, subject: `CN=${name}.example`, validityInMonths: 12, contentType } as Omit<CertificatePolicy, 'issuerName'>,
      premium.certificates,
    );
    const cert = parsed(created);
    expect(cert.subject).toBe(`CN=${name}.example`);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(created.policy).toMatchObject({ keyType, exportable: false });

    const managedKey = await premium.keys.getKey(name);
    expect(managedKey.keyType).toBe(keyType);
    expect(managedKey.properties.managed).toBe(true);
    expect(managedKey.id).toBe(created.keyId);
    await keySignsForCertificate(created.keyId!, cert);

    // A key that cannot leave the HSM is not in the secret: the secret is the certificate alone.
    const secret = await premium.secrets.getSecret(name);
    expect(secret.properties.managed).toBe(true);
    expect(secret.properties.contentType).toBe(contentType);
    if (contentType === 'application/x-pem-file') {
      const blocks = pemBlocks(secret.value!);
      expect(blocks.map((b) => b.label)).toEqual(['CERTIFICATE']);
      expect(blocks[0]!.der.equals(Buffer.from(cert.raw))).toBe(true);
    } else {
      const opened = openPfx(Buffer.from(secret.value!, 'base64'));
      expect(opened.hasKey).toBe(false);
      expect(Buffer.from(opened.certificates[0]!.raw).equals(Buffer.from(cert.raw))).toBe(true);
    }
  });
});

describe('the managed key and secret', () => {
  it('refuse to be written or deleted on their own (403 Forbidden)', async () => {
    const name = uniqueName('managed');
    const created = await createSelfSigned(name, {
      keyType: 'EC',
      keyCurveName: 'P-256',
      subject: `CN=${name}.example`,
      contentType: 'application/x-pkcs12',
    });
    await expectStatus(secrets.setSecret(name, 'overwrite'), 403, 'Forbidden');
    await expectStatus(keys.beginDeleteKey(name, POLL), 403, 'Forbidden');
    await expectStatus(secrets.beginDeleteSecret(name, POLL), 403, 'Forbidden');
    // Nothing changed: the secret is still the certificate's, and the key still signs for it.
    expect((await secrets.getSecret(name)).properties.version).toBe(created.properties.version);
    await secretHoldsKeyFor(name, created, 'application/x-pkcs12');
    await keySignsForCertificate(created.keyId!, parsed(created));
  });
});

describe('certificates issued outside (issuer Unknown): CSR and merge', () => {
  const unknownIssuerPolicy = (name: string): CertificatePolicy => ({
    issuerName: 'Unknown',
    subject: `CN=${name}.example`,
    subjectAlternativeNames: { dnsNames: [`${name}.example`] },
    keyType: 'RSA',
    keySize: 2048,
    enhancedKeyUsage: ['1.3.6.1.5.5.7.3.1'],
    contentType: 'application/x-pkcs12',
  });

  it('answers a pending request through getCertificateOperation, its CSR a PKCS#10 request for the subject', async () => {
    const name = uniqueName('csr-op');
    const poller = await certificates.beginCreateCertificate(name, unknownIssuerPolicy(name), POLL);
    await poller.poll();
    expect(poller.isDone()).toBe(false);

    const operation = (await certificates.getCertificateOperation(name, POLL)).getOperationState().certificateOperation!;
    expect(operation.status).toBe('inProgress');
    expect(operation.issuerName).toBe('Unknown');
    expect(operation.csr).toBeInstanceOf(Uint8Array);
    expect(verifyCsr(operation.csr!).subject).toBe(`CN=${name}.example`);
  });

  it('merges the CA-signed leaf and chain, and refuses a leaf issued for another request’s key', async () => {
    const name = uniqueName('csr');
    const other = uniqueName('csr-other');
    const poller = await certificates.beginCreateCertificate(name, unknownIssuerPolicy(name), POLL);
    await certificates.beginCreateCertificate(other, unknownIssuerPolicy(other), POLL);
    const csr = await pendingCsr(name);
    expect(verifyCsr(csr).subject).toBe(`CN=${name}.example`);

    const ca = testCa();
    const leaf = ca.sign(csr);
    expect(certificateExtensions(leaf).dnsNames).toEqual([`${name}.example`]);

    await expectStatus(certificates.mergeCertificate(other, [leaf, ca.certDer]), 400);
    expect((await raw('GET', `/certificates/${other}/pending?${API}`)).json).toMatchObject({ status: 'inProgress' });

    const merged = await certificates.mergeCertificate(name, [leaf, ca.certDer]);
    expect(Buffer.from(merged.cer!).equals(leaf)).toBe(true);
    expect(Buffer.from(merged.properties.x509Thumbprint!).equals(sha1(leaf))).toBe(true);
    const mergedCert = parsed(merged);
    expect(mergedCert.checkIssued(ca.certificate)).toBe(true);
    expect(mergedCert.verify(ca.certificate.publicKey)).toBe(true);

    const done = await poller.pollUntilDone();
    expect(Buffer.from(done.cer!).equals(leaf)).toBe(true);
    const secret = await secretHoldsKeyFor(name, merged, 'application/x-pkcs12');
    const chain = openPfx(Buffer.from(secret.value!, 'base64')).certificates.map((c) => c.fingerprint256);
    expect(chain).toContain(ca.certificate.fingerprint256);
    await keySignsForCertificate(merged.keyId!, mergedCert);
  });

  it('cancels a pending request through the create poller, then deletes its operation', async () => {
    const name = uniqueName('cancel');
    const poller = await certificates.beginCreateCertificate(name, unknownIssuerPolicy(name), POLL);
    await poller.cancelOperation();
    expect(poller.getOperationState().isCancelled).toBe(true);
    const pending = await raw('GET', `/certificates/${name}/pending?${API}`);
    expect(pending.status).toBe(200);
    expect(pending.json).toMatchObject({ status: 'cancelled', cancellation_requested: true });

    const deleted = await certificates.deleteCertificateOperation(name);
    expect(deleted).toMatchObject({ name, cancellationRequested: true, status: 'cancelled' });
    expect((await raw('GET', `/certificates/${name}/pending?${API}`)).status).toBe(404);
    await expectStatus(certificates.getCertificateOperation(name, POLL), 404);
  });
});

describe('importCertificate', () => {
  it('imports a password-protected RSA PFX and derives the policy from the certificate', async () => {
    const name = uniqueName('imp-rsa');
    const material = selfSignedCertificate({
      key: { kind: 'rsa', bits: 2048 },
      subject: `/CN=${name}.example`,
      dnsNames: [`${name}.example`, `alt.${name}.example`],
    });
    const imported = await certificates.importCertificate(name, makePfx(material, 'pw'), { password: 'pw', tags: { source: 'openssl' } });
    expect(Buffer.from(imported.cer!).equals(material.certDer)).toBe(true);
    expect(imported.properties.tags).toEqual({ source: 'openssl' });
    expect(imported.policy).toMatchObject({
      subject: `CN=${name}.example`,
      subjectAlternativeNames: { dnsNames: [`${name}.example`, `alt.${name}.example`] },
      keyType: 'RSA',
      keySize: 2048,
      contentType: 'application/x-pkcs12',
    });
    expect(await certificates.getCertificatePolicy(name)).toMatchObject({ subject: `CN=${name}.example`, keyType: 'RSA' });
    await secretHoldsKeyFor(name, imported, 'application/x-pkcs12');
    const key = await keys.getKey(name);
    expect(key.properties.managed).toBe(true);
    expect(Buffer.from(key.key!.n!).toString('base64url')).toBe(material.certificate.publicKey.export({ format: 'jwk' }).n);
    await keySignsForCertificate(imported.keyId!, material.certificate);
  });

  it('imports an EC P-384 PFX without a password', async () => {
    const name = uniqueName('imp-ec');
    const material = selfSignedCertificate({ key: { kind: 'ec', curve: 'P-384' }, subject: `/CN=${name}.example`, dnsNames: [`${name}.example`] });
    const imported = await certificates.importCertificate(name, makePfx(material));
    expect(Buffer.from(imported.cer!).equals(material.certDer)).toBe(true);
    expect(imported.policy).toMatchObject({
      subject: `CN=${name}.example`,
      keyType: 'EC',
      keyCurveName: 'P-384',
      contentType: 'application/x-pkcs12',
    });
    await secretHoldsKeyFor(name, imported, 'application/x-pkcs12');
    await keySignsForCertificate(imported.keyId!, material.certificate);
  });

  it.each([
    ['RSA', { kind: 'rsa', bits: 2048 }],
    ['EC P-256', { kind: 'ec', curve: 'P-256' }],
  ] as const)('imports %s as PEM (PKCS#8 key then certificate) and keeps it PEM', async (_label, key) => {
    const name = uniqueName('imp-pem');
    const material = selfSignedCertificate({ key, subject: `/CN=${name}.example`, dnsNames: [`${name}.example`] });
    const imported = await certificates.importCertificate(name, Buffer.from(material.keyPem + material.certPem), {
      policy: { contentType: 'application/x-pem-file' },
    });
    expect(Buffer.from(imported.cer!).equals(material.certDer)).toBe(true);
    expect(imported.policy).toMatchObject({
      subject: `CN=${name}.example`,
      contentType: 'application/x-pem-file',
      keyType: key.kind === 'rsa' ? 'RSA' : 'EC',
    });
    await secretHoldsKeyFor(name, imported, 'application/x-pem-file');
    await keySignsForCertificate(imported.keyId!, material.certificate);
  });

  it('refuses a wrong password, a truncated PFX and a PEM whose key is not the certificate’s, storing nothing', async () => {
    const material = selfSignedCertificate({ key: { kind: 'rsa', bits: 2048 }, subject: '/CN=refused.example' });
    const stranger = selfSignedCertificate({ key: { kind: 'rsa', bits: 2048 }, subject: '/CN=stranger.example' });
    const pfx = makePfx(material, 'right');

    const wrongPassword = uniqueName('imp-pw');
    await expectStatus(certificates.importCertificate(wrongPassword, pfx, { password: 'wrong' }), 400);
    await expectNothingStored(wrongPassword);

    const truncated = uniqueName('imp-trunc');
    await expectStatus(certificates.importCertificate(truncated, pfx.subarray(0, Math.floor(pfx.length / 2)), { password: 'right' }), 400);
    await expectNothingStored(truncated);

    const mismatched = uniqueName('imp-mismatch');
    await expectStatus(
      certificates.importCertificate(mismatched, Buffer.from(stranger.keyPem + material.certPem), {
        policy: { contentType: 'application/x-pem-file' },
      }),
      400,
    );
    await expectNothingStored(mismatched);
  });
});

describe('reading, listing and updating certificates', () => {
  it('gets versions, lists by page with and without pending ones, and lists versions', async () => {
    const prefix = uniqueName('list');
    const names = [0, 1, 2].map((i) => `${prefix}-${i}`);
    const firsts: KeyVaultCertificate[] = [];
    for (const name of names) firsts.push(await createSelfSigned(name, { keyType: 'EC', keyCurveName: 'P-256', subject: `CN=${name}.example` }));
    const pendingName = `${prefix}-pending`;
    await certificates.beginCreateCertificate(pendingName, { issuerName: 'Unknown', subject: `CN=${pendingName}.example` }, POLL);

    // CertificateClient 4.10.3 does not pass byPage's maxPageSize on (the keys and secrets clients do); its
    // options reach the request as they are, so maxresults asks for pages of two.
    const pageOfTwo = { maxresults: 2 } as ListPropertiesOfCertificatesOptions;
    const listed: string[] = [];
    let pages = 0;
    for await (const page of certificates.listPropertiesOfCertificates(pageOfTwo).byPage({ maxPageSize: 2 })) {
      pages++;
      expect(page.length).toBeLessThanOrEqual(2);
      listed.push(...page.map((p) => p.name!));
    }
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(new Set(listed).size).toBe(listed.length);
    for (const name of names) expect(listed).toContain(name);
    expect(listed).not.toContain(pendingName);
    const withPending: string[] = [];
    for await (const properties of certificates.listPropertiesOfCertificates({ includePending: true })) withPending.push(properties.name!);
    for (const name of [...names, pendingName]) expect(withPending).toContain(name);

    const second = await createSelfSigned(names[0]!, { keyType: 'EC', keyCurveName: 'P-256', subject: `CN=${names[0]}.example` });
    expect(second.properties.version).not.toBe(firsts[0]!.properties.version);
    expect(Buffer.from((await certificates.getCertificate(names[0]!)).cer!).equals(Buffer.from(second.cer!))).toBe(true);
    const first = await certificates.getCertificateVersion(names[0]!, firsts[0]!.properties.version!);
    expect(Buffer.from(first.cer!).equals(Buffer.from(firsts[0]!.cer!))).toBe(true);
    expect(first.properties.version).toBe(firsts[0]!.properties.version);

    const versions: string[] = [];
    for await (const properties of certificates.listPropertiesOfCertificateVersions(names[0]!)) {
      expect(properties.name).toBe(names[0]);
      versions.push(properties.version!);
    }
    expect(versions.sort()).toEqual([firsts[0]!.properties.version!, second.properties.version!].sort());
  });

  it('disables a version with tags, which disables its managed secret, and updates the policy', async () => {
    const name = uniqueName('update');
    const created = await createSelfSigned(name, { keyType: 'RSA', keySize: 2048, subject: `CN=${name}.example`, validityInMonths: 12 });
    const updated = await certificates.updateCertificateProperties(name, created.properties.version!, { enabled: false, tags: { team: 'pki' } });
    expect(updated.properties.enabled).toBe(false);
    expect(updated.properties.tags).toEqual({ team: 'pki' });
    const read = await certificates.getCertificate(name);
    expect(read.properties.enabled).toBe(false);
    expect(read.properties.tags).toEqual({ team: 'pki' });
    await expectStatus(secrets.getSecret(name), 403, 'Forbidden');

    // updateCertificatePolicy in @azure/keyvault-certificates 4.10.3 answers toPublicPolicy(undefined), never the
    // response's policy: the policy is read back instead.
    await certificates.updateCertificatePolicy(name, {
      issuerName: 'Self',
      subject: `CN=renewed.${name}.example`,
      validityInMonths: 6,
      keyType: 'RSA',
      keySize: 3072,
    });
    expect(await certificates.getCertificatePolicy(name)).toMatchObject({
      subject: `CN=renewed.${name}.example`,
      validityInMonths: 6,
      keyType: 'RSA',
      keySize: 3072,
      issuerName: 'Self',
    });
    // The policy shapes the next version; the existing certificate is unchanged.
    expect(parsed(await certificates.getCertificate(name)).subject).toBe(`CN=${name}.example`);
  });
});

describe('deleting, recovering, purging, backing up and restoring', () => {
  it('deletes through the poller, recovers key and secret with it, then deletes and purges all three', async () => {
    const name = uniqueName('del');
    const created = await createSelfSigned(name, { keyType: 'EC', keyCurveName: 'P-256', subject: `CN=${name}.example` });
    const deleted = await (await certificates.beginDeleteCertificate(name, POLL)).pollUntilDone();
    expect(deleted.name).toBe(name);
    expect(deleted.deletedOn).toBeInstanceOf(Date);
    expect(deleted.scheduledPurgeDate).toBeInstanceOf(Date);
    expect(deleted.recoveryId).toContain(`/deletedcertificates/${name}`);
    await expectStatus(certificates.getCertificate(name), 404);
    await expectStatus(secrets.getSecret(name), 404);
    await expectStatus(keys.getKey(name), 404);

    const fetched = await certificates.getDeletedCertificate(name);
    expect(Buffer.from(fetched.cer!).equals(Buffer.from(created.cer!))).toBe(true);
    const deletedNames: string[] = [];
    for await (const item of certificates.listDeletedCertificates()) deletedNames.push(item.name);
    expect(deletedNames).toContain(name);
    expect((await secrets.getDeletedSecret(name)).name).toBe(name);

    const recovered = await (await certificates.beginRecoverDeletedCertificate(name, POLL)).pollUntilDone();
    expect(Buffer.from(recovered.cer!).equals(Buffer.from(created.cer!))).toBe(true);
    await secretHoldsKeyFor(name, created, 'application/x-pkcs12');
    expect((await keys.getKey(name)).id).toBe(created.keyId);
    await expectStatus(certificates.getDeletedCertificate(name), 404);

    await (await certificates.beginDeleteCertificate(name, POLL)).pollUntilDone();
    await certificates.purgeDeletedCertificate(name);
    await expectStatus(certificates.getDeletedCertificate(name), 404);
    await expectStatus(secrets.getDeletedSecret(name), 404);
    await expectStatus(keys.getDeletedKey(name), 404);
  });

  it('restores a backup after delete and purge: the same certificate, key and secret', async () => {
    const name = uniqueName('backup');
    const created = await createSelfSigned(name, {
      keyType: 'RSA',
      keySize: 2048,
      subject: `CN=${name}.example`,
      contentType: 'application/x-pem-file',
    });
    const originalKey = await keys.getKey(name);
    const backup = await certificates.backupCertificate(name);
    expect(backup).toBeInstanceOf(Uint8Array);
    expect(backup!.length).toBeGreaterThan(100);

    await (await certificates.beginDeleteCertificate(name, POLL)).pollUntilDone();
    await certificates.purgeDeletedCertificate(name);
    await expectNothingStored(name);

    const restored = await certificates.restoreCertificateBackup(backup!);
    expect(restored.name).toBe(name);
    expect(restored.properties.version).toBe(created.properties.version);
    expect(Buffer.from(restored.cer!).equals(Buffer.from(created.cer!))).toBe(true);
    expect(restored.policy).toMatchObject({ subject: `CN=${name}.example`, contentType: 'application/x-pem-file' });
    await secretHoldsKeyFor(name, created, 'application/x-pem-file');
    const restoredKey = await keys.getKey(name);
    expect(Buffer.from(restoredKey.key!.n!).equals(Buffer.from(originalKey.key!.n!))).toBe(true);
    await keySignsForCertificate(created.keyId!, parsed(created));
  });
});

describe('contacts and issuers', () => {
  it('sets, gets and deletes the vault’s certificate contacts', async () => {
    const contacts = [
      { email: 'pki@example.com', name: 'PKI Team', phone: '555-0100' },
      { email: 'oncall@example.com', name: 'On Call', phone: '555-0199' },
    ];
    expect(await certificates.setContacts(contacts)).toEqual(contacts);
    expect(await certificates.getContacts()).toEqual(contacts);
    // deleteContacts in 4.10.3 maps the raw response body, which has no `contactList`, so it always answers []: the
    // deletion is proven by the read after it.
    await certificates.deleteContacts();
    await expectStatus(certificates.getContacts(), 404);
  });

  it('creates, reads (without the password), updates, lists and deletes an issuer', async () => {
    const name = uniqueName('issuer1');
    const administratorContacts = [{ firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '555-0101' }];
    // The SDK reads an issuer's name from its id's second segment, "issuers" (/certificates/issuers/{name}): the id names it.
    const id = `${info.vaultUrl.replace(/\/$/, '')}/certificates/issuers/${name}`;
    const created = await certificates.createIssuer(name, 'Test', {
      accountId: 'account-1',
      password: 'hunter2',
      organizationId: 'org-1',
      administratorContacts,
    });
    expect(created).toMatchObject({ id, provider: 'Test', accountId: 'account-1', organizationId: 'org-1', administratorContacts, enabled: true });
    expect(created.password).toBeUndefined();

    const read = await certificates.getIssuer(name);
    expect(read).toMatchObject({ id, provider: 'Test', accountId: 'account-1', organizationId: 'org-1', administratorContacts });
    expect(read.password).toBeUndefined();
    expect(read.createdOn).toBeInstanceOf(Date);

    // updateIssuer in 4.10.3 sends attributes only when `enabled` is truthy, so an issuer cannot be disabled through it: the account is what changes.
    const updated = await certificates.updateIssuer(name, { accountId: 'account-2' });
    expect(updated).toMatchObject({ id, provider: 'Test', accountId: 'account-2', organizationId: 'org-1', administratorContacts });
    expect((await certificates.getIssuer(name)).accountId).toBe('account-2');

    const listed: { id?: string; provider?: string }[] = [];
    for await (const issuer of certificates.listPropertiesOfIssuers()) listed.push(issuer);
    expect(listed).toContainEqual(expect.objectContaining({ id, provider: 'Test' }));

    expect((await certificates.deleteIssuer(name)).id).toBe(id);
    await expectStatus(certificates.getIssuer(name), 404);
  });
});

describe('bad policies', () => {
  it.each([
    ['an unknown key type', { keyType: 'XYZ' }],
    ['a validity of 0 months', { keyType: 'RSA', validityInMonths: 0 }],
    ['an RSA key of 1000 bits', { keyType: 'RSA', keySize: 1000 }],
  ])('refuses %s with 400 BadParameter and creates nothing', async (_label, bad) => {
    const name = uniqueName('bad');
    const policy = { issuerName: 'Self', subject: `CN=${name}.example`, ...bad } as CertificatePolicy;
    await expectStatus(certificates.beginCreateCertificate(name, policy, POLL), 400, 'BadParameter');
    await expectStatus(certificates.getCertificate(name), 404);
    expect((await raw('GET', `/certificates/${name}/pending?${API}`)).status).toBe(404);
    await expectStatus(keys.getKey(name), 404);
  });
});
