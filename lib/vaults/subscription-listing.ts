import type { AccessStore } from '../access/assignments.ts';
import type { Principal } from '../auth/principal.ts';
import { VaultError } from '../core/errors.ts';
import type { Subscription } from './subscriptions.ts';

/** Who may see everything in their tenant (lib/access/access-control.ts). */
export interface TenantAdministrators {
  isTenantAdministrator(principal: Principal): boolean;
}

/**
 * The deployment's subscriptions (COFFER_SUBSCRIPTIONS) as ARM answers them: `GET /subscriptions`
 * lists those of the caller's tenant the caller can see (a tenant administrator all of them, anyone
 * else those they hold some role in, at any scope inside), and refuses nobody.
 */
export class SubscriptionService {
  constructor(
    private readonly subscriptions: readonly Subscription[],
    private readonly administrators: TenantAdministrators,
    private readonly assignments: Pick<AccessStore, 'assignmentsOf'>,
  ) {}

  async visibleTo(principal: Principal): Promise<Subscription[]> {
    const own = this.subscriptions.filter((s) => s.tenantId.toLowerCase() === principal.tenantId.toLowerCase());
    if (this.administrators.isTenantAdministrator(principal)) return own;
    const held = await Promise.all(
      own.map(async (s) => (await this.assignments.assignmentsOf(principal.tenantId, principal.objectId, s.subscriptionId)).length > 0),
    );
    return own.filter((_, i) => held[i]);
  }

  /** The pipeline has answered 404 for a subscription the deployment does not have; this is its record. */
  get(subscriptionId: string): Subscription {
    const found = this.subscriptions.find((s) => s.subscriptionId.toLowerCase() === subscriptionId.toLowerCase());
    if (!found) throw new VaultError(404, 'SubscriptionNotFound', `The subscription '${subscriptionId.slice(0, 64)}' could not be found.`);
    return found;
  }
}
