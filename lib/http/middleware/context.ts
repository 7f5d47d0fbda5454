import { randomUUID } from 'node:crypto';
import { VaultError } from '../../core/errors.ts';
import { type Event, hostOf, type Middleware, type RequestState } from '../request.ts';
import type { Route } from '../routes.ts';
import type { PipelineServices } from '../services.ts';
import { managementScopeOf } from '../management-scope.ts';

/** How a plane finds what a request addresses: sets the vault (data plane) or the tenant and scope (management plane). */
export type RequestLocator = (event: Event, services: PipelineServices, state: RequestState) => Promise<void>;

/** The data plane: the vault is the Host header's (`<vault>.<vault domain>`, a host alias, or a claimed local endpoint). */
export const vaultFromHost: RequestLocator = async (event, services, state) => {
  state.vault = await services.vaults.resolve(hostOf(event));
};

/**
 * The management plane: the tenant is the tenant of the subscription the path names (none for `GET
 * /subscriptions`: the token's own); the vault, when the path names a live one, decides where the
 * audit record goes and whether it is strict.
 */
export const subscriptionFromPath: RequestLocator = async (event, services, state) => {
  const params = event.pathParameters ?? {};
  const subscriptionId = params.subscriptionId;
  if (subscriptionId !== undefined) {
    const tenantId = services.subscriptions.tenantOf(subscriptionId);
    if (!tenantId) throw new VaultError(404, 'SubscriptionNotFound', `The subscription '${subscriptionId.slice(0, 64)}' could not be found.`);
    state.tenantId = tenantId;
  }
  state.managementScope = managementScopeOf(state.route, event.rawPath ?? '', params);
  state.resourceId = state.managementScope;
  if (params.vaultName) {
    state.auditVault = params.vaultName.toLowerCase();
    const vault = await services.vaults.get(params.vaultName);
    if (vault && vault.subscriptionId.toLowerCase() === subscriptionId?.toLowerCase()) state.vault = vault;
  }
};

/** First of all: the request id and start time every answer and audit record carry, then what the request addresses. */
export function context(route: Route, services: () => PipelineServices, locate: RequestLocator): Middleware {
  return {
    before: async (request) => {
      request.context.coffer = { requestId: randomUUID(), startedAt: Date.now(), route };
      await locate(request.event, services(), request.context.coffer);
    },
  };
}
