import type { AccessControl } from '../access/access-control.ts';
import type { LoggedAuditSink } from '../audit/log-stream.ts';
import type { Principal } from '../auth/principal.ts';
import type { Vault } from '../vaults/vault.ts';

/**
 * What the request pipeline needs from outside, injected by a composition root (lib/runtime), so the
 * middleware never builds an adapter and is tested with stubs.
 */
export interface PipelineServices {
  vaults: VaultResolver;
  authenticator: Authenticator;
  audit: LoggedAuditSink;
  logger: PipelineLogger;
  /** Named in Key Vault's response headers and in RBAC refusals. */
  region: string;
  /** Every access decision, on both planes (lib/access/access-control.ts). */
  access: Pick<AccessControl, 'authorizeData' | 'authorizeControl'>;
  /** The deployment's subscriptions: a management request's tenant is its subscription's. */
  subscriptions: SubscriptionDirectory;
}

export interface SubscriptionDirectory {
  /** The tenant a subscription belongs to, or undefined for a subscription the deployment does not have. */
  tenantOf(subscriptionId: string): string | undefined;
}

/** Which audience a plane's tokens must carry: the vault's, a managed HSM pool's (docs/adr/0022), or the management plane's (docs/adr/0013). */
export type TokenAudience = 'data' | 'managedHsm' | 'management';

/** lib/vaults/directory.ts implements it. */
export interface VaultResolver {
  /** The vault a Host header names; a 404 VaultNotFound for any other host and for a deleted vault. */
  resolve(host: string | undefined): Promise<Vault>;
  /** A live vault by name (cached like `resolve`), for the management plane's audit and strict-audit choice. */
  get(name: string): Promise<Vault | undefined>;
  /** The key `$skiptoken` values of this vault are signed with. */
  pagingKey(vault: Vault): Promise<Uint8Array>;
}

/** lib/auth/authenticate.ts implements it: a 401 with the challenge header for a missing or bad token. */
export interface Authenticator {
  /**
   * `tenantId` undefined: the token's own tenant, for the management requests that name no
   * subscription (`GET /subscriptions`); it must still be a tenant with a trusted issuer.
   */
  authenticate(authorizationHeader: string | undefined, tenantId: string | undefined, audience: TokenAudience): Promise<Principal>;
}

/** Structured log lines; fields never carry values, key material or tokens. */
export interface PipelineLogger {
  /** The level below which nothing is written (Powertools' `getLevelName`): a debug line is not even built above DEBUG. */
  getLevelName(): string;
  debug(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}
