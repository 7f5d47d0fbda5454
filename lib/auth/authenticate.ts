import { createRemoteJWKSet, decodeJwt, errors as joseErrors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { ServiceUnavailable, Unauthorized } from '../core/errors.ts';
import type { Principal } from './principal.ts';
import type { TrustedIssuer } from './trusted-issuer.ts';

/**
 * Bearer-token authentication against a tenant's trusted issuers. Runs inside each function (not as
 * an API Gateway authorizer) because Key Vault clients need a 401 carrying the challenge header to
 * start their token flow, which an API Gateway authorizer cannot return.
 */
const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
/** Clock skew allowed between Coffer and the identity provider, on `exp`, `nbf` and `iat` alike. */
export const CLOCK_TOLERANCE_SECONDS = 300;
/**
 * The longest lifetime (`exp - iat`, and `exp - nbf`) a token may claim. Entra issues access tokens
 * for 60 to 90 minutes (up to 28 hours only for configured lifetimes, which Key Vault clients never
 * need); a longer-lived token is a minted credential, not one an identity provider hands a client.
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;
/** Claims every token must carry: `tid` ties it to a tenant, `iat` bounds its lifetime. `iss` and `aud` are required by their checks. */
const REQUIRED_CLAIMS = ['exp', 'iat', 'tid'];

/**
 * A verified token's claims are kept, by the token's exact string, until the earlier of its `exp`
 * (without the clock tolerance) and this long after it was verified: a client sends the same token
 * for up to an hour, and verifying its signature again is the largest CPU cost of a warm request
 * (docs/adr/0012-verified-token-cache.md). Only successful verifications are kept.
 */
const VERIFIED_TOKEN_TTL_MS = 5 * 60_000;
const MAX_VERIFIED_TOKENS = 1_000;

export interface AuthenticatorOptions {
  /** The clock: token expiry and the cache's lifetime are judged by it. */
  now?: () => number;
  /** Where an issuer's signing keys come from; by default its JWKS endpoint. */
  keySet?: (issuer: TrustedIssuer) => JWTVerifyGetKey;
}

/**
 * The data plane's tokens carry the vault audience, a managed HSM pool's the Managed HSM audience
 * (`https://managedhsm.<vault domain>`, as Azure's is `https://managedhsm.azure.net`), the management
 * plane's the management audience: none reaches another.
 */
export type Audience = 'data' | 'managedHsm' | 'management';

/** Azure's own resources, which an issuer's configured audiences may name: a pool's token is Managed HSM's where a vault's is Key Vault's. */
const AZURE_VAULT_RESOURCE = 'https://vault.azure.net';
const AZURE_MANAGED_HSM_RESOURCE = 'https://managedhsm.azure.net';

interface VerifiedToken {
  issuer: TrustedIssuer;
  audience: Audience;
  payload: JWTPayload;
  expiresAt: number;
}

/**
 * Where a data-plane request reached its vault: `port` is the port of the vault's canonical URL
 * (lib/vaults/directory.ts), absent for 443. SDKs that verify the challenge (Python's) compare the
 * vault's host with its port to the challenge's resource, so on a port the resource names it too.
 */
export interface VaultOrigin {
  port?: number;
}

/** How long the identity provider's key set may take to arrive (jose's `timeoutDuration`). */
const KEY_SET_FETCH_BUDGET_MS = 3_000;

export class TokenAuthenticator {
  /** One JWKS per issuer per container; jose caches keys and refetches on an unknown kid. */
  private readonly keySets = new Map<string, JWTVerifyGetKey>();
  private readonly verified = new LRUCache<string, VerifiedToken>({ max: MAX_VERIFIED_TOKENS });
  private readonly now: () => number;
  private readonly keySetOf: (issuer: TrustedIssuer) => JWTVerifyGetKey;

  constructor(
    private readonly issuers: readonly TrustedIssuer[],
    private readonly vaultDomain: string,
    private readonly managementAudience: string,
    options: AuthenticatorOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.keySetOf = options.keySet ?? ((issuer) => this.remoteKeySet(issuer));
  }

  /** The WWW-Authenticate value for a vault (or, with the `managedHsm` audience, a pool) of this tenant, reached at `origin`. */
  challenge(tenantId: string, origin: VaultOrigin = {}, audience: Audience = 'data'): string {
    const issuer = this.issuerOf(tenantId);
    const authority = issuer?.authority ?? `https://login.microsoftonline.com/${tenantId}`;
    return `Bearer authorization="${authority}", resource="${this.resource(origin, audience)}"`;
  }

  /**
   * The vault domain's resource: `https://<vault domain>`, or a pool's `https://managedhsm.<vault
   * domain>`, with the vault's or pool's port when its URL has one.
   */
  private resource(origin: VaultOrigin, audience: Audience = 'data'): string {
    const domain = audience === 'managedHsm' ? `managedhsm.${this.vaultDomain}` : this.vaultDomain;
    return `https://${domain}${origin.port === undefined ? '' : `:${origin.port}`}`;
  }

  /**
   * A pool's audiences follow its issuer's vault audiences, so no configuration changes: where the
   * issuer accepts the vault domain's resource, the pool's (`https://managedhsm.<vault domain>`, and
   * its port-qualified form on a port); where it accepts Azure's vault resource, Azure's Managed HSM one.
   */
  private managedHsmAudiences(issuer: TrustedIssuer, origin: VaultOrigin): string[] {
    const audiences: string[] = [];
    if (issuer.audiences.includes(this.resource({}))) {
      audiences.push(this.resource({}, 'managedHsm'));
      if (origin.port !== undefined) audiences.push(this.resource(origin, 'managedHsm'));
    }
    if (issuer.audiences.includes(AZURE_VAULT_RESOURCE)) audiences.push(AZURE_MANAGED_HSM_RESOURCE);
    return audiences;
  }

  /**
   * The audiences a data-plane token may carry: the issuer's (never the management audience) and, for
   * a vault on a port, the port-qualified resource its challenge names, but only as the port-qualified
   * form of the vault domain's resource the issuer already accepts: no other origin, no other port.
   */
  private dataAudiences(issuer: TrustedIssuer, origin: VaultOrigin): string[] {
    const configured = issuer.audiences.filter((a) => a !== this.managementAudience);
    const unported = this.resource({});
    if (origin.port === undefined || !configured.includes(unported)) return configured;
    return [...configured, this.resource(origin)];
  }

  /**
   * `tenantId` undefined: the tenant the token names (`tid`), for management requests that name no
   * subscription; its issuer must still be a trusted one and verify the token.
   */
  async authenticate(
    authorizationHeader: string | undefined,
    requestTenant: string | undefined,
    audience: Audience = 'data',
    origin: VaultOrigin = {},
  ): Promise<Principal> {
    const token = bearerToken(authorizationHeader);
    const tenantId = requestTenant ?? (token ? claimedTenant(token) : undefined) ?? '';
    const fail = (message: string) => new Unauthorized(message, { 'WWW-Authenticate': this.challenge(tenantId, origin, audience) });
    if (!token) throw fail('AKV10000: Request is missing a Bearer or PoP token.');
    const issuer = this.issuerOf(tenantId);
    if (!issuer) throw fail("AKV10032: Invalid issuer. The vault's tenant has no trusted issuer.");
    const audiences =
      audience === 'management'
        ? [this.managementAudience]
        : audience === 'managedHsm'
          ? this.managedHsmAudiences(issuer, origin)
          : this.dataAudiences(issuer, origin);
    let payload: JWTPayload;
    try {
      payload = await this.verify(token, issuer, audience, audiences);
    } catch (error) {
      throw this.translate(error, fail);
    }
    // Checked on every request, cached or not: the token's tenant against this request's vault.
    if (typeof payload.tid !== 'string') throw fail('AKV10012: The token has no tenant (tid) claim.');
    if (payload.tid.toLowerCase() !== tenantId.toLowerCase()) {
      throw fail('AKV10032: Invalid issuer. The token was issued for another tenant.');
    }
    const objectId = typeof payload.oid === 'string' ? payload.oid : payload.sub;
    if (!objectId) throw fail('AKV10015: The token has no object id (oid) or subject.');
    const appId = typeof payload.appid === 'string' ? payload.appid : typeof payload.azp === 'string' ? payload.azp : undefined;
    const upn = typeof payload.upn === 'string' ? payload.upn : undefined;
    return { tenantId, objectId, issuer: issuer.issuer, ...(appId ? { appId } : {}), ...(upn ? { upn } : {}) };
  }

  /** The token's claims once its signature, issuer, audience, times and lifetime are verified for this issuer. */
  private async verify(token: string, issuer: TrustedIssuer, audience: Audience, audiences: readonly string[]): Promise<JWTPayload> {
    const now = this.now();
    const cached = this.verified.get(token);
    // The same string verified for another issuer (another tenant's) or plane proves nothing here, nor
    // one verified at another vault port: its audience is checked against this request's again.
    if (
      cached &&
      cached.issuer === issuer &&
      cached.audience === audience &&
      cached.expiresAt > now &&
      audienceAmong(cached.payload.aud, audiences)
    ) {
      return cached.payload;
    }
    const { payload } = await jwtVerify(token, this.keySet(issuer), {
      issuer: issuer.issuer,
      audience: [...audiences],
      algorithms: ALLOWED_ALGORITHMS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: REQUIRED_CLAIMS,
      // jose refuses an `iat` further in the future than the tolerance only when a maximum age is set.
      maxTokenAge: MAX_TOKEN_LIFETIME_SECONDS,
      currentDate: new Date(now),
    });
    assertLifetime(payload);
    // exp is a required claim: a token accepted only within the clock tolerance is not kept.
    const expiresAt = Math.min((payload.exp ?? 0) * 1000, now + VERIFIED_TOKEN_TTL_MS);
    if (expiresAt > now) this.verified.set(token, { issuer, audience, payload, expiresAt });
    else if (cached) this.verified.delete(token);
    return payload;
  }

  private issuerOf(tenantId: string): TrustedIssuer | undefined {
    return this.issuers.find((i) => i.tenantId.toLowerCase() === tenantId.toLowerCase());
  }

  private keySet(issuer: TrustedIssuer): JWTVerifyGetKey {
    let keySet = this.keySets.get(issuer.jwksUri);
    if (!keySet) {
      keySet = this.keySetOf(issuer);
      this.keySets.set(issuer.jwksUri, keySet);
    }
    return keySet;
  }

  private remoteKeySet(issuer: TrustedIssuer): JWTVerifyGetKey {
    // The fetch has the same 3 s budget as every DynamoDB and KMS call (README "Dependency bounds"),
    // so a request that waits on an unanswering identity provider still answers 503 well inside the
    // function's timeout, together with the calls it makes after.
    return createRemoteJWKSet(new URL(issuer.jwksUri), {
      timeoutDuration: KEY_SET_FETCH_BUDGET_MS,
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
    });
  }

  /**
   * An unreachable identity provider is our outage, not the caller's bad token: 503 so clients retry
   * instead of discarding a good token.
   */
  private translate(error: unknown, fail: (message: string) => Unauthorized): Error {
    if (error instanceof TokenLifetimeTooLong) return fail(error.message);
    if (error instanceof joseErrors.JWTExpired) return fail('AKV10013: Token has expired.');
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      if (error.reason === 'missing') return fail(`AKV10012: The token has no '${error.claim}' claim.`);
      if (error.claim === 'aud') return fail('AKV10022: Invalid audience.');
      if (error.claim === 'iat') return fail('AKV10013: Token is issued in the future.');
      if (error.claim === 'iss') return fail('AKV10032: Invalid issuer.');
      if (error.claim === 'nbf') return fail('AKV10013: Token is not yet valid.');
      return fail(`AKV10012: Token claim '${error.claim}' is invalid.`);
    }
    if (error instanceof joseErrors.JWKSTimeout) return new ServiceUnavailable('The identity provider did not answer in time.');
    if (error instanceof joseErrors.JWKSInvalid) return new ServiceUnavailable('The identity provider returned an unusable key set.');
    if (error instanceof joseErrors.JOSEAlgNotAllowed) return fail('AKV10012: Token signing algorithm is not allowed.');
    if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey) {
      return fail('AKV10012: Token signature is invalid.');
    }
    if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JOSENotSupported) {
      return fail('AKV10012: Token is malformed.');
    }
    if (error instanceof joseErrors.JOSEError && /JSON Web Key Set/i.test(error.message)) {
      return new ServiceUnavailable('The identity provider is unavailable.');
    }
    if (error instanceof joseErrors.JOSEError) return fail('AKV10012: Token is invalid.');
    // Network failures while fetching the key set.
    return new ServiceUnavailable('The identity provider is unavailable.');
  }
}

class TokenLifetimeTooLong extends Error {}

/** `exp - iat` and `exp - nbf` within the stated maximum: both are signed, so this holds for every later use of the token. */
function assertLifetime(payload: JWTPayload): void {
  const exp = payload.exp ?? 0;
  for (const start of [payload.iat, payload.nbf]) {
    if (start !== undefined && exp - start > MAX_TOKEN_LIFETIME_SECONDS) {
      throw new TokenLifetimeTooLong(`AKV10013: Token lifetime exceeds ${MAX_TOKEN_LIFETIME_SECONDS / 3600} hours.`);
    }
  }
}

function audienceAmong(aud: JWTPayload['aud'], audiences: readonly string[]): boolean {
  return (Array.isArray(aud) ? aud : [aud]).some((a) => typeof a === 'string' && audiences.includes(a));
}

/** The `tid` a token claims, unverified: it only chooses the issuer that must then verify the token. */
function claimedTenant(token: string): string | undefined {
  try {
    const { tid } = decodeJwt(token);
    return typeof tid === 'string' ? tid : undefined;
  } catch {
    return undefined;
  }
}

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+([A-Za-z0-9\-_.~+/]+=*)\s*$/i.exec(header);
  return match?.[1];
}
