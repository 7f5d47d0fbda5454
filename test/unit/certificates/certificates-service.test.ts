/**
 * The certificates domain's rules through CertificateService on the in-memory object and document
 * stores with real envelope encryption and software keys: the three linked objects, the policy, the
 * pending operation and merge, import, delete/recover/purge and backup/restore. The HSM port refuses
 * every call: nothing here may reach KMS.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { beforeEach, describe, expect, it } from 'vitest';
import { CertificateService } from '../../../lib/certificates/certificates.ts';
import { CertificateIssuance } from '../../../lib/certificates/issuance.ts';
import { MemoryCertificateDocuments } from '../../../lib/certificates/memory-documents.ts';
import { readPkcs12 } from '../../../lib/certificates/pkcs12.ts';
import type { HsmKeys } from '../../../lib/keys/hsm.ts';
import { KeyService } from '../../../lib/keys/keys.ts';
import { SecretService } from '../../../lib/secrets/secrets.ts';
import type { VaultAddress } from '../../../lib/vaults/vault.ts';
import { addressOf, domainParts, testClock, testVault, vaultErrorOf } from '../../support/domain.ts';

const refusingHsm = new Proxy({} as HsmKeys, {
  get: (_target, method) => async () => {
    throw new Error(`the HSM port was called (${String(method)}) for a software certificate`);
  },
});

let clock: ReturnType<typeof testClock>;
let parts: ReturnType<typeof domainParts>;
let certificates: CertificateService;
let issuance: CertificateIssuance;
let secrets: SecretService;
let keys: KeyService;
let at: VaultAddress;

beforeEach(() => {
  clock = testClock(Math.floor(Date.now() / 1000));
  parts = domainParts();
  const documents = new MemoryCertificateDocuments();
  const certificateParts = {
    objects: parts.store,
    sealer: parts.sealer,
    backups: parts.backups,
    documents,
    hsm: refusingHsm,
    warn: () => undefined,
    clock: clock.now,
  };
  certificates = new CertificateService(certificateParts);
  issuance = new CertificateIssuance(certificateParts);
  secrets = new SecretService(parts.store, parts.sealer, parts.backups, clock.now);
  keys = new KeyService(parts.store, parts.sealer, parts.backups, refusingHsm, () => undefined, {}, clock.now);
  at = addressOf(testVault());
});

const selfPolicy = {
  key_props: { kty: 'EC', crv: 'P-256' },
  x509_props: { subject: 'CN=unit.example, O=Contoso', sans: { dns_names: ['unit.example'] }, validity_months: 6 },
  issuer: { name: 'Self' },
};

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'coffer-cert-unit-'));
}

describe('a self-signed certificate', () => {
  it('is issued within its create, with a managed key and secret of its name and version', async () => {
    const operation = await issuance.create(at, 'web', { policy: selfPolicy, tags: { team: 'a' } });
    expect(operation.status).toBe('completed');
    const certificate = await certificates.get(at, 'web', undefined);
    expect(operation.targetVersion).toBe(certificate.version);
    const x509 = new X509Certificate(Buffer.from(certificate.cer!));
    expect(x509.subject).toBe('CN=unit.example\nO=Contoso');
    expect(x509.subjectAltName).toBe('DNS:unit.example');
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(certificate.tags).toEqual({ team: 'a' });
    expect(certificate.policy?.x509_props.validity_months).toBe(6);
    expect(certificate.attributes.exp).toBe(Math.floor(Date.parse(x509.validTo) / 1000));

    const secret = await secrets.get(at, 'web', certificate.version);
    expect(secret.managed).toBe(true);
    expect(secret.contentType).toBe('application/x-pkcs12');
    const pfx = Buffer.from(secret.value!, 'base64');
    expect(() => createSecureContext({ pfx })).not.toThrow();
    const contents = await readPkcs12(pfx);
    const privateKey = createPrivateKey({ key: Buffer.from(contents.privateKeyPkcs8!), format: 'der', type: 'pkcs8' });
    expect(x509.checkPrivateKey(privateKey)).toBe(true);

    const key = await keys.get(at, 'web', certificate.version);
    expect(key.managed).toBe(true);
    expect(createPublicKey({ key: key.publicKey as never, format: 'jwk' }).export({ format: 'der', type: 'spki' })).toEqual(
      x509.publicKey.export({ format: 'der', type: 'spki' }),
    );
    const lifetime = await certificates.lifetimeActionOf(at, 'web');
    expect(lifetime).toMatchObject({ version: certificate.version, actionType: 'AutoRenew' });
    const nbf = certificate.attributes.nbf!;
    expect(lifetime!.due).toBe(Math.floor(nbf + (certificate.attributes.exp! - nbf) * 0.8));
  });

  it('keeps its private key out of the secret when not exportable, and in PEM when asked', async () => {
    await issuance.create(at, 'pem', {
      policy: {
        ...selfPolicy,
        key_props: { kty: 'RSA', key_size: 2048, exportable: false },
        secret_props: { contentType: 'application/x-pem-file' },
      },
    });
    const secret = await secrets.get(at, 'pem', undefined);
    expect(secret.contentType).toBe('application/x-pem-file');
    expect(secret.value).toContain('-----BEGIN CERTIFICATE-----');
    expect(secret.value).not.toContain('PRIVATE KEY');
  });

  it('refuses bad policies with 400 and stores nothing', async () => {
    for (const policy of [
      { ...selfPolicy, key_props: { kty: 'XYZ' } },
      { ...selfPolicy, key_props: { kty: 'RSA', key_size: 1000 } },
      { ...selfPolicy, x509_props: { ...selfPolicy.x509_props, validity_months: 0 } },
      { ...selfPolicy, key_props: { kty: 'RSA-HSM' } },
      { ...selfPolicy, x509_props: { validity_months: 12 } },
      { ...selfPolicy, lifetime_actions: [{ trigger: { lifetime_percentage: 100 }, action: { action_type: 'AutoRenew' } }] },
    ]) {
      const error = await vaultErrorOf(issuance.create(at, 'bad', { policy }));
      expect(error.status).toBe(400);
      expect(error.code).toBe('BadParameter');
    }
    expect((await vaultErrorOf(certificates.get(at, 'bad', undefined))).status).toBe(404);
    expect((await vaultErrorOf(certificates.getPolicy(at, 'bad'))).status).toBe(404);
  });

  it('is disabled with its key and secret, and deleted, recovered and purged with them', async () => {
    await issuance.create(at, 'life', { policy: selfPolicy });
    await certificates.update(at, 'life', undefined, { attributes: { enabled: false }, tags: { state: 'off' } });
    expect((await certificates.get(at, 'life', undefined)).attributes.enabled).toBe(false);
    expect((await vaultErrorOf(secrets.get(at, 'life', undefined))).status).toBe(403);
    await certificates.update(at, 'life', undefined, { attributes: { enabled: true } });
    expect((await secrets.get(at, 'life', undefined)).value).toBeTruthy();

    const deleted = await certificates.delete(at, 'life');
    expect(deleted.scheduledPurgeDate).toBe(deleted.deletedDate + 7 * 86_400);
    expect((await vaultErrorOf(secrets.get(at, 'life', undefined))).status).toBe(404);
    expect((await vaultErrorOf(keys.get(at, 'life', undefined))).status).toBe(404);
    expect((await certificates.getDeleted(at, 'life')).x5t).toBe(deleted.x5t);
    await certificates.recover(at, 'life');
    expect((await secrets.get(at, 'life', undefined)).managed).toBe(true);

    await certificates.delete(at, 'life');
    await certificates.purge(at, 'life');
    expect((await vaultErrorOf(certificates.getDeleted(at, 'life'))).status).toBe(404);
    expect((await vaultErrorOf(secrets.getDeleted(at, 'life'))).status).toBe(404);
    expect((await vaultErrorOf(keys.getDeleted(at, 'life'))).status).toBe(404);
  });

  it('comes back from its backup with the same certificate, key and secret', async () => {
    await issuance.create(at, 'kept', { policy: selfPolicy });
    const before = await certificates.get(at, 'kept', undefined);
    const secretBefore = await secrets.get(at, 'kept', undefined);
    const blob = await certificates.backup(at, 'kept');
    await certificates.delete(at, 'kept');
    await certificates.purge(at, 'kept');
    const restored = await certificates.restore(at, blob);
    expect(Buffer.from(restored.cer!)).toEqual(Buffer.from(before.cer!));
    expect((await secrets.get(at, 'kept', undefined)).value).toBe(secretBefore.value);
    expect((await keys.get(at, 'kept', undefined)).version).toBe(before.version);
    expect((await vaultErrorOf(certificates.restore(at, blob))).status).toBe(409);
  });

  it('renews by a create without a policy: a new version, with the same key only when reuse_key says so', async () => {
    await issuance.create(at, 'renew', { policy: { ...selfPolicy, key_props: { kty: 'EC', crv: 'P-256', reuse_key: true } } });
    const first = await certificates.get(at, 'renew', undefined);
    await issuance.create(at, 'renew', {});
    const second = await certificates.get(at, 'renew', undefined);
    expect(second.version).not.toBe(first.version);
    expect((await certificates.listVersions(at, 'renew', 25)).items.map((v) => v.version).sort()).toEqual([first.version, second.version].sort());
    const spki = (record: typeof first) => new X509Certificate(Buffer.from(record.cer!)).publicKey.export({ format: 'der', type: 'spki' });
    expect(spki(second)).toEqual(spki(first));
    expect((await keys.get(at, 'renew', second.version)).version).toBe(second.version);

    await certificates.updatePolicy(at, 'renew', { key_props: { reuse_key: false } });
    await issuance.create(at, 'renew', {});
    expect(spki(await certificates.get(at, 'renew', undefined))).not.toEqual(spki(first));
  });

  it('refuses a name a key of its own holds', async () => {
    await keys.create(at, 'taken', { kty: 'EC' });
    const error = await vaultErrorOf(issuance.create(at, 'taken', { policy: selfPolicy }));
    expect(error.status).toBe(409);
    expect((await keys.get(at, 'taken', undefined)).managed).toBeUndefined();
  });
});

describe('a certificate of issuer Unknown', () => {
  function caSign(csr: Uint8Array): { leaf: Buffer; ca: Buffer } {
    const dir = tmp();
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'ca.key'),
        '-out',
        join(dir, 'ca.pem'),
        '-subj',
        '/CN=Unit CA',
        '-days',
        '30',
      ],
      { stdio: 'ignore' },
    );
    writeFileSync(join(dir, 'req.der'), csr);
    execFileSync(
      'openssl',
      [
        'x509',
        '-req',
        '-inform',
        'DER',
        '-in',
        join(dir, 'req.der'),
        '-CA',
        join(dir, 'ca.pem'),
        '-CAkey',
        join(dir, 'ca.key'),
        '-CAcreateserial',
        '-days',
        '20',
        '-outform',
        'DER',
        '-out',
        join(dir, 'leaf.der'),
      ],
      { stdio: 'ignore' },
    );
    const ca = new X509Certificate(readFileSync(join(dir, 'ca.pem'))).raw;
    return { leaf: readFileSync(join(dir, 'leaf.der')), ca };
  }

  const unknownPolicy = { ...selfPolicy, issuer: { name: 'Unknown' } };

  it('waits with a CSR of its key, and completes when the chain is merged', async () => {
    const operation = await issuance.create(at, 'csr', { policy: unknownPolicy, tags: { from: 'create' } });
    expect(operation.status).toBe('inProgress');
    // Azure answers a pending certificate: disabled, without its cer, with its policy.
    const pendingCertificate = await certificates.get(at, 'csr', undefined);
    expect(pendingCertificate).toMatchObject({ name: 'csr', attributes: { enabled: false }, tags: { from: 'create' } });
    expect(pendingCertificate.cer).toBeUndefined();
    expect(pendingCertificate.policy?.issuer.name).toBe('Unknown');
    // The next page's cursor keeps the pending mode although the next request does not repeat it.
    const listed = await certificates.list(at, 25, undefined, true);
    const all = listed.cursor ? [...listed.items, ...(await certificates.list(at, 25, listed.cursor, false)).items] : listed.items;
    expect(all.map((item) => item.name)).toContain('csr');
    expect((await certificates.list(at, 25, undefined, false)).items).toEqual([]);

    const { leaf, ca } = caSign(operation.csr!);
    const merged = await issuance.merge(at, 'csr', { x5c: [ca.toString('base64'), leaf.toString('base64')] });
    expect(Buffer.from(merged.cer!)).toEqual(leaf);
    expect(merged.tags).toEqual({ from: 'create' });
    const done = await certificates.getOperation(at, 'csr');
    expect(done).toMatchObject({ status: 'completed', targetVersion: merged.version });
    const pfx = await readPkcs12(Buffer.from((await secrets.get(at, 'csr', undefined)).value!, 'base64'));
    expect(pfx.chain.map((c) => Buffer.from(c))).toEqual([leaf, ca]);
  });

  it('refuses a merge of a certificate for another key, storing nothing', async () => {
    await issuance.create(at, 'wrong', { policy: unknownPolicy });
    const other = await issuance.create(at, 'other', { policy: unknownPolicy });
    const { leaf } = caSign(other.csr!);
    const error = await vaultErrorOf(issuance.merge(at, 'wrong', { x5c: [leaf.toString('base64')] }));
    expect(error.status).toBe(400);
    expect((await certificates.getOperation(at, 'wrong')).status).toBe('inProgress');
    expect((await certificates.get(at, 'wrong', undefined)).cer).toBeUndefined();
    expect((await vaultErrorOf(secrets.get(at, 'wrong', undefined))).status).toBe(404);
  });

  it('is cancelled and deleted', async () => {
    await issuance.create(at, 'gone', { policy: unknownPolicy });
    expect((await certificates.updateOperation(at, 'gone', { cancellation_requested: true })).status).toBe('cancelled');
    expect((await vaultErrorOf(issuance.merge(at, 'gone', { x5c: ['AA=='] }))).status).toBe(404);
    await certificates.deleteOperation(at, 'gone');
    expect((await vaultErrorOf(certificates.getOperation(at, 'gone'))).status).toBe(404);
  });
});

describe('import', () => {
  function pfxWith(password: string): { pfx: Buffer; cert: X509Certificate } {
    const dir = tmp();
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'k.pem'),
        '-out',
        join(dir, 'c.pem'),
        '-subj',
        '/CN=imported.example',
        '-days',
        '90',
      ],
      { stdio: 'ignore' },
    );
    execFileSync(
      'openssl',
      ['pkcs12', '-export', '-inkey', join(dir, 'k.pem'), '-in', join(dir, 'c.pem'), '-out', join(dir, 'c.pfx'), '-passout', `pass:${password}`],
      { stdio: 'ignore' },
    );
    return { pfx: readFileSync(join(dir, 'c.pfx')), cert: new X509Certificate(readFileSync(join(dir, 'c.pem'))) };
  }

  it('imports a PFX with its password and derives the policy from the certificate', async () => {
    const { pfx, cert } = pfxWith('pw');
    const imported = await issuance.import(at, 'imp', { value: pfx.toString('base64'), pwd: 'pw' });
    expect(Buffer.from(imported.cer!)).toEqual(cert.raw);
    expect(imported.policy?.x509_props.subject).toBe('CN=imported.example');
    expect(imported.policy?.key_props).toMatchObject({ kty: 'RSA', key_size: 2048 });
    expect(imported.policy?.issuer.name).toBe('Unknown');
  });

  it('refuses a wrong password, a truncated file and a key that does not match, storing nothing', async () => {
    const { pfx, cert } = pfxWith('pw');
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' });
    const mismatched = `${otherKey}${cert.toString()}`;
    for (const [value, pwd] of [
      [pfx.toString('base64'), 'wrong'],
      [pfx.subarray(0, 100).toString('base64'), 'pw'],
      [mismatched, undefined],
    ] as const) {
      const error = await vaultErrorOf(issuance.import(at, 'imp2', { value, pwd }));
      expect(error.status).toBe(400);
    }
    expect((await vaultErrorOf(certificates.get(at, 'imp2', undefined))).status).toBe(404);
    expect((await vaultErrorOf(secrets.get(at, 'imp2', undefined))).status).toBe(404);
  });
});

describe('contacts and issuers', () => {
  it('keeps contacts and an issuer without answering its password', async () => {
    await certificates.setContacts(at, { contacts: [{ email: 'a@contoso.example', name: 'A' }] });
    expect((await certificates.getContacts(at)).contacts).toEqual([{ email: 'a@contoso.example', name: 'A' }]);
    await certificates.deleteContacts(at);
    expect((await vaultErrorOf(certificates.getContacts(at))).status).toBe(404);

    const issuer = await certificates.setIssuer(at, 'ca1', { provider: 'DigiCert', credentials: { account_id: 'acct', pwd: 'hunter2' } });
    expect(issuer.credentials).toEqual({ account_id: 'acct' });
    expect(JSON.stringify(await certificates.getIssuer(at, 'ca1'))).not.toContain('hunter2');
    expect((await certificates.updateIssuer(at, 'ca1', { attributes: { enabled: false } })).attributes.enabled).toBe(false);
    expect((await certificates.listIssuers(at, 25)).items.map((i) => i.name)).toEqual(['ca1']);
    const refused = await vaultErrorOf(issuance.create(at, 'viaca', { policy: { ...selfPolicy, issuer: { name: 'ca1' } } }));
    expect(refused.status).toBe(400);
    expect(refused.message).toContain('DigiCert');
    await certificates.deleteIssuer(at, 'ca1');
    expect((await vaultErrorOf(certificates.getIssuer(at, 'ca1'))).status).toBe(404);
  });
});
