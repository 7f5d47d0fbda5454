/**
 * The v2.0 and v1 token endpoints: the client credentials grant, with the service principal
 * authenticated by client secret (form or Basic) or by a certificate's client assertion
 * (private_key_jwt).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { JWT_BEARER, type ReplayCache, verifyClientAssertion, verifySecret } from './client-auth.ts';
import { type IssuerUrls, TENANT_ALIASES } from './discovery.ts';
import { entraErrors } from './errors.ts';
import { readBody, sendJson } from './http.ts';
import type { Registry, ServicePrincipalRecord } from './registry.ts';
import { GUID, isValidResource, type SigningKey } from './tokens.ts';

// Scopes MSAL may add to any request; they never name a resource.
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);

export interface TokenEndpoint {
  registry: Registry;
  signingKey: SigningKey;
  urls: IssuerUrls;
  /** Client assertions already used: each one is good for one token. */
  replay: ReplayCache;
}

/** Answers a token request; returns a short outcome for the request log, or throws an EntraError. */
export async function handleTokenRequest(
  endpoint: TokenEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  tenantSegment: string,
  v1: boolean,
): Promise<string | undefined> {
  const { registry, signingKey, urls } = endpoint;
  if (TENANT_ALIASES.has(tenantSegment)) throw entraErrors.tenantRequired(tenantSegment);
  const tenant = GUID.test(tenantSegment) ? registry.tenant(tenantSegment) : undefined;
  if (!tenant) throw entraErrors.tenantNotFound(tenantSegment, 'invalid_request');

  const contentType = (req.headers['content-type'] ?? '').toLowerCase();
  const raw = await readBody(req, res);
  if (raw === undefined) return 'body-too-large';
  if (!contentType.startsWith('application/x-www-form-urlencoded')) throw entraErrors.unsupportedMediaType();
  const params = new URLSearchParams(raw);
  const basic = basicCredentials(req.headers.authorization);

  const grantType = params.get('grant_type');
  if (!grantType) throw entraErrors.missingParameter('grant_type');
  if (grantType !== 'client_credentials') throw entraErrors.unsupportedGrantType(grantType);
  const clientId = (params.get('client_id') ?? basic?.clientId ?? '').toLowerCase();
  if (!clientId) throw entraErrors.missingParameter('client_id');

  const resource = v1 ? resourceFromV1(params) : resourceFromScope(params.get('scope'));
  if (!isValidResource(resource)) throw entraErrors.invalidResource(resource, tenant.tenantId);

  const principal = registry.servicePrincipal(clientId);
  if (!principal || principal.tenantId !== tenant.tenantId) throw entraErrors.unknownClient(clientId, tenant.tenantId);
  const authMethod = await authenticateClient(endpoint, principal, params, basic, tenant.tenantId);

  const { token, expiresAt } = await signingKey.mintAccessToken({
    issuer: urls.issuer(tenant.tenantId),
    tenantId: tenant.tenantId,
    audience: resource,
    clientId: principal.clientId,
    objectId: principal.objectId,
    clientAuthMethod: authMethod,
  });
  const expiresIn = expiresAt - Math.floor(Date.now() / 1000);
  const body: Record<string, unknown> = { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token };
  if (v1) Object.assign(body, { expires_on: String(expiresAt), not_before: String(expiresAt - expiresIn), resource });
  sendJson(res, 200, body, { noStore: true });
  return undefined;
}

async function authenticateClient(
  endpoint: TokenEndpoint,
  principal: ServicePrincipalRecord,
  params: URLSearchParams,
  basic: { clientId: string; secret: string } | undefined,
  tenantId: string,
): Promise<'1' | '2'> {
  const secret = params.get('client_secret') ?? basic?.secret ?? null;
  const assertion = params.get('client_assertion');
  if (secret !== null && assertion !== null) throw entraErrors.ambiguousCredential();
  if (secret !== null) {
    for (const record of principal.secrets) {
      if (await verifySecret(secret, record.hash)) return '1';
    }
    throw entraErrors.invalidSecret(principal.clientId);
  }
  if (assertion !== null) {
    const type = params.get('client_assertion_type') ?? '';
    if (type !== JWT_BEARER) throw entraErrors.unsupportedAssertionType(type);
    // MSAL sets aud to the token_endpoint from discovery; Entra also accepts the v1
    // endpoint and the issuer, and so do we.
    const { urls } = endpoint;
    const audiences = [urls.token(tenantId), urls.token(tenantId, true), urls.issuer(tenantId)];
    await verifyClientAssertion(assertion, principal, audiences, endpoint.replay);
    return '2';
  }
  throw entraErrors.missingCredential();
}

function resourceFromScope(scope: string | null): string {
  if (!scope) throw entraErrors.missingParameter('scope');
  const scopes = scope.split(/\s+/).filter((s) => s && !OIDC_SCOPES.has(s));
  if (scopes.length === 0) throw entraErrors.invalidScope(scope);
  if (scopes.length > 1) throw entraErrors.multipleResources(scope);
  const [only = ''] = scopes;
  if (!only.endsWith('/.default')) throw entraErrors.invalidScope(only);
  return only.slice(0, -'/.default'.length);
}

function resourceFromV1(params: URLSearchParams): string {
  const resource = params.get('resource');
  if (resource) return resource;
  // Newer v1 callers send a v2-style scope instead of resource.
  if (params.get('scope')) return resourceFromScope(params.get('scope'));
  throw entraErrors.missingParameter('resource');
}

function basicCredentials(header: string | undefined): { clientId: string; secret: string } | undefined {
  if (!header?.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  // RFC 6749 §2.3.1: both halves are form-urlencoded before being joined.
  const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  try {
    return { clientId: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}
