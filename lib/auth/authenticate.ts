import { createRemoteJWKSet, errors as joseErrors, type JWTPayload, jwtVerify } from 'jose';
import { ServiceUnavailable, Unauthorized } from '../core/errors.ts';
import type { Principal } from './principal.ts';
import type { TrustedIssuer } from './trusted-issuer.ts';

/**
 * Bearer-token authentication against a tenant's trusted issuers. Runs inside each function (not as
 * an API Gateway authorizer) because Key Vault clients need a 401 carrying the challenge header to
 * start their token flow, which an API Gateway authorizer cannot return.
 */
const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const CLOCK_TOLERANCE_SECONDS = 300;

export class TokenAuthenticator {
  /** One JWKS per issuer per container; jose caches keys and refetches on an unknown kid. */
  private readonly keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  constructor(
    private readonly issuers: readonly TrustedIssuer[],
    private readonly vaultDomain: string,
  ) {}

  /** The WWW-Authenticate value for a vault of this tenant. */
  challenge(tenantId: string): string {
    const issuer = this.issuerOf(tenantId);
    const authority = issuer?.authority ?? `https://login.microsoftonline.com/${tenantId}`;
    return `Bearer authorization="${authority}", resource="https://${this.vaultDomain}"`;
  }

  async authenticate(authorizationHeader: string | undefined, tenantId: string): Promise<Principal> {
    const fail = (message: string) => new Unauthorized(message, { 'WWW-Authenticate': this.challenge(tenantId) });
    const token = bearerToken(authorizationHeader);
    if (!token) throw fail('AKV10000: Request is missing a Bearer or PoP token.');
    const issuer = this.issuerOf(tenantId);
    if (!issuer) throw fail("AKV10032: Invalid issuer. The vault's tenant has no trusted issuer.");
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keySet(issuer), {
        issuer: issuer.issuer,
        audience: issuer.audiences,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'iat'],
      }));
    } catch (error) {
      throw this.translate(error, fail);
    }
    const tokenTenant = typeof payload.tid === 'string' ? payload.tid : undefined;
    if (tokenTenant !== undefined && tokenTenant.toLowerCase() !== tenantId.toLowerCase()) {
      throw fail('AKV10032: Invalid issuer. The token was issued for another tenant.');
    }
    const objectId = typeof payload.oid === 'string' ? payload.oid : payload.sub;
    if (!objectId) throw fail('AKV10015: The token has no object id (oid) or subject.');
    const appId = typeof payload.appid === 'string' ? payload.appid : typeof payload.azp === 'string' ? payload.azp : undefined;
    const upn = typeof payload.upn === 'string' ? payload.upn : undefined;
    return { tenantId, objectId, issuer: issuer.issuer, ...(appId ? { appId } : {}), ...(upn ? { upn } : {}) };
  }

  private issuerOf(tenantId: string): TrustedIssuer | undefined {
    return this.issuers.find((i) => i.tenantId.toLowerCase() === tenantId.toLowerCase());
  }

  private keySet(issuer: TrustedIssuer) {
    let keySet = this.keySets.get(issuer.jwksUri);
    if (!keySet) {
      keySet = createRemoteJWKSet(new URL(issuer.jwksUri), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
      this.keySets.set(issuer.jwksUri, keySet);
    }
    return keySet;
  }

  /**
   * An unreachable identity provider is our outage, not the caller's bad token: 503 so clients retry
   * instead of discarding a good token.
   */
  private translate(error: unknown, fail: (message: string) => Unauthorized): Error {
    if (error instanceof joseErrors.JWTExpired) return fail('AKV10013: Token has expired.');
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      if (error.claim === 'aud') return fail('AKV10022: Invalid audience.');
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

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+([A-Za-z0-9\-_.~+/]+=*)\s*$/i.exec(header);
  return match?.[1];
}
