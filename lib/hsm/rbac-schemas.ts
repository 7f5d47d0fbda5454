import * as z from 'zod/mini';

/**
 * The bodies of a pool's RBAC routes (rbac.json: RoleAssignmentCreateParameters,
 * RoleDefinitionCreateParameters), as the SDKs send them. Types are checked here; what Managed HSM
 * words its own 400s for (GUIDs, role ids, scopes, DataActions) is lib/hsm/rbac-management.ts's.
 */
export const hsmRoleAssignmentRequest = z.object({
  properties: z.object({
    roleDefinitionId: z.string().check(z.maxLength(512)),
    principalId: z.string().check(z.maxLength(64)),
  }),
});
export type HsmRoleAssignmentInput = z.infer<typeof hsmRoleAssignmentRequest>;

const actionList = z.optional(z.nullable(z.array(z.string().check(z.minLength(1), z.maxLength(512))).check(z.maxLength(100))));

/**
 * The Python client leaves out what its caller did not give (roleName, description, permissions,
 * assignableScopes): the service answers an empty name and description, no permissions, and `/`.
 */
export const hsmRoleDefinitionRequest = z.object({
  properties: z.object({
    roleName: z.optional(z.nullable(z.string().check(z.maxLength(512)))),
    description: z.optional(z.nullable(z.string().check(z.maxLength(2048)))),
    type: z.optional(z.nullable(z.string())),
    permissions: z.optional(
      z.nullable(
        z
          .array(z.object({ actions: actionList, notActions: actionList, dataActions: actionList, notDataActions: actionList }))
          .check(z.maxLength(10)),
      ),
    ),
    assignableScopes: z.optional(z.nullable(z.array(z.string().check(z.maxLength(140))).check(z.maxLength(10)))),
  }),
});
export type HsmRoleDefinitionInput = z.infer<typeof hsmRoleDefinitionRequest>;
