import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../lib/auth/principal.ts';
import { HsmRbac, hsmRoleDefinitionId } from '../../lib/hsm/rbac.ts';
import { grantInitialAdministrators, HsmRbacManagement } from '../../lib/hsm/rbac-management.ts';
import { MemoryHsmRbacStore } from '../../lib/hsm/rbac-memory-store.ts';
import { hsmRoleAssignmentRequest, hsmRoleDefinitionRequest } from '../../lib/hsm/rbac-schemas.ts';
import { hsmRoleAssignmentList, hsmRoleDefinitionList } from '../../lib/hsm/rbac-wire.ts';
import { hsmBuiltInRoles, hsmRoleIds } from '../../lib/hsm/roles.ts';

/**
 * The pool's RBAC shapes through Microsoft's Python administration client (Debian's python3-azure,
 * azure-keyvault-administration 4.3.0b2, its generated models): what KeyVaultAccessControlClient
 * sends is accepted, and what Coffer answers reads back into KeyVaultRoleAssignment and
 * KeyVaultRoleDefinition field for field. The routes that carry them are the next slice's; these run
 * the client's own serializers without a network.
 */
const SCRIPT = `
import json, sys
from azure.keyvault.administration import KeyVaultRoleAssignment, KeyVaultRoleDefinition
from azure.keyvault.administration._generated.v7_4_preview_1 import models as m

answers = json.load(sys.stdin)
assignments = [KeyVaultRoleAssignment._from_generated(m.RoleAssignment.deserialize(a)) for a in answers['assignments']['value']]
definitions = [KeyVaultRoleDefinition._from_generated(m.RoleDefinition.deserialize(d)) for d in answers['definitions']['value']]
# The bodies create_role_assignment and set_role_definition build (azure/keyvault/administration/_access_control_client.py).
requests = {
  'assignment': m.RoleAssignmentCreateParameters(properties=m.RoleAssignmentProperties(
    principal_id=answers['principalId'], role_definition_id=answers['roleDefinitionId'])).serialize(),
  'bareDefinition': m.RoleDefinitionCreateParameters(properties=m.RoleDefinitionProperties(
    role_name=None, description=None, permissions=[], assignable_scopes=None)).serialize(),
  'definition': m.RoleDefinitionCreateParameters(properties=m.RoleDefinitionProperties(
    role_name='Wrapper', description='wraps', assignable_scopes=['/keys'],
    permissions=[m.Permission(actions=None, not_actions=None,
      data_actions=['Microsoft.KeyVault/managedHsm/keys/wrap/action'], not_data_actions=None)])).serialize(),
}
print(json.dumps({
  'assignments': [{'id': a.role_assignment_id, 'name': a.name, 'type': a.type, 'scope': a.properties.scope,
    'roleDefinitionId': a.properties.role_definition_id, 'principalId': a.properties.principal_id} for a in assignments],
  'definitions': [{'id': d.id, 'name': d.name, 'type': d.type, 'roleName': d.role_name, 'roleType': d.role_type,
    'description': d.description, 'assignableScopes': d.assignable_scopes,
    'permissions': [{'actions': p.actions, 'notActions': p.not_actions, 'dataActions': p.data_actions,
      'notDataActions': p.not_data_actions} for p in d.permissions]} for d in definitions],
  'requests': requests,
}))
`;

const POOL = 'pool1';

function python(input: unknown) {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', SCRIPT], { input: JSON.stringify(input), encoding: 'utf8' }));
}

describe('Managed HSM RBAC shapes through the Python administration client', () => {
  it('takes what the client sends and answers what it reads', async () => {
    const store = new MemoryHsmRbacStore();
    const admin: Principal = { tenantId: randomUUID(), objectId: randomUUID(), issuer: 'https://idp.localhost/t' };
    await grantInitialAdministrators(store, POOL, [admin.objectId]);
    const manage = new HsmRbacManagement(store, new HsmRbac(store));
    const principalId = randomUUID();
    const roleDefinitionId = hsmRoleDefinitionId(hsmRoleIds.cryptoServiceEncryptionUser);

    // First the client's request bodies, through the routes' schemas and the service.
    const { requests } = python({ assignments: { value: [] }, definitions: { value: [] }, principalId, roleDefinitionId });
    const assigned = await manage.createAssignment(POOL, admin, '/keys/k1', randomUUID(), hsmRoleAssignmentRequest.parse(requests.assignment));
    const bare = await manage.putDefinition(POOL, admin, '/', randomUUID(), hsmRoleDefinitionRequest.parse(requests.bareDefinition));
    const wrapper = await manage.putDefinition(POOL, admin, '/', randomUUID(), hsmRoleDefinitionRequest.parse(requests.definition));
    expect(bare).toMatchObject({ roleName: '', description: '', roleType: 'CustomRole', permissions: [], assignableScopes: ['/'] });
    expect(wrapper).toMatchObject({
      roleName: 'Wrapper',
      assignableScopes: ['/keys'],
      permissions: [{ actions: [], notActions: [], dataActions: ['Microsoft.KeyVault/managedHsm/keys/wrap/action'], notDataActions: [] }],
    });

    // Then Coffer's answers, read back by the client.
    const assignments = await manage.listAssignments(POOL, admin, '/keys/k1', undefined);
    const definitions = await manage.listDefinitions(POOL, admin, '/', undefined);
    const read = python({
      assignments: hsmRoleAssignmentList(assignments),
      definitions: hsmRoleDefinitionList(definitions),
      principalId,
      roleDefinitionId,
    });
    expect(read.assignments).toContainEqual({
      id: `/keys/k1/providers/Microsoft.Authorization/roleAssignments/${assigned.name}`,
      name: assigned.name,
      type: 'Microsoft.Authorization/roleAssignments',
      scope: '/keys/k1',
      roleDefinitionId,
      principalId,
    });
    expect(read.assignments.find((a: { principalId: string }) => a.principalId === admin.objectId)).toMatchObject({
      id: expect.stringMatching(/^\/providers\/Microsoft\.Authorization\/roleAssignments\/[0-9a-f-]{36}$/),
      scope: '/',
      roleDefinitionId: hsmRoleDefinitionId(hsmRoleIds.administrator),
    });
    expect(read.definitions).toHaveLength(hsmBuiltInRoles.length + 2);
    expect(read.definitions[5]).toEqual({
      id: `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${hsmRoleIds.cryptoServiceEncryptionUser}`,
      name: hsmRoleIds.cryptoServiceEncryptionUser,
      type: 'Microsoft.Authorization/roleDefinitions',
      roleName: 'Managed HSM Crypto Service Encryption User',
      roleType: 'AKVBuiltInRole',
      description: '',
      assignableScopes: ['/'],
      permissions: [
        {
          actions: [],
          notActions: [],
          dataActions: [
            'Microsoft.KeyVault/managedHsm/keys/read/action',
            'Microsoft.KeyVault/managedHsm/keys/wrap/action',
            'Microsoft.KeyVault/managedHsm/keys/unwrap/action',
          ],
          notDataActions: [],
        },
      ],
    });
    expect(read.definitions.find((d: { name: string }) => d.name === wrapper.name)).toMatchObject({ roleType: 'CustomRole', roleName: 'Wrapper' });
  });
});
