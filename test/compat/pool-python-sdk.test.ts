import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hsmRoleIds } from '../../lib/hsm/roles.ts';
import { adminSecretCredential, localStack, uniqueName, unprivilegedCredential } from '../support/local.ts';
import { PYTHON_INSTALL_TIMEOUT_MS, type PythonSdk, pythonSdk, runPython } from '../support/python.ts';
import { managementClients } from '../support/vaults.ts';

/**
 * A pool's local RBAC and settings through Microsoft's Python administration clients, unmodified
 * (Debian's python3-azure: azure-keyvault-administration 4.3.0b2, KeyVaultAccessControlClient and
 * KeyVaultSettingsClient), against the pool's own host: by its name `<pool>.managedhsm.<vault
 * domain>` on its endpoint's port, with challenge verification on as the SDK defaults to (the
 * challenge names `https://managedhsm.<vault domain>:<port>`, which that host ends with), and with a
 * client secret against the local authority. The script connects to loopback only (coffer_compat.py's
 * guard) and trusts only the stack's CA.
 */
const info = localStack();
const pools = managementClients(info).vaults.managedHsms;
const LOCATION = 'eastus';
const name = uniqueName('ppy').replace(/-/g, '').slice(0, 24);
let hsmUrl = '';
let python: PythonSdk;

const SCRIPT = `
import json, sys
from coffer_compat import credential_for, emit, error_of, plain, read_settings
from azure.keyvault.administration import (KeyVaultAccessControlClient, KeyVaultDataAction, KeyVaultPermission,
  KeyVaultRoleScope, KeyVaultSettingsClient)

s = read_settings()
access = KeyVaultAccessControlClient(s['vaultUrl'], credential_for(s), retry_total=0)
settings = KeyVaultSettingsClient(s['vaultUrl'], credential_for(s), retry_total=0)
user = dict(s, clientId=s['userClientId'], clientSecret=s['userClientSecret'])
user_access = KeyVaultAccessControlClient(s['vaultUrl'], credential_for(user), retry_total=0)
user_settings = KeyVaultSettingsClient(s['vaultUrl'], credential_for(user), retry_total=0)
out = {}

definitions = list(access.list_role_definitions(KeyVaultRoleScope.GLOBAL))
out['builtIn'] = sorted(d.role_name for d in definitions if plain(d.role_type) == 'AKVBuiltInRole')
crypto_user = next(d for d in definitions if d.role_name == 'Managed HSM Crypto User')
out['cryptoUserId'] = crypto_user.id

created = access.create_role_assignment(KeyVaultRoleScope.KEYS, crypto_user.id, s['userObjectId'], name=s['assignmentName'])
out['created'] = {'name': created.name, 'id': created.role_assignment_id, 'scope': created.properties.scope,
  'roleDefinitionId': created.properties.role_definition_id, 'principalId': created.properties.principal_id}
got = access.get_role_assignment(KeyVaultRoleScope.KEYS, s['assignmentName'])
out['got'] = got.name
out['listedAtKeys'] = sorted(a.properties.principal_id for a in access.list_role_assignments(KeyVaultRoleScope.KEYS))

# The Crypto User reads roles but writes none.
out['userReads'] = len(list(user_access.list_role_assignments(KeyVaultRoleScope.GLOBAL)))
out['userWrite'] = error_of(lambda: user_access.create_role_assignment(KeyVaultRoleScope.GLOBAL, crypto_user.id, s['userObjectId']))

custom = access.set_role_definition(KeyVaultRoleScope.GLOBAL, name=s['roleName'], role_name='Wrapper', description='wraps',
  permissions=[KeyVaultPermission(data_actions=[KeyVaultDataAction.WRAP_HSM_KEY])], assignable_scopes=[KeyVaultRoleScope.KEYS])
out['custom'] = {'name': custom.name, 'roleName': custom.role_name, 'type': plain(custom.role_type),
  'dataActions': [plain(a) for a in custom.permissions[0].data_actions], 'scopes': [plain(x) for x in custom.assignable_scopes]}
out['customRead'] = access.get_role_definition(KeyVaultRoleScope.GLOBAL, s['roleName']).role_name
access.delete_role_definition(KeyVaultRoleScope.GLOBAL, s['roleName'])
out['customGone'] = error_of(lambda: access.get_role_definition(KeyVaultRoleScope.GLOBAL, s['roleName']))
access.delete_role_assignment(KeyVaultRoleScope.KEYS, s['assignmentName'])
out['assignmentGone'] = error_of(lambda: access.get_role_assignment(KeyVaultRoleScope.KEYS, s['assignmentName']))

out['settings'] = [{'name': x.name, 'value': x.value, 'type': plain(x.type)} for x in settings.list_settings()]
updated = settings.update_setting('AllowKeyManagementOperationsThroughARM', 'true')
out['updated'] = {'name': updated.name, 'value': updated.value, 'type': plain(updated.type)}
out['read'] = settings.get_setting('AllowKeyManagementOperationsThroughARM').value
out['userSettings'] = error_of(lambda: list(user_settings.list_settings()))
out['unknownSetting'] = error_of(lambda: settings.get_setting('NoSuchSetting'))
emit(out)
`;

beforeAll(async () => {
  python = await pythonSdk();
}, PYTHON_INSTALL_TIMEOUT_MS + 10_000);

beforeAll(async () => {
  const pool = await pools.beginCreateOrUpdateAndWait(info.resourceGroup, name, {
    location: LOCATION,
    sku: { family: 'B', name: 'Standard_B1' },
    properties: { tenantId: info.tenantId, initialAdminObjectIds: [info.objectId] },
  });
  const port = new URL(pool.properties!.hsmUri!).port;
  hsmUrl = `https://${name}.managedhsm.${info.vaultDomain}:${port}`;
}, 60_000);

afterAll(async () => {
  await pools.beginDeleteAndWait(info.resourceGroup, name).catch(() => undefined);
  await pools.beginPurgeDeletedAndWait(name, LOCATION).catch(() => undefined);
}, 60_000);

describe("a pool's administration through the Python SDK", () => {
  it('KeyVaultAccessControlClient and KeyVaultSettingsClient manage roles and settings; a Crypto User is refused both writes', async (context) => {
    if (!python.ready) return context.skip(`the Python SDK cannot be installed here: ${python.reason}`);
    // The user's credential must work before the script relies on it.
    expect(await unprivilegedCredential(info).getToken(`https://managedhsm.${info.vaultDomain}/.default`)).toBeTruthy();
    expect(await adminSecretCredential(info).getToken(`https://managedhsm.${info.vaultDomain}/.default`)).toBeTruthy();
    const settings = {
      vaultUrl: hsmUrl,
      authorityHost: info.authorityHost,
      tenantId: info.tenantId,
      clientId: info.clientId,
      clientSecret: info.clientSecret,
      userClientId: info.unprivileged.clientId,
      userClientSecret: info.unprivileged.clientSecret,
      userObjectId: info.unprivileged.objectId,
      credential: 'secret',
      assignmentName: randomUUID(),
      roleName: randomUUID(),
    };
    const r = await runPython(python.interpreter, ['-c', SCRIPT], settings, { caFile: info.caFile, what: "the pool's Python script" });
    expect(r.builtIn).toEqual(
      [
        'Managed HSM Administrator',
        'Managed HSM Backup User',
        'Managed HSM Crypto Auditor',
        'Managed HSM Crypto Officer',
        'Managed HSM Crypto Service Encryption User',
        'Managed HSM Crypto Service Release User',
        'Managed HSM Crypto User',
        'Managed HSM Policy Administrator',
        'Managed HSM Restore',
      ].sort(),
    );
    const roleDefinitionId = `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${hsmRoleIds.cryptoUser}`;
    expect(r.cryptoUserId).toBe(roleDefinitionId);
    expect(r.created).toEqual({
      name: settings.assignmentName,
      id: `/keys/providers/Microsoft.Authorization/roleAssignments/${settings.assignmentName}`,
      scope: '/keys',
      roleDefinitionId,
      principalId: settings.userObjectId,
    });
    expect(r.got).toBe(settings.assignmentName);
    // At /keys: the HSM-level assignments (the initial administrator's at /) and the one at /keys.
    expect(r.listedAtKeys).toEqual([info.objectId, settings.userObjectId].sort());
    expect(r.userReads).toBe(2);
    expect(r.userWrite).toEqual({ type: 'HttpResponseError', status: 403, code: 'AccessDenied' });
    expect(r.custom).toEqual({
      name: settings.roleName,
      roleName: 'Wrapper',
      type: 'CustomRole',
      dataActions: ['Microsoft.KeyVault/managedHsm/keys/wrap/action'],
      scopes: ['/keys'],
    });
    expect(r.customRead).toBe('Wrapper');
    expect(r.customGone).toEqual({ type: 'ResourceNotFoundError', status: 404, code: 'RoleDefinitionNotFound' });
    expect(r.assignmentGone).toEqual({ type: 'ResourceNotFoundError', status: 404, code: 'RoleAssignmentNotFound' });
    expect(r.settings).toEqual([{ name: 'AllowKeyManagementOperationsThroughARM', value: 'false', type: 'boolean' }]);
    expect(r.updated).toEqual({ name: 'AllowKeyManagementOperationsThroughARM', value: 'true', type: 'boolean' });
    expect(r.read).toBe('true');
    // The Crypto User holds no settings DataAction.
    expect(r.userSettings).toEqual({ type: 'HttpResponseError', status: 403, code: 'AccessDenied' });
    expect(r.unknownSetting).toEqual({ type: 'ResourceNotFoundError', status: 404, code: 'SettingNotFound' });
  }, 120_000);
});
