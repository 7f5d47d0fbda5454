import { randomUUID } from 'node:crypto';
import type { Vault } from '../../vaults/vault.ts';
import { type Event, hostOf, type Middleware } from '../request.ts';
import type { Route } from '../routes.ts';
import type { PipelineServices } from '../services.ts';

/** How a plane finds the vault a request addresses. */
export type VaultLocator = (event: Event, services: PipelineServices) => Promise<Vault>;

/** The data plane: the vault is the Host header's (`<vault>.<vault domain>`, or a host alias). */
export const vaultFromHost: VaultLocator = (event, services) => services.vaults.resolve(hostOf(event));

/** First of all: the request id and start time every answer and audit record carry, then the vault. */
export function context(route: Route, services: () => PipelineServices, locateVault: VaultLocator): Middleware {
  return {
    before: async (request) => {
      request.context.coffer = { requestId: randomUUID(), startedAt: Date.now(), route };
      request.context.coffer.vault = await locateVault(request.event, services());
    },
  };
}
