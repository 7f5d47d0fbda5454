import * as z from 'zod/mini';
import { accessPolicyEntrySchema } from '../access/access-policies.ts';

/**
 * The management API's vault bodies, as `@azure/arm-keyvault` sends them. Types are checked here; the
 * rules ARM words its own errors for (names, retention bounds, irreversible settings, the tenant) are
 * the manager's (lib/vaults/manage.ts), so each refusal carries ARM's code and wording.
 */
const properties = z.object({
  tenantId: z.optional(z.string()),
  sku: z.optional(z.object({ family: z.optional(z.string()), name: z.optional(z.string()) })),
  accessPolicies: z.optional(z.array(accessPolicyEntrySchema)),
  enableRbacAuthorization: z.optional(z.boolean()),
  enableSoftDelete: z.optional(z.boolean()),
  softDeleteRetentionInDays: z.optional(z.number()),
  enablePurgeProtection: z.optional(z.boolean()),
  publicNetworkAccess: z.optional(z.string()),
  createMode: z.optional(z.string()),
});

const tags = z.optional(z.record(z.string(), z.string()));

export const vaultCreateBody = z.object({ location: z.optional(z.string()), tags, properties: z.optional(properties) });
export type VaultCreateBody = z.infer<typeof vaultCreateBody>;

export const vaultPatchBody = z.object({ tags, properties: z.optional(properties) });
export type VaultPatchBody = z.infer<typeof vaultPatchBody>;

export const accessPolicyUpdateBody = z.object({ properties: z.object({ accessPolicies: z.array(accessPolicyEntrySchema) }) });
export type AccessPolicyUpdateBody = z.infer<typeof accessPolicyUpdateBody>;

export const checkNameBody = z.object({ name: z.string(), type: z.optional(z.string()) });
