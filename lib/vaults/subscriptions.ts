import * as z from 'zod/mini';

/**
 * A subscription of the deployment (COFFER_SUBSCRIPTIONS). It belongs to one tenant: every resource
 * group and vault in it does too, and only that tenant's tokens reach them (docs/adr/0013).
 */
export const subscriptionSchema = z.object({
  subscriptionId: z.string().check(z.regex(/^[0-9a-fA-F-]{36}$/)),
  tenantId: z.string().check(z.minLength(1)),
  displayName: z.string().check(z.minLength(1)),
});

export type Subscription = z.infer<typeof subscriptionSchema>;

/** A resource group: ARM clients create one before the vaults in it. */
export interface ResourceGroup {
  subscriptionId: string;
  /** As its creator spelled it; ARM names are case-insensitive. */
  name: string;
  location: string;
  tags: Record<string, string>;
}
