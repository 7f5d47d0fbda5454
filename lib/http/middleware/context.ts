import { randomUUID } from 'node:crypto';
import { VaultError } from '../../core/errors.ts';
import { parseHost } from '../../vaults/directory.ts';
import type { VaultAddress } from '../../vaults/vault.ts';
import { managementScopeOf } from '../management-scope.ts';
import { type Event, hostOf, type Middleware, type RequestState } from '../request.ts';
import type { Route } from '../routes.ts';
import type { PipelineServices, VaultResolver } from '../services.ts';

/** How a plane finds what a request addresses: sets the vault (data plane) or the tenant and scope (management plane). */
export type RequestLocator = (event: Event, services: PipelineServices, state: RequestState) => Promise<void>;

/** The vault directory (lib/vaults/directory.ts) also answers the vault's canonical URL; a resolver that cannot is given the strictly parsed host. */
type LocatingResolver = VaultResolver & { locate?: (host: string | undefined) => Promise<VaultAddress> };

/**
 * The data plane: the vault is the Host header's (`<vault>.<vault domain>`, a host alias, or a claimed
 * local endpoint). The header is then replaced by the vault's canonical host, so that everything built
 * on the host later (object ids, nextLinks, the audit record's request URI) names the vault's own URL
 * and nothing a caller wrote into the header.
 */
export const vaultFromHost: RequestLocator = async (event, services, state) => {
  const vaults: LocatingResolver = services.vaults;
  const requested = hostOf(event);
  let baseUrl: string;
  if (vaults.locate) {
    const address = await vaults.locate(requested);
    state.vault = address.vault;
    baseUrl = address.baseUrl;
  } else {
    const { host } = parseHost(requested);
    state.vault = await vaults.resolve(host);
    baseUrl = `https://${host}`;
  }
  replaceHost(event, hostOfUrl(baseUrl));
};

/**
 * The host of a vault's base URL, parsed once for the URL a container keeps being asked for (its
 * vault's) rather than once per request: a URL parse is a few microseconds of every request.
 */
let lastBaseUrl: { url: string; host: string } | undefined;
function hostOfUrl(baseUrl: string): string {
  if (lastBaseUrl?.url !== baseUrl) lastBaseUrl = { url: baseUrl, host: new URL(baseUrl).host };
  return lastBaseUrl.host;
}

/**
 * The management plane: the tenant is the tenant of the subscription the path names (none for `GET
 * /subscriptions`: the token's own); the vault, when the path names a live one, decides where the
 * audit record goes and whether it is strict.
 */
export const subscriptionFromPath: RequestLocator = async (event, services, state) => {
  // The management plane has one host; its Location headers and nextLinks are built on it, so it is read as strictly.
  replaceHost(event, parseHost(hostOf(event)).host);
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

/** The Host header replaced by the addressed container's canonical host: a pool's locator (lib/runtime/hsm.ts) does as the vault's. */
export function replaceHost(event: Event, host: string): void {
  event.headers ??= {};
  const headers = event.headers;
  // The usual request has one Host header, already named `host` (API Gateway lowercases names): it is
  // overwritten where it is. A delete would turn the headers into a dictionary object, slow for every
  // lookup after it (a request's seven header reads took 2.4 us instead of 0.4).
  let otherSpelling = false;
  for (const name of Object.keys(headers)) if (name !== 'host' && name.toLowerCase() === 'host') otherSpelling = true;
  if (otherSpelling) for (const name of Object.keys(headers)) if (name.toLowerCase() === 'host') delete headers[name];
  headers.host = host;
}

/** First of all: the request id and start time every answer and audit record carry, then what the request addresses. */
export function context(route: Route, services: () => PipelineServices, locate: RequestLocator): Middleware {
  return {
    before: async (request) => {
      request.context.coffer = { requestId: randomUUID(), startedAt: Date.now(), route };
      await locate(request.event, services(), request.context.coffer);
    },
  };
}
