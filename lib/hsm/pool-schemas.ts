import * as z from 'zod/mini';

/**
 * The management API's managed HSM bodies, as `@azure/arm-keyvault` sends them (`ManagedHsm`: the
 * sku beside the properties, not inside them). Types are checked here; the rules ARM words its own
 * errors for (names, retention, irreversible settings, the tenant, the sku) are the pool manager's.
 */
const properties = z.object({
  tenantId: z.optional(z.string()),
  initialAdminObjectIds: z.optional(z.array(z.string())),
  enableSoftDelete: z.optional(z.boolean()),
  softDeleteRetentionInDays: z.optional(z.number()),
  enablePurgeProtection: z.optional(z.boolean()),
  publicNetworkAccess: z.optional(z.string()),
  createMode: z.optional(z.string()),
});

const sku = z.optional(z.object({ family: z.optional(z.string()), name: z.optional(z.string()) }));
const tags = z.optional(z.record(z.string(), z.string()));

export const poolBody = z.object({ location: z.optional(z.string()), sku, tags, properties: z.optional(properties) });
export type PoolBody = z.infer<typeof poolBody>;

export const poolNameCheckBody = z.object({ name: z.string() });
