import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { routes } from '../../lib/http/routes.ts';
import { adminToken, uniqueName } from '../support/local.ts';
import { createLocalVault } from '../support/vaults.ts';
import { type Answer, type Caller, CallRecording, coverageChecks } from './iam-recording.ts';

/**
 * The certificate operations' grants (infra/permissions.ts), checked as iam-coverage.test.ts checks
 * the secrets' and keys': each operation runs through its production handler against the local
 * stack, on a premium vault with strict audit, and every DynamoDB and KMS call it makes must be
 * granted to its role, and every grant used by some call. The certificates come from the service
 * (self-signed, software RSA and EC-HSM), from openssl (a PFX to import, and a CA that signs the CSR
 * of an issuer-Unknown certificate, which is then merged), as a client would bring them.
 */
const recording = new CallRecording();
let vaultHost: string;
const admin: Caller = { token: () => adminToken(), host: () => vaultHost };
let workDir: string;

beforeAll(async () => {
  vaultHost = (await createLocalVault('iamcerts', { sku: 'premium', strictAudit: true })).host;
  workDir = mkdtempSync(join(tmpdir(), 'coffer-iam-certs-'));
  recording.start();
});

afterAll(() => {
  recording.stop();
  rmSync(workDir, { recursive: true, force: true });
});

const call = (method: string, path: string, body?: unknown): Promise<Answer> => recording.call(method, path, body, admin);

const V = 'api-version=7.6';

const file = (name: string) => join(workDir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });

/** A PFX as `openssl req -x509 ... && openssl pkcs12 -export -passout pass:` makes it: the empty password. */
function pfx(prefix: string, subject: string): string {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file(`${prefix}.key`),
    '-out',
    file(`${prefix}.pem`),
    '-subj',
    subject,
    '-days',
    '30',
  );
  openssl('pkcs12', '-export', '-inkey', file(`${prefix}.key`), '-in', file(`${prefix}.pem`), '-passout', 'pass:', '-out', file(`${prefix}.pfx`));
  return readFileSync(file(`${prefix}.pfx`)).toString('base64');
}

/** A test CA: its certificate (base64 DER) and a signer of PKCS#10 requests (base64 DER in, base64 DER leaf out). */
function testCa(): { certificate: string; sign: (csr: string) => string } {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-subj',
    '/CN=Coffer IAM Test CA',
    '-days',
    '30',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  const certificate = openssl('x509', '-in', file('ca.pem'), '-outform', 'DER').toString('base64');
  const sign = (csr: string) => {
    const lines = csr.match(/.{1,64}/g) ?? [];
    writeFileSync(file('leaf.csr'), `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`);
    openssl(
      'x509',
      '-req',
      '-in',
      file('leaf.csr'),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '30',
      '-copy_extensions',
      'copy',
      '-out',
      file('leaf.pem'),
    );
    return openssl('x509', '-in', file('leaf.pem'), '-outform', 'DER').toString('base64');
  };
  return { certificate, sign };
}

const policy = (keyProps: Record<string, unknown>, subject: string, issuer: string) => ({
  key_props: keyProps,
  secret_props: { contentType: 'application/x-pkcs12' },
  x509_props: { subject, validity_months: 12 },
  issuer: { name: issuer },
});
const RSA = { kty: 'RSA', key_size: 2048, exportable: true, reuse_key: false };
const EC_HSM = { kty: 'EC-HSM', crv: 'P-256', exportable: false, reuse_key: false };

/** The operations the scenario below drives. */
const SCENARIO = [
  'SetCertificateContacts',
  'GetCertificateContacts',
  'DeleteCertificateContacts',
  'SetCertificateIssuer',
  'GetCertificateIssuer',
  'UpdateCertificateIssuer',
  'GetCertificateIssuers',
  'DeleteCertificateIssuer',
  'CreateCertificate',
  'GetCertificateOperation',
  'GetCertificate',
  'GetCertificates',
  'GetCertificateVersions',
  'UpdateCertificate',
  'GetCertificatePolicy',
  'UpdateCertificatePolicy',
  'ImportCertificate',
  'BackupCertificate',
  'DeleteCertificate',
  'GetDeletedCertificates',
  'GetDeletedCertificate',
  'RecoverDeletedCertificate',
  'PurgeDeletedCertificate',
  'RestoreCertificate',
  'MergeCertificate',
  'UpdateCertificateOperation',
  'DeleteCertificateOperation',
];
const certificateRoutes = routes.filter((r) => r.handler.startsWith('certificates/'));
const covered = certificateRoutes.filter((r) => SCENARIO.includes(r.operation));
const uncovered = certificateRoutes.filter((r) => !SCENARIO.includes(r.operation));

/**
 * Grants of a covered operation that no step uses, because the path that needs them cannot be driven
 * from here; infra/permissions.ts says at each why it is granted all the same.
 */
const UNREACHED: Record<string, string[]> = {
  // Undoing the objects a restore wrote when the name was taken between its check and its head write.
  RestoreCertificate: ['objects:BatchWriteItem', 'hsmKeys:ScheduleKeyDeletion'],
  // Undoing a KMS change when the store write after it fails (lib/keys/hsm-changes.ts).
  CreateCertificate: ['hsmKeys:ScheduleKeyDeletion'],
  ImportCertificate: ['hsmKeys:ScheduleKeyDeletion'],
  DeleteCertificate: ['hsmKeys:EnableKey'],
  RecoverDeletedCertificate: ['hsmKeys:DisableKey'],
  PurgeDeletedCertificate: ['hsmKeys:CancelKeyDeletion'],
};

describe('every AWS call a certificate operation makes is granted to its function', () => {
  beforeAll(async () => {
    const expectStatus = async (status: number, response: Promise<{ status: number; json: any }>) => {
      const { status: actual, json } = await response;
      expect(actual, JSON.stringify(json)).toBe(status);
      return json;
    };
    const next = (page: { nextLink: string }) => new URL(page.nextLink).pathname + new URL(page.nextLink).search;
    const versionOf = (bundle: { id: string }) => String(bundle.id).split('/').pop();
    /** A create answers 202 with its operation; a self-signed one completes without a CA. */
    const completed = async (name: string) => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const operation = await expectStatus(200, call('GET', `/certificates/${name}/pending?${V}`));
        if (operation.status !== 'inProgress') return operation;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error(`${name}: the operation did not complete`);
    };

    // The vault's contacts and issuers.
    const contacts = { contacts: [{ email: 'pki@example.com', name: 'PKI', phone: '555-0100' }] };
    await expectStatus(200, call('PUT', `/certificates/contacts?${V}`, contacts));
    expect((await expectStatus(200, call('GET', `/certificates/contacts?${V}`))).contacts).toEqual(contacts.contacts);
    await expectStatus(200, call('DELETE', `/certificates/contacts?${V}`));
    const issuer = uniqueName('iam-ca');
    const other = uniqueName('iam-ca');
    await expectStatus(
      200,
      call('PUT', `/certificates/issuers/${issuer}?${V}`, { provider: 'Test', credentials: { account_id: 'acct', pwd: 'first' } }),
    );
    await expectStatus(200, call('PUT', `/certificates/issuers/${other}?${V}`, { provider: 'Test' }));
    await expectStatus(200, call('GET', `/certificates/issuers/${issuer}?${V}`));
    // A new password is sealed again.
    await expectStatus(200, call('PATCH', `/certificates/issuers/${issuer}?${V}`, { credentials: { pwd: 'second' } }));
    const issuerPage = await expectStatus(200, call('GET', `/certificates/issuers?${V}&maxresults=1`));
    await expectStatus(200, call('GET', next(issuerPage)));
    await expectStatus(200, call('DELETE', `/certificates/issuers/${issuer}?${V}`));
    await expectStatus(200, call('DELETE', `/certificates/issuers/${other}?${V}`));

    // A self-signed software certificate: created, read, listed, updated, its policy read and changed.
    const rsa = uniqueName('iam-cert-rsa');
    await expectStatus(202, call('POST', `/certificates/${rsa}/create?${V}`, { policy: policy(RSA, 'CN=iam-rsa', 'Self') }));
    await completed(rsa);
    const first = versionOf(await expectStatus(200, call('GET', `/certificates/${rsa}/?${V}`)));
    await expectStatus(202, call('POST', `/certificates/${rsa}/create?${V}`, { policy: policy(RSA, 'CN=iam-rsa', 'Self') }));
    await completed(rsa);
    await expectStatus(200, call('GET', `/certificates/${rsa}/${first}?${V}`));
    const imported = uniqueName('iam-cert-pfx');
    await expectStatus(200, call('POST', `/certificates/${imported}/import?${V}`, { value: pfx('import', '/CN=iam-import') }));
    // An imported certificate whose key goes to KMS (EXTERNAL origin).
    const hsmImported = uniqueName('iam-cert-pfx-hsm');
    await expectStatus(
      200,
      call('POST', `/certificates/${hsmImported}/import?${V}`, {
        value: pfx('import-hsm', '/CN=iam-import-hsm'),
        policy: { key_props: { kty: 'RSA-HSM', key_size: 2048, exportable: false, reuse_key: false } },
      }),
    );
    const page = await expectStatus(200, call('GET', `/certificates?${V}&maxresults=1`));
    await expectStatus(200, call('GET', next(page)));
    await expectStatus(200, call('GET', `/certificates?${V}&maxresults=1&includePending=true`));
    await expectStatus(200, call('GET', `/certificates/${rsa}/versions?${V}&maxresults=1`));
    await expectStatus(200, call('PATCH', `/certificates/${rsa}/?${V}`, { tags: { use: 'iam' } }));
    await expectStatus(200, call('PATCH', `/certificates/${rsa}/${first}?${V}`, { attributes: { enabled: false } }));
    await expectStatus(200, call('GET', `/certificates/${rsa}/policy?${V}`));
    await expectStatus(200, call('PATCH', `/certificates/${rsa}/policy?${V}`, { x509_props: { subject: 'CN=iam-rsa-renewed', validity_months: 6 } }));

    // Its life cycle: the three objects deleted, recovered, purged and restored together.
    const backup = await expectStatus(200, call('POST', `/certificates/${rsa}/backup?${V}`));
    await expectStatus(200, call('DELETE', `/certificates/${rsa}?${V}`));
    await expectStatus(200, call('GET', `/deletedcertificates?${V}&maxresults=1`));
    await expectStatus(200, call('GET', `/deletedcertificates?${V}&includePending=false`));
    await expectStatus(200, call('GET', `/deletedcertificates/${rsa}?${V}`));
    await expectStatus(200, call('POST', `/deletedcertificates/${rsa}/recover?${V}`));
    await expectStatus(200, call('DELETE', `/certificates/${rsa}?${V}`));
    await expectStatus(204, call('DELETE', `/deletedcertificates/${rsa}?${V}`));
    await expectStatus(200, call('POST', `/certificates/restore?${V}`, { value: backup.value }));
    await expectStatus(409, call('POST', `/certificates/restore?${V}`, { value: backup.value }));

    // A self-signed EC-HSM certificate: its key made in KMS, which signs it; deleting disables the
    // key, recovering enables it, purging schedules its deletion, and restoring cancels that.
    const hsm = uniqueName('iam-cert-hsm');
    await expectStatus(202, call('POST', `/certificates/${hsm}/create?${V}`, { policy: policy(EC_HSM, 'CN=iam-hsm', 'Self') }));
    await completed(hsm);
    await expectStatus(200, call('GET', `/certificates/${hsm}/?${V}`));
    const hsmBackup = await expectStatus(200, call('POST', `/certificates/${hsm}/backup?${V}`));
    await expectStatus(200, call('DELETE', `/certificates/${hsm}?${V}`));
    await expectStatus(200, call('GET', `/deletedcertificates/${hsm}?${V}`));
    await expectStatus(200, call('POST', `/deletedcertificates/${hsm}/recover?${V}`));
    await expectStatus(200, call('DELETE', `/certificates/${hsm}?${V}`));
    await expectStatus(204, call('DELETE', `/deletedcertificates/${hsm}?${V}`));
    await expectStatus(200, call('POST', `/certificates/restore?${V}`, { value: hsmBackup.value }));

    // Issuer Unknown: the CSR goes to a CA (openssl here), and the chain it signs is merged.
    const ca = testCa();
    const external = uniqueName('iam-cert-ext');
    const pending = await expectStatus(
      202,
      call('POST', `/certificates/${external}/create?${V}`, { policy: policy(RSA, 'CN=iam-external', 'Unknown') }),
    );
    expect(pending.status).toBe('inProgress');
    expect(pending.csr).toEqual(expect.any(String));
    const merged = await expectStatus(
      201,
      call('POST', `/certificates/${external}/pending/merge?${V}`, { x5c: [ca.sign(pending.csr), ca.certificate] }),
    );
    expect(merged.cer).toEqual(expect.any(String));
    expect((await expectStatus(200, call('GET', `/certificates/${external}/pending?${V}`))).status).toBe('completed');
    // And an HSM one: the CSR is signed in KMS.
    const externalHsm = uniqueName('iam-cert-ext-hsm');
    const hsmPending = await expectStatus(
      202,
      call('POST', `/certificates/${externalHsm}/create?${V}`, { policy: policy(EC_HSM, 'CN=iam-external-hsm', 'Unknown') }),
    );
    await expectStatus(201, call('POST', `/certificates/${externalHsm}/pending/merge?${V}`, { x5c: [ca.sign(hsmPending.csr), ca.certificate] }));

    // A pending creation cancelled, then its operation removed.
    const cancelled = uniqueName('iam-cert-cancel');
    await expectStatus(202, call('POST', `/certificates/${cancelled}/create?${V}`, { policy: policy(EC_HSM, 'CN=iam-cancel', 'Unknown') }));
    const cancellation = await expectStatus(200, call('PATCH', `/certificates/${cancelled}/pending?${V}`, { cancellation_requested: true }));
    expect(cancellation.cancellation_requested).toBe(true);
    await expectStatus(200, call('DELETE', `/certificates/${cancelled}/pending?${V}`));
    await expectStatus(404, call('GET', `/certificates/${cancelled}/pending?${V}`));
    // Removing one still in progress discards its key as well.
    const abandoned = uniqueName('iam-cert-abandon');
    await expectStatus(202, call('POST', `/certificates/${abandoned}/create?${V}`, { policy: policy(EC_HSM, 'CN=iam-abandon', 'Unknown') }));
    expect((await expectStatus(200, call('DELETE', `/certificates/${abandoned}/pending?${V}`))).status).toBe('inProgress');

    // IAM grants calls on HSM keys by the tags of the KMS key they name: read those tags.
    await recording.readKeyTags();
  }, 240_000);

  coverageChecks({ recording, scenario: SCENARIO, covered, uncovered, unreached: UNREACHED });
});
