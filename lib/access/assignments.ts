import type { RoleDefinition } from './roles.ts';

/**
 * A role assignment, as ARM's Microsoft.Authorization/roleAssignments shape has it: a principal holds
 * a role at a scope. Each is stored as an item of its own (docs/adr/0013), so grants never race.
 */
export interface RoleAssignment {
  /** A GUID chosen by the client: the last segment of the assignment's id. */
  name: string;
  /** The ARM scope, as the client wrote it. */
  scope: string;
  /** The role definition's full id, `/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}`. */
  roleDefinitionId: string;
  principalId: string;
  principalType: string;
  /** The tenant of the principal: object ids are unique only within their tenant. */
  tenantId: string;
  description?: string;
  condition?: string;
  conditionVersion?: string;
  createdOn: string;
  updatedOn: string;
  createdBy: string;
  updatedBy: string;
}

/** What the store may answer when asked to create: ARM's 409s are worded by the caller. */
export type CreateAssignmentOutcome = 'created' | 'nameTaken' | 'duplicate';

/** The role assignments and custom role definitions; lib/aws/dynamo-access.ts implements it. */
export interface AccessStore {
  createAssignment(assignment: RoleAssignment): Promise<CreateAssignmentOutcome>;
  /** By name alone: names are unique in the deployment, as in ARM. */
  getAssignment(name: string): Promise<RoleAssignment | undefined>;
  deleteAssignment(assignment: RoleAssignment): Promise<void>;
  /** Every assignment at or below the scope (a prefix Query on the subscription's index). */
  assignmentsUnder(scope: string): Promise<RoleAssignment[]>;
  /** Every assignment the principal holds in the subscription: the question each access decision asks. */
  assignmentsOf(tenantId: string, principalId: string, subscriptionId: string): Promise<RoleAssignment[]>;

  putRoleDefinition(subscriptionId: string, definition: RoleDefinition): Promise<void>;
  getRoleDefinition(name: string): Promise<RoleDefinition | undefined>;
  deleteRoleDefinition(subscriptionId: string, name: string): Promise<void>;
  /** The custom role definitions whose home is this subscription. */
  roleDefinitionsIn(subscriptionId: string): Promise<RoleDefinition[]>;
}

/** The GUID a role definition id ends in. */
export function roleDefinitionName(roleDefinitionId: string): string {
  return (roleDefinitionId.split('/').at(-1) ?? '').toLowerCase();
}

export function roleDefinitionId(subscriptionId: string, name: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${name}`;
}
