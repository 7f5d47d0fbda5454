import { randomUUID } from 'node:crypto';
import { type AccessStore, roleDefinitionId } from '../access/assignments.ts';

export interface InitialGrant {
  /** An ARM scope: the subscription, a resource group or a vault. */
  scope: string;
  subscriptionId: string;
  /** The role definition's GUID (lib/access/roles.ts roleIds). */
  role: string;
  principalId: string;
  tenantId: string;
}

/**
 * A role assignment made by the deployment itself (the local stack's first administrator grants),
 * not by a caller of the role-assignment API. Granting what the principal already holds at the scope
 * changes nothing, so a start that grants again is harmless.
 */
export async function grantRole(access: Pick<AccessStore, 'createAssignment'>, grant: InitialGrant): Promise<void> {
  const now = new Date().toISOString();
  const outcome = await access.createAssignment({
    name: randomUUID(),
    scope: grant.scope,
    roleDefinitionId: roleDefinitionId(grant.subscriptionId, grant.role),
    principalId: grant.principalId,
    principalType: 'ServicePrincipal',
    tenantId: grant.tenantId,
    createdOn: now,
    updatedOn: now,
    createdBy: grant.principalId,
    updatedBy: grant.principalId,
  });
  if (outcome === 'nameTaken') throw new Error('a fresh role assignment name was taken');
}
