import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VAULT_DOMAIN } from '../../dev/local-environment.ts';
import { handler as purgeDeletedPools } from '../../functions/hsm/purge-deleted-managed-hsms.ts';
import { poolSweep, poolSweepPermissions } from '../../infra/pool-stack.ts';
import { dueIndex } from '../../lib/aws/tables.ts';
import { MANAGED_HSM_SUBDOMAIN, poolObjectsPrefix } from '../../lib/hsm/pools.ts';
import { hsmRoleIds } from '../../lib/hsm/roles.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { securityDomainOfficers } from '../support/certificates.ts';
import { adminSecretCredential, localStack, uniqueName } from '../support/local.ts';
import { ensureSoftHsm } from '../support/softhsm.ts';
import { CallRecording, expectStatus, managementAdministrator } from './iam-recording.ts';

/**
 * IAM coverage of the pools' sweep (functions/hsm/purge-deleted-managed-hsms.ts; docs/adr/0020), the
 * pools' stack's function on a rate rule (infra/pool-stack.ts `poolSweep`): it runs in-process against
 * the local stack, every AWS call it makes is recorded (iam-recording.ts), and each must be one its
 * role grants (`poolSweepPermissions`), on the partitions the role's conditions name, every grant used.
 *
 * The pool it purges is a real one, made and deleted through the production handlers, with a SoftHSM2
 * token (so the purge opens the token's sealed PINs to wipe it, as wherever a deployment makes a token
 * per pool), an RBAC assignment (its initial administrator's), a setting and a key. It falls due on
 * this process's clock only: the test's own time-shift file moves the pool's clock past its scheduled
 * purge date, which the local stack's own scheduler timer (whose clock is real time for this pool)
 * never sees, so the sweep under test is the one that purges it.
 */
const recording = new CallRecording();
const KEYVAULT = 'api-version=2026-02-01';
const RESOURCES = 'api-version=2025-04-01';
const API = 'api-version=7.4';
const LOCATION = 'westeurope';
const MHSM_SCOPE = 'https://managedhsm.azure.net/.default';
const DAY = 86_400;
const pool = uniqueName('iamsweep').replace(/-/g, '').slice(0, 24);
let work = '';
let groupPath = '';

/** IAM's StringLike: the whole value, `*` any characters. */
const stringLike = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

/** The role's grants as `<target>:<action>` and the partitions each may reach (none: the index, or a KMS context). */
function grantedCalls(): Map<string, readonly string[] | undefined> {
  const granted = new Map<string, readonly string[] | undefined>();
  for (const action of poolSweepPermissions.dueIndex) granted.set(`objects/index/${dueIndex.name}:${action}`, undefined);
  for (const action of poolSweepPermissions.poolReads) granted.set(`objects:${action}`, poolSweepPermissions.readPartitions);
  for (const action of poolSweepPermissions.poolRemovals) granted.set(`objects:${action}`, poolSweepPermissions.removalPartitions);
  for (const action of poolSweepPermissions.poolToken) granted.set(`poolToken:${action}`, undefined);
  return granted;
}

beforeAll(async () => {
  recording.start();
  work = mkdtempSync(join(tmpdir(), 'coffer-iam-sweep-'));
  const tokens = join(work, 'tokens');
  mkdirSync(tokens, { mode: 0o700 });
  const conf = join(work, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
  const offsets = join(work, 'clock-offsets.json');
  Object.assign(process.env, {
    SOFTHSM2_CONF: conf,
    COFFER_PKCS11_LIBRARY: ensureSoftHsm().library,
    COFFER_PKCS11_TOKEN_DIRECTORY: tokens,
    COFFER_CLOCK_OFFSETS_FILE: offsets,
    COFFER_POOL_BACKUP_DIRECTORY: join(work, 'backups'),
  });
  resetConfig();

  const info = localStack();
  const s = `/subscriptions/${info.subscriptionId}`;
  groupPath = `${s}/resourcegroups/${uniqueName('iam-sweep')}`;
  const poolPath = `${groupPath}/providers/Microsoft.KeyVault/managedHSMs/${pool}?${KEYVAULT}`;
  await expectStatus([200, 201], recording.call('PUT', `${groupPath}?${RESOURCES}`, { location: LOCATION }, managementAdministrator));
  const body = {
    location: LOCATION,
    sku: { family: 'B', name: 'Standard_B1' },
    properties: { tenantId: info.tenantId, initialAdminObjectIds: [info.objectId], softDeleteRetentionInDays: 7, enablePurgeProtection: true },
  };
  await expectStatus([200, 201], recording.call('PUT', poolPath, body, managementAdministrator));
  // What the pool holds besides its record and token: a setting, a key and a backup job (its Administrator may make none: Crypto User first).
  const token = (await adminSecretCredential().getToken(MHSM_SCOPE))!.token;
  const hsm = (method: string, path: string, requestBody?: unknown) =>
    recording.call(method, `${path}?${API}`, requestBody, {
      token: async () => token,
      host: () => `${pool}.${MANAGED_HSM_SUBDOMAIN}.${VAULT_DOMAIN}`,
      plane: 'managedHsm',
    });
  await expectStatus(200, hsm('PATCH', '/settings/AllowKeyManagementOperationsThroughARM', { value: 'true' }));
  const grant = `/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}`;
  const cryptoUser = `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${hsmRoleIds.cryptoUser}`;
  await expectStatus(201, hsm('PUT', grant, { properties: { roleDefinitionId: cryptoUser, principalId: info.objectId } }));
  // A key needs the pool activated: its security domain downloaded (to three officers).
  const certificates = securityDomainOfficers().map(({ jwk }) => jwk);
  await expectStatus(202, hsm('POST', '/securitydomain/download', { certificates, required: 2 }));
  await expectStatus(200, hsm('POST', `/keys/${uniqueName('swept')}/create`, { kty: 'RSA-HSM', key_size: 2048 }));
  // And a backup job's record (the local stack keeps the backup in its data directory).
  await expectStatus(202, hsm('POST', '/backup', { storageResourceUri: 'https://backups.blob.localhost/sweep-test' }));
  await expectStatus(200, recording.call('DELETE', poolPath, undefined, managementAdministrator));
  // Eight days on, on this process's clock for this pool only: past its seven days' retention.
  writeFileSync(offsets, JSON.stringify({ offsets: { [poolObjectsPrefix(pool).toLowerCase()]: 8 * DAY } }));
}, 180_000);

afterAll(async () => {
  const s = `/subscriptions/${localStack().subscriptionId}`;
  await recording
    .call(
      'POST',
      `${s}/providers/Microsoft.KeyVault/locations/${LOCATION}/deletedManagedHSMs/${pool}/purge?${KEYVAULT}`,
      undefined,
      managementAdministrator,
    )
    .catch(() => undefined);
  if (groupPath) await recording.call('DELETE', `${groupPath}?${RESOURCES}`, undefined, managementAdministrator).catch(() => undefined);
  recording.stop();
  if (work) rmSync(work, { recursive: true, force: true });
}, 120_000);

describe("the pools' sweep calls only what its role grants, and uses every grant", () => {
  let summary: Awaited<ReturnType<typeof purgeDeletedPools>>;

  beforeAll(async () => {
    summary = await recording.run(poolSweep.key, () => purgeDeletedPools());
  }, 120_000);

  it('purges the pool whose retention ended on its clock, purge protection or not', async () => {
    expect(summary.failed).toEqual([]);
    expect(summary.purged).toContain(pool);
    const s = `/subscriptions/${localStack().subscriptionId}`;
    const deleted = await recording.call(
      'GET',
      `${s}/providers/Microsoft.KeyVault/locations/${LOCATION}/deletedManagedHSMs/${pool}?${KEYVAULT}`,
      undefined,
      managementAdministrator,
    );
    expect(deleted.status).toBe(404);
  });

  it('makes only the calls its role grants, on the partitions its conditions name', () => {
    const made = recording.calls.get(poolSweep.key) ?? [];
    expect(made.length).toBeGreaterThan(0);
    const granted = grantedCalls();
    const refused = made.filter((call) => {
      const target = call.target === 'objects' && call.detail === `index/${dueIndex.name}` ? `objects/index/${dueIndex.name}` : call.target;
      const key = `${target}:${call.action}`;
      if (!granted.has(key)) return true;
      const partitions = granted.get(key);
      if (call.target === 'poolToken') return call.detail !== pool;
      return partitions !== undefined && !partitions.some((pattern) => stringLike(pattern).test(call.detail));
    });
    expect(refused.map((call) => `${call.action} on ${call.target} (${call.detail})`)).toEqual([]);
  });

  it('is granted nothing it does not call', () => {
    const made = recording.calls.get(poolSweep.key) ?? [];
    const used = new Set(
      made.map(
        (call) =>
          `${call.target === 'objects' && call.detail === `index/${dueIndex.name}` ? `objects/index/${dueIndex.name}` : call.target}:${call.action}`,
      ),
    );
    expect([...grantedCalls().keys()].filter((grant) => !used.has(grant))).toEqual([]);
    // Every removal pattern is one a call reached: no partition is granted that the purge never writes.
    const removals = made.filter((call) => (poolSweepPermissions.poolRemovals as readonly string[]).includes(call.action));
    const unreached = poolSweepPermissions.removalPartitions.filter((pattern) => !removals.some((call) => stringLike(pattern).test(call.detail)));
    expect(unreached).toEqual([]);
  });
});
