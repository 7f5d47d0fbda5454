import * as z from 'zod/mini';

/** The request bodies of the role assignment and role definition routes, as ARM's 2022-04-01 specification has them. */
export const createRoleAssignmentBody = z.object({
  properties: z.object({
    roleDefinitionId: z.string(),
    principalId: z.string(),
    principalType: z.optional(z.enum(['User', 'Group', 'ServicePrincipal', 'ForeignGroup', 'Device'])),
    description: z.optional(z.nullable(z.string().check(z.maxLength(2048)))),
    condition: z.optional(z.nullable(z.string().check(z.maxLength(8192)))),
    conditionVersion: z.optional(z.nullable(z.enum(['2.0']))),
    delegatedManagedIdentityResourceId: z.optional(z.nullable(z.string())),
  }),
});
export type CreateRoleAssignmentInput = z.infer<typeof createRoleAssignmentBody>;

const actionList = z.optional(z.nullable(z.array(z.string().check(z.minLength(1), z.maxLength(512))).check(z.maxLength(500))));

export const roleDefinitionBody = z.object({
  properties: z.object({
    roleName: z.string().check(z.minLength(1), z.maxLength(512)),
    description: z.optional(z.nullable(z.string().check(z.maxLength(2048)))),
    type: z.optional(z.nullable(z.enum(['CustomRole']))),
    permissions: z
      .array(z.object({ actions: actionList, notActions: actionList, dataActions: actionList, notDataActions: actionList }))
      .check(z.minLength(1)),
    assignableScopes: z.array(z.string().check(z.minLength(1), z.maxLength(1024))).check(z.minLength(1)),
  }),
});
export type RoleDefinitionInput = z.infer<typeof roleDefinitionBody>;
