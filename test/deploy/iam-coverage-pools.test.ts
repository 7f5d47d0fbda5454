import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { VAULT_DOMAIN } from '../../dev/local-environment.ts';
import { MANAGED_HSM_SUBDOMAIN } from '../../lib/hsm/pools.ts';
import { hsmRoleIds } from '../../lib/hsm/roles.ts';
import { managedHsmDataRoutes } from '../../lib/http/routes.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { securityDomainOfficers } from '../support/certificates.ts';
import { adminSecretCredential, localStack, uniqueName } from '../support/local.ts';
import { ensureSoftHsm } from '../support/softhsm.ts';
import { CallRecording, coverageChecks, expectStatus, managementAdministrator } from './iam-recording.ts';

/**
 * IAM coverage of a managed HSM pool's own data plane (iam-recording.ts says how), deployed with the
 * pools' stack (infra/pool-stack.ts): RBAC, settings, the security domain, the pool's keys and its
 * full backup and restore, each call checked against what infra/permissions.ts
 * `managedHsmDataPermissions` grants its operation. The backups go to the local stack's folder
 * storage, not S3, so their `poolBackups` grants are pool-stack.test.ts's to check, not this file's.
 * The pools get a SoftHSM2 token each, made at their creation as on the local stack (a token
 * directory of this file's own), so the key and security-domain operations open the pool token's
 * sealed PINs as they would wherever the deployment makes a token per pool.
 */
const recording = new CallRecording();

const KEYVAULT = 'api-version=2026-02-01';
const RESOURCES = 'api-version=2025-04-01';
const API = 'api-version=7.4';
/** Prebackup and prerestore are 7.6's. */
const API_7_6 = 'api-version=7.6';
/** The local stack's folder storage (COFFER_POOL_BACKUP_DIRECTORY): S3 in AWS, whose calls are not recorded here. */
const STORAGE = 'https://backups.blob.localhost/iam-pools';
const LOCATION = 'westeurope';
const MHSM_SCOPE = 'https://managedhsm.azure.net/.default';
const SCRIPT = resolve(import.meta.dirname, '../../scripts/security-domain.ts');
const ROLE_DEFINITION = (id: string) => `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${id}`;

const poolName = (prefix: string) => uniqueName(prefix).replace(/-/g, '').slice(0, 24);
let softHsm = '';
let work = '';

/**
 * A token directory and SOFTHSM2_CONF of this file's own (the library reads it once, at its first use
 * in this process), and a folder for the pools' backups beside them.
 */
function poolTokenEnvironment(): Record<string, string> {
  softHsm = mkdtempSync(join(tmpdir(), 'coffer-iam-pools-'));
  const tokens = join(softHsm, 'tokens');
  mkdirSync(tokens, { mode: 0o700 });
  const conf = join(softHsm, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
  return {
    SOFTHSM2_CONF: conf,
    COFFER_PKCS11_LIBRARY: ensureSoftHsm().library,
    COFFER_PKCS11_TOKEN_DIRECTORY: tokens,
    COFFER_POOL_BACKUP_DIRECTORY: join(softHsm, 'backups'),
  };
}

const pools: string[] = [];
let groupPath = '';

beforeAll(() => {
  recording.start();
  Object.assign(process.env, poolTokenEnvironment());
  resetConfig();
  work = mkdtempSync(join(tmpdir(), 'coffer-iam-sd-'));
});

afterAll(async () => {
  const s = `/subscriptions/${localStack().subscriptionId}`;
  for (const pool of pools) {
    const poolId = `${groupPath}/providers/Microsoft.KeyVault/managedHSMs/${pool}`;
    await recording.call('DELETE', `${poolId}?${KEYVAULT}`, undefined, managementAdministrator).catch(() => undefined);
    const deleted = `${s}/providers/Microsoft.KeyVault/locations/${LOCATION}/deletedManagedHSMs/${pool}`;
    await recording.call('POST', `${deleted}/purge?${KEYVAULT}`, undefined, managementAdministrator).catch(() => undefined);
  }
  if (groupPath) await recording.call('DELETE', `${groupPath}?${RESOURCES}`, undefined, managementAdministrator).catch(() => undefined);
  recording.stop();
  rmSync(work, { recursive: true, force: true });
  if (softHsm) rmSync(softHsm, { recursive: true, force: true });
}, 120_000);

/**
 * The pool data-plane operations the scenario drives; a row it has no steps for is a todo until it
 * has. The upload is driven to its failure (shares encrypted to a key the pool's HSM does not hold),
 * which opens the HSM and writes the pool's record as a success does.
 */
const SCENARIO = [
  'CreateHsmRoleAssignment',
  'GetHsmRoleAssignment',
  'DeleteHsmRoleAssignment',
  'ListHsmRoleAssignments',
  'SetHsmRoleDefinition',
  'GetHsmRoleDefinition',
  'DeleteHsmRoleDefinition',
  'ListHsmRoleDefinitions',
  'GetHsmSettings',
  'GetHsmSetting',
  'UpdateHsmSetting',
  'DownloadHsmSecurityDomain',
  'GetHsmSecurityDomainDownloadStatus',
  'GetHsmSecurityDomainTransferKey',
  'UploadHsmSecurityDomain',
  'GetHsmSecurityDomainUploadStatus',
  'CreateHsmKey',
  'ImportHsmKey',
  'GetHsmKeys',
  'GetHsmKeyVersions',
  'GetHsmKey',
  'UpdateHsmKey',
  'DeleteHsmKey',
  'EncryptWithHsmKey',
  'DecryptWithHsmKey',
  'WrapWithHsmKey',
  'UnwrapWithHsmKey',
  'SignWithHsmKey',
  'VerifyWithHsmKey',
  'GetDeletedHsmKeys',
  'GetDeletedHsmKey',
  'PurgeDeletedHsmKey',
  'RecoverDeletedHsmKey',
  'GetRandomBytesFromHsm',
  'HsmFullBackup',
  'HsmFullBackupStatus',
  'HsmPreFullBackup',
  'HsmFullRestore',
  'HsmRestoreStatus',
  'HsmPreFullRestore',
  'HsmSelectiveKeyRestore',
];
const covered = managedHsmDataRoutes.filter((r) => SCENARIO.includes(r.operation));
const uncovered = managedHsmDataRoutes.filter((r) => !SCENARIO.includes(r.operation));

/** Grants no step uses, because the path that needs them cannot be driven from here; infra/permissions.ts says why. */
const UNREACHED: Record<string, string[]> = {};

describe("every AWS call a managed HSM pool's data-plane operation makes is granted to its function", () => {
  beforeAll(async () => {
    const info = localStack();
    const s = `/subscriptions/${info.subscriptionId}`;
    groupPath = `${s}/resourcegroups/${uniqueName('iam-pooldata')}`;
    await expectStatus([200, 201], recording.call('PUT', `${groupPath}?${RESOURCES}`, { location: LOCATION }, managementAdministrator));
    const hosts: Record<string, string> = {};
    const [active, restoring] = [poolName('iampa'), poolName('iampr')];
    for (const pool of [active, restoring]) {
      pools.push(pool);
      const body = {
        location: LOCATION,
        sku: { family: 'B', name: 'Standard_B1' },
        properties: { tenantId: info.tenantId, initialAdminObjectIds: [info.objectId], softDeleteRetentionInDays: 7 },
      };
      await expectStatus(
        [200, 201],
        recording.call('PUT', `${groupPath}/providers/Microsoft.KeyVault/managedHSMs/${pool}?${KEYVAULT}`, body, managementAdministrator),
      );
      // The host a pool has in AWS (`<pool>.managedhsm.<vault domain>`), not its local endpoint, whose claim is the local stack's alone.
      hosts[pool] = `${pool}.${MANAGED_HSM_SUBDOMAIN}.${VAULT_DOMAIN}`;
    }
    const token = (await adminSecretCredential().getToken(MHSM_SCOPE))!.token;
    const at =
      (pool: string, version = API) =>
      (method: string, path: string, body?: unknown) =>
        recording.call(method, `${path}${path.includes('?') ? '&' : '?'}${version}`, body, {
          token: async () => token,
          host: () => hosts[pool]!,
          plane: 'managedHsm',
        });
    const hsm = at(active);

    // RBAC: a custom role defined at the pool, assigned at /keys, read, listed, removed again.
    const role = randomUUID();
    const rolePath = `/providers/Microsoft.Authorization/roleDefinitions/${role}`;
    const roleBody = {
      properties: {
        roleName: 'Wrapper',
        description: 'wraps',
        type: 'CustomRole',
        permissions: [{ dataActions: ['Microsoft.KeyVault/managedHsm/keys/wrap/action'] }],
        assignableScopes: ['/keys'],
      },
    };
    await expectStatus(201, hsm('PUT', rolePath, roleBody));
    await expectStatus(200, hsm('GET', rolePath));
    await expectStatus(200, hsm('GET', '/providers/Microsoft.Authorization/roleDefinitions'));
    const assignment = `/keys/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
    await expectStatus(201, hsm('PUT', assignment, { properties: { roleDefinitionId: ROLE_DEFINITION(role), principalId: randomUUID() } }));
    await expectStatus(200, hsm('GET', assignment));
    await expectStatus(200, hsm('GET', '/providers/Microsoft.Authorization/roleAssignments'));
    await expectStatus(200, hsm('DELETE', assignment));
    await expectStatus(200, hsm('DELETE', rolePath));
    // The Administrator holds no key DataActions: the caller is made Crypto User (keys) and Crypto Officer (deleted keys) of the pool.
    for (const keyRole of [hsmRoleIds.cryptoUser, hsmRoleIds.cryptoOfficer]) {
      const grant = `/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
      await expectStatus(201, hsm('PUT', grant, { properties: { roleDefinitionId: ROLE_DEFINITION(keyRole), principalId: info.objectId } }));
    }

    // Settings.
    await expectStatus(200, hsm('GET', '/settings'));
    await expectStatus(200, hsm('PATCH', '/settings/AllowKeyManagementOperationsThroughARM', { value: 'true' }));
    await expectStatus(200, hsm('GET', '/settings/AllowKeyManagementOperationsThroughARM'));

    // The security domain: the active pool's download (to three officers), the other pool's transfer key and a failed upload.
    const domainOfficers = securityDomainOfficers();
    const officers = domainOfficers.map(({ officer }) => officer);
    const certificates = domainOfficers.map(({ jwk }) => jwk);
    const download = await expectStatus(202, hsm('POST', '/securitydomain/download', { certificates, required: 2 }));
    writeFileSync(join(work, 'download.json'), JSON.stringify(download));
    await expectStatus(200, hsm('GET', '/securitydomain/download/pending'));
    const other = at(restoring);
    const transfer = await expectStatus(200, other('GET', '/securitydomain/upload'));
    for (const [i, officer] of officers.entries()) writeFileSync(join(work, `officer-${i + 1}.pem`), officer.keyPem, { mode: 0o600 });
    // Shares encrypted to another key of the transfer key's kid: the pool's HSM tries them and cannot open them.
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    writeFileSync(join(work, 'stranger.json'), JSON.stringify({ transfer_key: { ...stranger, kid: transfer.transfer_key.kid } }));
    const restore = ['restore', '--domain', join(work, 'download.json'), '--key', join(work, 'officer-1.pem'), '--key', join(work, 'officer-3.pem')];
    execFileSync('npx', ['tsx', SCRIPT, ...restore, '--transfer-key', join(work, 'stranger.json'), '--out', join(work, 'upload.json')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await expectStatus(400, other('POST', '/securitydomain/upload', JSON.parse(readFileSync(join(work, 'upload.json'), 'utf8'))));
    await expectStatus(200, other('GET', '/securitydomain/upload/pending'));

    // Keys in the active pool: made and imported, read every way, used for every operation, deleted, recovered, purged.
    const name = uniqueName('iam-pool-key');
    const imported = uniqueName('iam-pool-imported');
    const key = await expectStatus(200, hsm('POST', `/keys/${name}/create`, { kty: 'RSA-HSM', key_size: 2048 }));
    const version = String(key.key.kid).split('/').pop()!;
    const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    await expectStatus(200, hsm('PUT', `/keys/${imported}`, { key: { ...jwk, kty: 'RSA-HSM' } }));
    await expectStatus(200, hsm('GET', '/keys'));
    await expectStatus(200, hsm('GET', `/keys/${name}/versions`));
    await expectStatus(200, hsm('GET', `/keys/${name}`));
    await expectStatus(200, hsm('GET', `/keys/${name}/${version}`));
    await expectStatus(200, hsm('PATCH', `/keys/${name}/${version}`, { tags: { purpose: 'iam' } }));
    const plaintext = Buffer.alloc(32, 7).toString('base64url');
    const sealed = await expectStatus(200, hsm('POST', `/keys/${name}/${version}/encrypt`, { alg: 'RSA-OAEP', value: plaintext }));
    await expectStatus(200, hsm('POST', `/keys/${name}/${version}/decrypt`, { alg: 'RSA-OAEP', value: sealed.value }));
    const wrapped = await expectStatus(200, hsm('POST', `/keys/${name}/${version}/wrapkey`, { alg: 'RSA-OAEP', value: plaintext }));
    await expectStatus(200, hsm('POST', `/keys/${name}/${version}/unwrapkey`, { alg: 'RSA-OAEP', value: wrapped.value }));
    const signed = await expectStatus(200, hsm('POST', `/keys/${name}/${version}/sign`, { alg: 'PS256', value: plaintext }));
    await expectStatus(200, hsm('POST', `/keys/${name}/${version}/verify`, { alg: 'PS256', digest: plaintext, value: signed.value }));
    await expectStatus(200, hsm('POST', '/rng', { count: 16 }));
    await expectStatus(200, hsm('DELETE', `/keys/${name}`));
    await expectStatus(200, hsm('GET', '/deletedkeys'));
    await expectStatus(200, hsm('GET', `/deletedkeys/${name}`));
    await expectStatus(200, hsm('POST', `/deletedkeys/${name}/recover`));
    await expectStatus(200, hsm('DELETE', `/keys/${name}`));
    await expectStatus(204, hsm('DELETE', `/deletedkeys/${name}`));

    // Full backup and restore of the active pool, which holds a key, role assignments and a custom role to put back.
    const kept = `/providers/Microsoft.Authorization/roleDefinitions/${randomUUID()}`;
    await expectStatus(201, hsm('PUT', kept, { properties: { ...roleBody.properties, roleName: 'Kept wrapper' } }));
    const hsm76 = at(active, API_7_6);
    const sas = { storageResourceUri: STORAGE, token: 'ignored' };
    await expectStatus(202, hsm76('POST', '/prebackup', sas));
    const backup = await expectStatus(202, hsm('POST', '/backup', sas));
    expect(backup.status).toBe('Succeeded');
    await expectStatus(200, hsm('GET', `/backup/${backup.jobId}/pending`));
    const folder = String(backup.azureStorageBlobContainerUri).slice(STORAGE.length + 1);
    await expectStatus(202, hsm76('PUT', '/prerestore', { sasTokenParameters: sas, folderToRestore: folder }));
    // The backed-up key is live: the restore replaces it, as Azure's does.
    const restored = await expectStatus(202, hsm('PUT', '/restore', { sasTokenParameters: sas, folderToRestore: folder }));
    expect(restored.status).toBe('Succeeded');
    await expectStatus(200, hsm('GET', `/restore/${restored.jobId}/pending`));
    const selective = await expectStatus(202, hsm('PUT', `/keys/${imported}/restore`, { sasTokenParameters: sas, folder }));
    expect(selective.status).toBe('Succeeded');

    await recording.readKeyTags();
  }, 300_000);

  coverageChecks({ recording, scenario: SCENARIO, covered, uncovered, unreached: UNREACHED });
});
