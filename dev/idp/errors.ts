import { randomUUID } from 'node:crypto';

/**
 * An error in the shape Microsoft Entra ID returns from its token endpoint. MSAL surfaces
 * `error`, `error_description` and `error_codes` to callers (and @azure/identity puts the
 * AADSTS text into exception messages), so code written against the real service sees
 * the same failures here.
 */
export class EntraError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly code: number,
    readonly description: string,
  ) {
    super(`AADSTS${code}: ${description}`);
  }

  body(correlationId: string): Record<string, unknown> {
    const traceId = randomUUID();
    const timestamp = entraTimestamp(new Date());
    return {
      error: this.error,
      error_description: `AADSTS${this.code}: ${this.description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [this.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${this.code}`,
    };
  }
}

/** Entra formats timestamps as "2024-01-31 12:34:56Z". */
function entraTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

export const entraErrors = {
  missingParameter: (name: string) =>
    new EntraError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`),
  // Discovery answers an unknown tenant with invalid_tenant, the token endpoint with invalid_request.
  tenantNotFound: (tenant: string, error: 'invalid_tenant' | 'invalid_request' = 'invalid_tenant') =>
    new EntraError(
      400,
      error,
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    ),
  tenantRequired: (tenant: string) =>
    new EntraError(
      400,
      'invalid_request',
      90002,
      `Tenant '${tenant}' cannot be used with the client credentials grant; use the tenant ID of the application's directory.`,
    ),
  unsupportedGrantType: (grantType: string) =>
    new EntraError(
      400,
      'unsupported_grant_type',
      70003,
      `The app requested an unsupported grant type '${grantType}'. Only 'client_credentials' is supported by the development identity provider.`,
    ),
  postRequired: (method: string) =>
    new EntraError(400, 'invalid_request', 900561, `The endpoint only accepts POST requests. Received a ${method} request.`),
  unknownClient: (clientId: string, tenantId: string) =>
    new EntraError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    ),
  missingCredential: () =>
    new EntraError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."),
  ambiguousCredential: () => new EntraError(400, 'invalid_request', 7000218, "Provide either 'client_assertion' or 'client_secret', not both."),
  invalidSecret: (clientId: string) =>
    new EntraError(
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    ),
  unsupportedAssertionType: (type: string) =>
    new EntraError(
      400,
      'invalid_request',
      7000218,
      `Unsupported client_assertion_type '${type}'; expected 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.`,
    ),
  malformedAssertion: () => new EntraError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.'),
  unsupportedAssertionAlgorithm: (alg: string) =>
    new EntraError(401, 'invalid_client', 5002738, `Invalid JWT token. '${alg}' is not a supported signature algorithm.`),
  unknownCertificate: (clientId: string, thumbprint: string) =>
    new EntraError(
      401,
      'invalid_client',
      700027,
      `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}', Please check the keys configured for app Id '${clientId}'.]`,
    ),
  expiredCertificate: (clientId: string) =>
    new EntraError(401, 'invalid_client', 700027, `The certificate used to sign the client assertion for app '${clientId}' has expired.`),
  assertionSignature: () => new EntraError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.'),
  assertionClientMismatch: () =>
    new EntraError(401, 'invalid_client', 700021, "Client assertion application identifier doesn't match 'client_id' parameter."),
  assertionAudience: () => new EntraError(401, 'invalid_client', 700023, 'Client assertion audience claim does not match Realm issuer.'),
  assertionTime: () => new EntraError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.'),
  assertionReplay: () =>
    new EntraError(
      401,
      'invalid_client',
      50013,
      "Assertion failed: the client assertion's 'jti' was already used. Client assertions are single-use.",
    ),
  invalidScope: (scope: string) =>
    new EntraError(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    ),
  multipleResources: (scope: string) =>
    new EntraError(
      400,
      'invalid_scope',
      70011,
      `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid. A token can be issued for a single resource only.`,
    ),
  invalidResource: (resource: string, tenantId: string) =>
    new EntraError(
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${resource} was not found in the tenant named ${tenantId}. Resources must be an absolute https URI or an application ID (GUID).`,
    ),
  unsupportedMediaType: () =>
    new EntraError(
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'grant_type'. Send it as application/x-www-form-urlencoded.",
    ),
};
