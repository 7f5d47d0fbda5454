import { Unauthorized, VaultError } from '../../core/errors.ts';
import { type Event, header, hostOf, type Middleware } from '../request.ts';
import type { Principal } from '../../auth/principal.ts';
import type { VaultOrigin } from '../../auth/authenticate.ts';
import type { PipelineServices, TokenAudience } from '../services.ts';

interface OriginAwareAuthenticator {
  authenticate(
    authorizationHeader: string | undefined,
    tenantId: string | undefined,
    audience: TokenAudience,
    origin: VaultOrigin,
  ): Promise<Principal>;
}

/**
 * The Bearer token, verified against the request tenant's trusted issuers for the plane's audience.
 * It runs before anything looks at the api-version or the body: SDK clients send their first request
 * without a token and need the 401 challenge to start.
 */
export function authenticate(services: () => PipelineServices, audience: TokenAudience): Middleware {
  return {
    before: async (request) => {
      const state = request.context.coffer;
      const tenant = state.vault?.tenantId ?? state.tenantId;
      try {
        // TokenAuthenticator takes the vault's origin too; an authenticator without the parameter ignores it.
        const authenticator: OriginAwareAuthenticator = services().authenticator;
        const origin = audience === 'management' ? {} : vaultOrigin(request.event);
        state.principal = await authenticator.authenticate(header(request.event, 'authorization'), tenant, audience, origin);
      } catch (error) {
        throw audience === 'management' && error instanceof Unauthorized ? armUnauthorized(error) : error;
      }
      state.tenantId = state.principal.tenantId;
    },
  };
}

/**
 * The port of the vault's (or pool's) URL: by now the context middleware has replaced the Host header
 * with the canonical host, so this is the directory's port, not whatever the caller wrote.
 */
function vaultOrigin(event: Event): VaultOrigin {
  const port = portOfHost(hostOf(event));
  return port ? { port: Number(port) } : {};
}

/** The port of a host, parsed once for the host a container keeps being asked for (its vault's) rather than once per request. */
let lastHost: { host: string; port: string } | undefined;
function portOfHost(host: string): string {
  if (lastHost?.host !== host) lastHost = { host, port: new URL(`https://${host}`).port };
  return lastHost.port;
}

/** ARM's 401: its own codes, and a challenge naming the authority without a vault resource. */
function armUnauthorized(error: Unauthorized): VaultError {
  const missing = error.message.startsWith('AKV10000');
  const description = error.message.replace(/^AKV\d+: /, '');
  // A token for another audience (a vault's, say) has a code of its own in ARM.
  const wrongAudience = error.message.startsWith('AKV10022');
  const challenge = error.headers['WWW-Authenticate'] ?? '';
  const authority = /authorization="([^"]*)"/.exec(challenge)?.[1] ?? '';
  return new VaultError(
    401,
    missing ? 'AuthenticationFailed' : wrongAudience ? 'InvalidAuthenticationTokenAudience' : 'InvalidAuthenticationToken',
    missing
      ? "Authentication failed. The 'Authorization' header is missing."
      : wrongAudience
        ? 'The access token has been obtained for wrong audience or resource. It should exactly match the management audience.'
        : `The access token is invalid: ${description}`,
    undefined,
    {
      'WWW-Authenticate': `Bearer authorization_uri="${authority}", error="invalid_token", error_description="${missing ? 'The authentication failed because of missing Authorization header.' : description}"`,
    },
  );
}
