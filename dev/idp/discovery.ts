/**
 * The URLs a tenant's issuer publishes and its OpenID Connect discovery document, in the forms MSAL
 * requests (v2.0 and v1 paths, and the tenant aliases).
 */

// Tenant aliases Entra serves discovery for; their documents carry a {tenantid} placeholder.
export const TENANT_ALIASES = new Set(['common', 'organizations', 'consumers']);

export interface IssuerUrls {
  authorityHost: string;
  issuer(tenant: string): string;
  jwks(tenant: string, v1?: boolean): string;
  token(tenant: string, v1?: boolean): string;
  authorize(tenant: string, v1?: boolean): string;
}

export function issuerUrls(authorityHost: string): IssuerUrls {
  return {
    authorityHost,
    issuer: (tenant) => `${authorityHost}/${tenant}/v2.0`,
    jwks: (tenant, v1 = false) => `${authorityHost}/${tenant}/discovery/${v1 ? '' : 'v2.0/'}keys`,
    token: (tenant, v1 = false) => `${authorityHost}/${tenant}/oauth2/${v1 ? '' : 'v2.0/'}token`,
    authorize: (tenant, v1 = false) => `${authorityHost}/${tenant}/oauth2/${v1 ? '' : 'v2.0/'}authorize`,
  };
}

/** A tenant as a request names it: its id, or an alias whose documents use the {tenantid} placeholder. */
export interface RequestedTenant {
  id: string;
  placeholder: boolean;
}

export function discoveryDocument(urls: IssuerUrls, host: string, tenant: RequestedTenant, v1: boolean): Record<string, unknown> {
  const { authorityHost } = urls;
  // MSAL takes the tenant from the first path segment of authorization_endpoint and
  // substitutes {tenant}/{tenantid} in the other values, so the path segments carry the
  // requested tenant and only the issuer of alias documents uses the placeholder.
  const issuerTenant = tenant.placeholder ? '{tenantid}' : tenant.id;
  return {
    issuer: urls.issuer(issuerTenant),
    authorization_endpoint: urls.authorize(tenant.id, v1),
    token_endpoint: urls.token(tenant.id, v1),
    jwks_uri: urls.jwks(tenant.id, v1),
    device_authorization_endpoint: `${authorityHost}/${tenant.id}/oauth2/${v1 ? '' : 'v2.0/'}devicecode`,
    end_session_endpoint: `${authorityHost}/${tenant.id}/oauth2/${v1 ? '' : 'v2.0/'}logout`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256'],
    grant_types_supported: ['client_credentials'],
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid', 'azp', 'appid', 'idtyp', 'ver', 'uti'],
    request_uri_parameter_supported: false,
    tenant_region_scope: null,
    cloud_instance_name: host,
  };
}
