/**
 * The App Service managed identity endpoint (IDENTITY_ENDPOINT / IDENTITY_HEADER, api-version
 * 2019-08-01) that ManagedIdentityCredential uses: the system-assigned identity, or a user-assigned
 * one chosen by client_id or object_id.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IssuerUrls } from './discovery.ts';
import { sendJson } from './http.ts';
import type { ManagedIdentityRecord, Registry } from './registry.ts';
import { isValidResource, type SigningKey } from './tokens.ts';

export const MSI_PATH = '/msi/token';
const MSI_API_VERSION = '2019-08-01';

export interface ManagedIdentityEndpoint {
  registry: Registry;
  signingKey: SigningKey;
  urls: IssuerUrls;
  /** SHA-256 of the IDENTITY_HEADER value: compared in constant time, whatever length is presented. */
  identityHeaderDigest: Buffer;
}

/** Answers a managed identity token request; returns a short outcome for the request log. */
export async function handleManagedIdentityRequest(
  endpoint: ManagedIdentityEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  correlationId: string,
): Promise<string> {
  // App Service answers with {statusCode, message, correlationId}; msal-node reads
  // `message` into the error description. Never 404 here: @azure/identity retries
  // 404/410 from managed identity endpoints with a long back-off.
  const fail = (status: number, message: string) => {
    sendJson(res, status, { statusCode: status, message, correlationId }, { noStore: true });
    return `msi-${status}`;
  };
  if (req.method !== 'GET') return fail(405, `The managed identity endpoint only accepts GET requests.`);
  const presented = req.headers['x-identity-header'];
  if (typeof presented !== 'string' || presented.length === 0) return fail(400, 'The X-IDENTITY-HEADER header is missing.');
  if (!timingSafeEqual(sha256(presented), endpoint.identityHeaderDigest)) return fail(401, 'The X-IDENTITY-HEADER header does not match.');

  const apiVersion = url.searchParams.get('api-version');
  if (apiVersion !== MSI_API_VERSION) return fail(400, `Unsupported api-version '${apiVersion ?? ''}'; use ${MSI_API_VERSION}.`);
  const resource = url.searchParams.get('resource');
  if (!resource) return fail(400, "The 'resource' query parameter is required.");
  if (!isValidResource(resource)) return fail(400, `The resource '${resource}' is not a valid resource identifier.`);
  if (url.searchParams.has('mi_res_id') || url.searchParams.has('msi_res_id')) {
    return fail(400, 'User-assigned identities are selected by client_id or object_id here; mi_res_id is not supported.');
  }

  const { registry } = endpoint;
  const clientId = url.searchParams.get('client_id');
  const objectId = url.searchParams.get('object_id');
  let identity: ManagedIdentityRecord | undefined;
  if (clientId) identity = registry.managedIdentity(clientId);
  else if (objectId) identity = registry.managedIdentityByObjectId(objectId);
  else identity = registry.systemAssignedIdentity();
  if (!identity) return fail(400, 'Unable to load the proper Managed Identity.');

  const { token, expiresAt } = await endpoint.signingKey.mintAccessToken({
    issuer: endpoint.urls.issuer(identity.tenantId),
    tenantId: identity.tenantId,
    audience: resource,
    clientId: identity.clientId,
    objectId: identity.objectId,
    clientAuthMethod: '2',
  });
  // App Service 2019-08-01 returns expires_on as a string of epoch seconds.
  sendJson(
    res,
    200,
    { access_token: token, expires_on: String(expiresAt), resource, token_type: 'Bearer', client_id: identity.clientId },
    { noStore: true },
  );
  return 'msi';
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
