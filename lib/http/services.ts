import type { AuditSink } from '../audit/audit.ts';
import type { Principal } from '../auth/principal.ts';
import type { Vault } from '../vaults/vault.ts';

/**
 * What the request pipeline needs from outside, injected by a composition root (lib/runtime), so the
 * middleware never builds an adapter and is tested with stubs.
 */
export interface PipelineServices {
  vaults: VaultResolver;
  authenticator: Authenticator;
  audit: AuditSink;
  logger: PipelineLogger;
  /** Named in Key Vault's response headers and in RBAC refusals. */
  region: string;
}

/** lib/vaults/directory.ts implements it. */
export interface VaultResolver {
  /** The vault a Host header names; a 404 VaultNotFound for any other host. */
  resolve(host: string | undefined): Promise<Vault>;
  /** The key `$skiptoken` values of this vault are signed with. */
  pagingKey(vault: Vault): Promise<Uint8Array>;
}

/** lib/auth/authenticate.ts implements it: a 401 with the challenge header for a missing or bad token. */
export interface Authenticator {
  authenticate(authorizationHeader: string | undefined, tenantId: string): Promise<Principal>;
}

/** Structured log lines; fields never carry values, key material or tokens. */
export interface PipelineLogger {
  info(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}
