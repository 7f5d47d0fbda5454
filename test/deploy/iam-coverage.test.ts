import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { routes } from '../../lib/http/routes.ts';
import { adminToken, uniqueName } from '../support/local.ts';
import { createLocalVault } from '../support/vaults.ts';
import { type Answer, type Caller, CallRecording, coverageChecks } from './iam-recording.ts';

/**
 * The local stack has no IAM, so a grant missing from infra/permissions.ts would pass every other
 * test and fail in AWS with AccessDenied. This drives the data-plane operations through their
 * production handlers and checks every DynamoDB and KMS call each makes is covered by what the
 * operation's role is granted (resource, action and KMS encryption context), and that nothing is
 * granted that none of them calls (iam-recording.ts; the management plane's operations are
 * iam-coverage-management.test.ts).
 *
 * The requests address a vault with strict audit, so the pipeline's own write, the audit record to
 * the audit table, is among the calls (another vault's record goes to the function's log stream,
 * which needs no grant beyond its own log group; the delivery function's calls are checked in
 * iam-coverage-events.test.ts).
 */
const recording = new CallRecording();
/** The vault the scenario runs in: one with strict audit. */
let vaultHost: string;
const admin: Caller = { token: () => adminToken(), host: () => vaultHost };

beforeAll(async () => {
  vaultHost = (await createLocalVault('iamstrict', { strictAudit: true })).host;
  recording.start();
});

afterAll(() => recording.stop());

const call = (method: string, path: string, body?: unknown): Promise<Answer> => recording.call(method, path, body, admin);

const V = 'api-version=7.6';
/** A SHA-256 digest, what sign and verify take. */
const DIGEST = createHash('sha256').update('iam-coverage').digest().toString('base64url');

/** The operations the scenario below drives; the others are listed as todo until it has steps for them. */
const SCENARIO = [
  'SetSecret',
  'GetSecret',
  'GetSecrets',
  'GetSecretVersions',
  'UpdateSecret',
  'BackupSecret',
  'DeleteSecret',
  'GetDeletedSecrets',
  'GetDeletedSecret',
  'RecoverDeletedSecret',
  'PurgeDeletedSecret',
  'RestoreSecret',
  'CreateKey',
  'ImportKey',
  'GetKeys',
  'GetKeyVersions',
  'GetKey',
  'UpdateKey',
  'DeleteKey',
  'BackupKey',
  'RestoreKey',
  'Encrypt',
  'Decrypt',
  'WrapKey',
  'UnwrapKey',
  'Sign',
  'Verify',
  'RotateKey',
  'GetKeyRotationPolicy',
  'UpdateKeyRotationPolicy',
  'GetDeletedKeys',
  'GetDeletedKey',
  'PurgeDeletedKey',
  'RecoverDeletedKey',
  'GetRandomBytes',
  'ReleaseKey',
  'GetKeyAttestation',
];
const covered = routes.filter((r) => SCENARIO.includes(r.operation));
// The management plane and the certificates family have coverage tests of their own (iam-coverage-*.test.ts).
const uncovered = routes.filter((r) => r.plane !== 'management' && !r.handler.startsWith('certificates/') && !SCENARIO.includes(r.operation));

/**
 * Grants of a covered operation that no step uses, because the path that needs them cannot be driven
 * from here; infra/permissions.ts says at each why it is granted all the same. Any other grant no call
 * uses is one too many.
 */
const UNREACHED: Record<string, string[]> = {
  // Undoing the versions a restore wrote when the name was taken between its check and its head write.
  RestoreSecret: ['objects:BatchWriteItem'],
  RestoreKey: ['objects:BatchWriteItem', 'hsmKeys:ScheduleKeyDeletion'],
  // Undoing a KMS change when the store write after it fails (lib/keys/hsm-changes.ts, changeHsmThenStore).
  CreateKey: ['hsmKeys:ScheduleKeyDeletion'],
  ImportKey: ['hsmKeys:ScheduleKeyDeletion'],
  RotateKey: ['hsmKeys:ScheduleKeyDeletion'],
  DeleteKey: ['hsmKeys:EnableKey'],
  RecoverDeletedKey: ['hsmKeys:DisableKey'],
  PurgeDeletedKey: ['hsmKeys:CancelKeyDeletion'],
};

describe('every AWS call an operation makes is granted to its function', () => {
  beforeAll(async () => {
    const name = uniqueName('iam');
    const other = uniqueName('iam');
    const expectStatus = async (status: number, response: Promise<{ status: number; json: any }>) => {
      const { status: actual, json } = await response;
      expect(actual, JSON.stringify(json)).toBe(status);
      return json;
    };
    const next = (page: { nextLink: string }) => new URL(page.nextLink).pathname + new URL(page.nextLink).search;
    const first = await expectStatus(200, call('PUT', `/secrets/${name}?${V}`, { value: 'one' }));
    await expectStatus(200, call('PUT', `/secrets/${name}?${V}`, { value: 'two' }));
    await expectStatus(200, call('PUT', `/secrets/${other}?${V}`, { value: 'three' }));
    const firstVersion = String(first.id).split('/').pop();
    await expectStatus(200, call('GET', `/secrets/${name}/?${V}`));
    await expectStatus(200, call('GET', `/secrets/${name}/${firstVersion}?${V}`));
    // maxresults=1 makes a next page, so the paging key signs a $skiptoken...
    const page = await expectStatus(200, call('GET', `/secrets?${V}&maxresults=1`));
    // ...and following it opens one.
    await expectStatus(200, call('GET', next(page)));
    await expectStatus(200, call('GET', `/secrets/${name}/versions?${V}&maxresults=1`));
    // The latest version (the head changes with it) and an older one (the head is only checked).
    await expectStatus(200, call('PATCH', `/secrets/${name}/?${V}`, { contentType: 'text/plain' }));
    await expectStatus(200, call('PATCH', `/secrets/${name}/${firstVersion}?${V}`, { tags: { old: 'yes' } }));
    const backup = await expectStatus(200, call('POST', `/secrets/${name}/backup?${V}`));
    await expectStatus(200, call('DELETE', `/secrets/${name}?${V}`));
    await expectStatus(200, call('GET', `/deletedsecrets?${V}&maxresults=1`));
    await expectStatus(200, call('GET', `/deletedsecrets/${name}?${V}`));
    await expectStatus(200, call('POST', `/deletedsecrets/${name}/recover?${V}`));
    await expectStatus(200, call('DELETE', `/secrets/${name}?${V}`));
    await expectStatus(204, call('DELETE', `/deletedsecrets/${name}?${V}`));
    await expectStatus(200, call('POST', `/secrets/restore?${V}`, { value: backup.value }));
    await expectStatus(409, call('POST', `/secrets/restore?${V}`, { value: backup.value }));

    // Keys. Each private operation once on a software key (the sealed private key is opened) and once
    // on an HSM key (KMS does it); the public ones run in the function either way.
    const versionOf = (bundle: { key: { kid: string } }) => String(bundle.key.kid).split('/').pop();
    const ecJwk = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const plaintext = Buffer.alloc(32, 7).toString('base64url');
    // Each operation on the latest version (one GetItem of the head) and on the version named by the
    // answer's kid (one BatchGetItem of head and version).
    const roundTrip = async (key: string, alg: string, [there, back]: [string, string]) => {
      const sealed = await expectStatus(200, call('POST', `/keys/${key}//${there}?${V}`, { alg, value: plaintext }));
      const opened = await expectStatus(200, call('POST', `/keys/${key}//${back}?${V}`, { alg, value: sealed.value }));
      expect(opened.value).toBe(plaintext);
      const version = String(sealed.kid).split('/').pop();
      const again = await expectStatus(200, call('POST', `/keys/${key}/${version}/${there}?${V}`, { alg, value: plaintext }));
      const reopened = await expectStatus(200, call('POST', `/keys/${key}/${version}/${back}?${V}`, { alg, value: again.value }));
      expect(reopened.value).toBe(plaintext);
    };
    const signs = async (key: string, alg: string) => {
      const signature = await expectStatus(200, call('POST', `/keys/${key}//sign?${V}`, { alg, value: DIGEST }));
      const verified = await expectStatus(200, call('POST', `/keys/${key}//verify?${V}`, { alg, digest: DIGEST, value: signature.value }));
      expect(verified.value).toBe(true);
      const version = String(signature.kid).split('/').pop();
      const named = await expectStatus(200, call('POST', `/keys/${key}/${version}/sign?${V}`, { alg, value: DIGEST }));
      const namedVerified = await expectStatus(200, call('POST', `/keys/${key}/${version}/verify?${V}`, { alg, digest: DIGEST, value: named.value }));
      expect(namedVerified.value).toBe(true);
    };

    // Software keys: generated, imported, rotated under a policy, listed, updated, used.
    const rsa = uniqueName('iam-rsa');
    const ec = uniqueName('iam-ec');
    const byok = uniqueName('iam-byok');
    const rsaFirst = versionOf(await expectStatus(200, call('POST', `/keys/${rsa}/create?${V}`, { kty: 'RSA', key_size: 2048 })));
    await expectStatus(200, call('POST', `/keys/${ec}/create?${V}`, { kty: 'EC', crv: 'P-256' }));
    await expectStatus(200, call('PUT', `/keys/${byok}?${V}`, { key: ecJwk() }));
    // The default policy (none stored), then one with an expiry, which rotation reads for the new exp.
    await expectStatus(200, call('GET', `/keys/${rsa}/rotationpolicy?${V}`));
    const policy = { lifetimeActions: [{ trigger: { timeAfterCreate: 'P90D' }, action: { type: 'Rotate' } }], attributes: { expiryTime: 'P1Y' } };
    await expectStatus(200, call('PUT', `/keys/${rsa}/rotationpolicy?${V}`, policy));
    await expectStatus(200, call('GET', `/keys/${rsa}/rotationpolicy?${V}`));
    await expectStatus(200, call('POST', `/keys/${rsa}/rotate?${V}`));
    await expectStatus(200, call('GET', `/keys/${rsa}/?${V}`));
    await expectStatus(200, call('GET', `/keys/${rsa}/${rsaFirst}?${V}`));
    const keyPage = await expectStatus(200, call('GET', `/keys?${V}&maxresults=1`));
    await expectStatus(200, call('GET', next(keyPage)));
    await expectStatus(200, call('GET', `/keys/${rsa}/versions?${V}&maxresults=1`));
    await expectStatus(200, call('PATCH', `/keys/${rsa}/?${V}`, { tags: { use: 'iam' } }));
    await expectStatus(200, call('PATCH', `/keys/${rsa}/${rsaFirst}?${V}`, { attributes: { enabled: false } }));
    await roundTrip(rsa, 'RSA-OAEP', ['encrypt', 'decrypt']);
    await roundTrip(rsa, 'RSA-OAEP-256', ['wrapkey', 'unwrapkey']);
    await signs(rsa, 'PS256');
    await signs(ec, 'ES256');
    await signs(byok, 'ES256');

    // A software key's life cycle, as for secrets.
    const ecBackup = await expectStatus(200, call('POST', `/keys/${ec}/backup?${V}`));
    await expectStatus(200, call('DELETE', `/keys/${ec}?${V}`));
    await expectStatus(200, call('GET', `/deletedkeys?${V}&maxresults=1`));
    await expectStatus(200, call('GET', `/deletedkeys/${ec}?${V}`));
    await expectStatus(200, call('POST', `/deletedkeys/${ec}/recover?${V}`));
    await expectStatus(200, call('DELETE', `/keys/${ec}?${V}`));
    await expectStatus(204, call('DELETE', `/deletedkeys/${ec}?${V}`));
    await expectStatus(200, call('POST', `/keys/restore?${V}`, { value: ecBackup.value }));
    await expectStatus(409, call('POST', `/keys/restore?${V}`, { value: ecBackup.value }));

    // HSM keys: one KMS key per version, created in KMS (RSA for each use KMS allows, EC) or imported.
    const hsmSigning = uniqueName('iam-hsm-rsa-sig');
    const hsmEncryption = uniqueName('iam-hsm-rsa-enc');
    const hsmEc = uniqueName('iam-hsm-ec');
    const hsmImported = uniqueName('iam-hsm-byok');
    await expectStatus(200, call('POST', `/keys/${hsmSigning}/create?${V}`, { kty: 'RSA-HSM', key_ops: ['sign', 'verify'] }));
    const encryptionOps = ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'];
    await expectStatus(200, call('POST', `/keys/${hsmEncryption}/create?${V}`, { kty: 'RSA-HSM', key_ops: encryptionOps }));
    await expectStatus(200, call('POST', `/keys/${hsmEc}/create?${V}`, { kty: 'EC-HSM', crv: 'P-256' }));
    const imported = await expectStatus(200, call('PUT', `/keys/${hsmImported}?${V}`, { key: ecJwk(), Hsm: true }));
    expect(imported.key.kty).toBe('EC-HSM');
    await expectStatus(200, call('POST', `/keys/${hsmEc}/rotate?${V}`));
    await expectStatus(200, call('PATCH', `/keys/${hsmEncryption}/?${V}`, { key_ops: ['wrapKey', 'unwrapKey', 'encrypt', 'decrypt'] }));
    await signs(hsmSigning, 'RS256');
    await roundTrip(hsmEncryption, 'RSA-OAEP-256', ['encrypt', 'decrypt']);
    await roundTrip(hsmEncryption, 'RSA-OAEP', ['wrapkey', 'unwrapkey']);
    await signs(hsmEc, 'ES256');
    await signs(hsmImported, 'ES256');

    // Delete disables the KMS keys of both versions, recover enables them, purge schedules their deletion.
    await expectStatus(200, call('DELETE', `/keys/${hsmEc}?${V}`));
    await expectStatus(200, call('GET', `/deletedkeys/${hsmEc}?${V}`));
    await expectStatus(200, call('POST', `/deletedkeys/${hsmEc}/recover?${V}`));
    await signs(hsmEc, 'ES256');
    await expectStatus(200, call('DELETE', `/keys/${hsmEc}?${V}`));
    await expectStatus(204, call('DELETE', `/deletedkeys/${hsmEc}?${V}`));

    // A backup of an HSM key names its KMS key: restoring after a purge cancels the deletion and enables it.
    const hsmBackup = await expectStatus(200, call('POST', `/keys/${hsmSigning}/backup?${V}`));
    await expectStatus(200, call('DELETE', `/keys/${hsmSigning}?${V}`));
    await expectStatus(204, call('DELETE', `/deletedkeys/${hsmSigning}?${V}`));
    await expectStatus(200, call('POST', `/keys/restore?${V}`, { value: hsmBackup.value }));
    await signs(hsmSigning, 'PS256');

    const random = await expectStatus(200, call('POST', `/rng?${V}`, { count: 16 }));
    expect(Buffer.from(random.value, 'base64url')).toHaveLength(16);

    // Secure key release and attestation are refused (400) before anything of their own is called.
    await expectStatus(400, call('POST', `/keys/${hsmSigning}//release?${V}`, { target: 'attestation-token' }));
    await expectStatus(400, call('GET', `/keys/${hsmSigning}/attestation?${V}`));

    // IAM grants calls on HSM key versions by the tags of the KMS key they name: read those tags.
    await recording.readKeyTags();
  }, 180_000);

  coverageChecks({ recording, scenario: SCENARIO, covered, uncovered, unreached: UNREACHED });
});
