/**
 * Development identity provider: just enough of Microsoft Entra ID for the official Azure
 * SDK credentials to obtain tokens for the local Coffer stack.
 *
 * - OIDC discovery + JWKS per tenant, in the URL forms MSAL requests;
 * - the v2.0 (and v1) token endpoint with the client credentials grant, authenticating
 *   service principals by client secret or certificate (private_key_jwt);
 * - the App Service managed identity endpoint (IDENTITY_ENDPOINT / IDENTITY_HEADER,
 *   api-version 2019-08-01) used by ManagedIdentityCredential.
 *
 * Everything is served over HTTPS on 127.0.0.1 only, including the managed identity
 * endpoint: @azure/identity accepts http or https there, and HTTPS on the same port keeps
 * IDENTITY_ENDPOINT stable for a fixed port and keeps the header secret off the wire.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createClientAuthCertificate } from '../tls.ts';
import { JWT_BEARER, ReplayCache, certificateThumbprints, hashSecret, newClientSecret, verifyClientAssertion, verifySecret } from './client-auth.ts';
import { EntraError, entraErrors } from './errors.ts';
import { readOrCreateFile, writeFileAtomic } from '../files.ts';
import { Registry } from './registry.ts';
import type { ManagedIdentityRecord, ServicePrincipalRecord } from './registry.ts';
import { SigningKey } from './tokens.ts';

export interface IdentityProviderOptions {
  dataDir: string;
  /** 0 or undefined: an ephemeral port. */
  port?: number;
  tls: { certPem: string; keyPem: string };
  /** Host name in every URL the IdP publishes; must be covered by the TLS certificate. Default 'localhost'. */
  publicHost?: string;
  /** One line per request (method, path, status, AADSTS code). Never secrets, assertions or tokens. */
  log?: (line: string) => void;
}

export interface ServicePrincipal {
  tenantId: string;
  clientId: string;
  objectId: string;
  displayName: string;
  /** Only returned by registerServicePrincipal; only its hash is stored. */
  clientSecret?: string;
  /** PEM with the certificate followed by its PKCS#8 private key, as ClientCertificateCredential wants it. */
  certificateFile?: string;
}

export interface ManagedIdentity {
  tenantId: string;
  clientId: string;
  objectId: string;
  displayName: string;
  systemAssigned: boolean;
}

export interface IdentityProvider {
  /** https://<publicHost>:<port>: the `authorityHost` option of @azure/identity credentials. */
  authorityHost: string;
  /** The `iss` of the tokens minted for the tenant: <authorityHost>/<tenantId>/v2.0. */
  issuer(tenantId: string): string;
  jwksUri(tenantId: string): string;
  tokenEndpoint(tenantId: string): string;
  /** Values for IDENTITY_ENDPOINT / IDENTITY_HEADER. */
  managedIdentity: { endpoint: string; header: string };
  /** A persisted tenant id (GUID), created on first call. */
  ensureDefaultTenant(): Promise<string>;
  createTenant(displayName?: string): Promise<string>;
  /** `secret` defaults to true unless a certificate is requested. */
  registerServicePrincipal(tenantId: string, init: { displayName: string; secret?: boolean; certificate?: boolean }): Promise<ServicePrincipal>;
  /**
   * There is one system-assigned identity (the one the endpoint uses without client_id);
   * registering it again with the same tenant and name returns the existing one.
   */
  registerManagedIdentity(tenantId: string, init: { displayName: string; systemAssigned?: boolean }): Promise<ManagedIdentity>;
  listServicePrincipals(tenantId: string): ServicePrincipal[];
  listManagedIdentities(tenantId: string): ManagedIdentity[];
  close(): Promise<void>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Tenant aliases Entra serves discovery for; their documents carry a {tenantid} placeholder.
const TENANT_ALIASES = new Set(['common', 'organizations', 'consumers']);
const MAX_BODY_BYTES = 64 * 1024;
const MSI_PATH = '/msi/token';
const MSI_API_VERSION = '2019-08-01';
// Scopes MSAL may add to any request; they never name a resource.
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);

export async function startIdentityProvider(options: IdentityProviderOptions): Promise<IdentityProvider> {
  const dataDir = resolve(options.dataDir);
  await mkdir(join(dataDir, 'certificates'), { recursive: true, mode: 0o700 });
  const registry = await Registry.open(join(dataDir, 'registry.json'));
  const signingKey = await SigningKey.load(join(dataDir, 'signing-key.pem'));
  const identityHeader = (await readOrCreateFile(join(dataDir, 'identity-header'), () => randomBytes(32).toString('base64url'))).trim();
  const identityHeaderDigest = sha256(identityHeader);
  const replay = new ReplayCache();
  const log = options.log ?? (() => undefined);

  const server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem, minVersion: 'TLSv1.2' });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.publicHost ?? 'localhost';
  const authorityHost = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const urls = {
    issuer: (tenant: string) => `${authorityHost}/${tenant}/v2.0`,
    jwks: (tenant: string, v1 = false) => `${authorityHost}/${tenant}/discovery/${v1 ? '' : 'v2.0/'}keys`,
    token: (tenant: string, v1 = false) => `${authorityHost}/${tenant}/oauth2/${v1 ? '' : 'v2.0/'}token`,
    authorize: (tenant: string, v1 = false) => `${authorityHost}/${tenant}/oauth2/${v1 ? '' : 'v2.0/'}authorize`,
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = { method: req.method ?? 'GET', path: safePath(req.url) };
    handle(req, res).then(
      (outcome) => log(`${started.method} ${started.path} ${res.statusCode}${outcome ? ` ${outcome}` : ''}`),
      (error: unknown) => {
        log(`${started.method} ${started.path} 500 ${(error as Error).name}`);
        if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: 'Internal error in the development identity provider.' });
        else res.destroy();
      },
    );
  });

  /** Returns a short outcome label for the request log (an AADSTS code on failure). */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
    const url = new URL(req.url ?? '/', authorityHost);
    const method = req.method ?? 'GET';
    const correlationId = correlationIdOf(req);
    res.setHeader('client-request-id', correlationId);
    res.setHeader('x-ms-request-id', randomUUID());

    if (url.pathname === MSI_PATH) return handleManagedIdentity(req, res, url, correlationId);

    const match = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|\.well-known\/openid-configuration|discovery\/v2\.0\/keys|discovery\/keys|oauth2\/v2\.0\/token|oauth2\/token)$/.exec(url.pathname);
    if (!match?.[1] || !match[2]) return notFound(res, url.pathname);
    const tenantSegment = match[1].toLowerCase();
    const route = match[2];

    try {
      if (route.startsWith('oauth2/')) {
        if (method !== 'POST') throw entraErrors.postRequired(method);
        return await handleToken(req, res, tenantSegment, route === 'oauth2/token');
      }
      if (method !== 'GET' && method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        sendJson(res, 405, { error: 'invalid_request', error_description: `${method} is not supported on this endpoint.` });
        return undefined;
      }
      const tenant = resolveTenant(tenantSegment);
      if (route.endsWith('keys')) {
        const issuer = urls.issuer(tenant.placeholder ? '{tenantid}' : tenant.id);
        sendJson(res, 200, { keys: [signingKey.jwk({ issuer })] }, { cacheSeconds: 3600 });
        return undefined;
      }
      sendJson(res, 200, discoveryDocument(tenant, route === '.well-known/openid-configuration'), { cacheSeconds: 3600 });
      return undefined;
    } catch (error) {
      if (!(error instanceof EntraError)) throw error;
      sendJson(res, error.status, error.body(correlationId), { noStore: true });
      return `AADSTS${error.code}`;
    }
  }

  function resolveTenant(segment: string): { id: string; placeholder: boolean } {
    if (TENANT_ALIASES.has(segment)) return { id: segment, placeholder: true };
    if (GUID.test(segment) && registry.tenant(segment)) return { id: segment, placeholder: false };
    throw entraErrors.tenantNotFound(segment);
  }

  function discoveryDocument(tenant: { id: string; placeholder: boolean }, v1: boolean): Record<string, unknown> {
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

  async function handleToken(req: IncomingMessage, res: ServerResponse, tenantSegment: string, v1: boolean): Promise<string | undefined> {
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
    const authMethod = await authenticateClient(principal, params, basic, tenant.tenantId);

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
      const audiences = [urls.token(tenantId), urls.token(tenantId, true), urls.issuer(tenantId)];
      await verifyClientAssertion(assertion, principal, audiences, replay);
      return '2';
    }
    throw entraErrors.missingCredential();
  }

  async function handleManagedIdentity(req: IncomingMessage, res: ServerResponse, url: URL, correlationId: string): Promise<string> {
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
    if (!timingSafeEqual(sha256(presented), identityHeaderDigest)) return fail(401, 'The X-IDENTITY-HEADER header does not match.');

    const apiVersion = url.searchParams.get('api-version');
    if (apiVersion !== MSI_API_VERSION) return fail(400, `Unsupported api-version '${apiVersion ?? ''}'; use ${MSI_API_VERSION}.`);
    const resource = url.searchParams.get('resource');
    if (!resource) return fail(400, "The 'resource' query parameter is required.");
    if (!isValidResource(resource)) return fail(400, `The resource '${resource}' is not a valid resource identifier.`);
    if (url.searchParams.has('mi_res_id') || url.searchParams.has('msi_res_id')) {
      return fail(400, 'User-assigned identities are selected by client_id or object_id here; mi_res_id is not supported.');
    }

    const clientId = url.searchParams.get('client_id');
    const objectId = url.searchParams.get('object_id');
    let identity: ManagedIdentityRecord | undefined;
    if (clientId) identity = registry.managedIdentity(clientId);
    else if (objectId) identity = registry.managedIdentityByObjectId(objectId);
    else identity = registry.systemAssignedIdentity();
    if (!identity) return fail(400, 'Unable to load the proper Managed Identity.');

    const { token, expiresAt } = await signingKey.mintAccessToken({
      issuer: urls.issuer(identity.tenantId),
      tenantId: identity.tenantId,
      audience: resource,
      clientId: identity.clientId,
      objectId: identity.objectId,
      clientAuthMethod: '2',
    });
    // App Service 2019-08-01 returns expires_on as a string of epoch seconds.
    sendJson(res, 200, { access_token: token, expires_on: String(expiresAt), resource, token_type: 'Bearer', client_id: identity.clientId }, { noStore: true });
    return 'msi';
  }

  async function createTenant(displayName = 'Coffer development'): Promise<string> {
    const tenantId = randomUUID();
    await registry.update((draft) => {
      draft.tenants[tenantId] = { tenantId, displayName, createdAt: new Date().toISOString() };
    });
    return tenantId;
  }

  function requireTenant(tenantId: string): string {
    const tenant = registry.tenant(tenantId);
    if (!tenant) throw new Error(`Unknown tenant ${tenantId}; create it with ensureDefaultTenant() or createTenant()`);
    return tenant.tenantId;
  }

  const toServicePrincipal = (record: ServicePrincipalRecord): ServicePrincipal => ({
    tenantId: record.tenantId,
    clientId: record.clientId,
    objectId: record.objectId,
    displayName: record.displayName,
    ...(record.certificateFile ? { certificateFile: join(dataDir, record.certificateFile) } : {}),
  });
  const toManagedIdentity = (record: ManagedIdentityRecord): ManagedIdentity => ({
    tenantId: record.tenantId,
    clientId: record.clientId,
    objectId: record.objectId,
    displayName: record.displayName,
    systemAssigned: record.systemAssigned,
  });

  return {
    authorityHost,
    issuer: (tenantId) => urls.issuer(tenantId.toLowerCase()),
    jwksUri: (tenantId) => urls.jwks(tenantId.toLowerCase()),
    tokenEndpoint: (tenantId) => urls.token(tenantId.toLowerCase()),
    managedIdentity: { endpoint: `${authorityHost}${MSI_PATH}`, header: identityHeader },

    async ensureDefaultTenant() {
      return registry.update((draft) => {
        if (draft.defaultTenantId) return draft.defaultTenantId;
        const tenantId = randomUUID();
        draft.tenants[tenantId] = { tenantId, displayName: 'Coffer development', createdAt: new Date().toISOString() };
        draft.defaultTenantId = tenantId;
        return tenantId;
      });
    },

    createTenant,

    async registerServicePrincipal(tenantIdInput, init) {
      const tenantId = requireTenant(tenantIdInput);
      const displayName = requireName(init.displayName);
      const clientId = randomUUID();
      const objectId = randomUUID();
      const createdAt = new Date().toISOString();
      const record: ServicePrincipalRecord = { tenantId, clientId, objectId, displayName, createdAt, secrets: [], certificates: [] };

      let clientSecret: string | undefined;
      if (init.secret ?? !init.certificate) {
        clientSecret = newClientSecret();
        record.secrets.push({ keyId: randomUUID(), hash: await hashSecret(clientSecret), createdAt });
      }
      if (init.certificate) {
        const { certPem, keyPem } = await createClientAuthCertificate(displayName);
        record.certificates.push({ keyId: randomUUID(), certificatePem: certPem, ...certificateThumbprints(certPem) });
        record.certificateFile = join('certificates', `${clientId}.pem`);
        // The private key half goes to a file for the client (0600), never into the registry.
        await writeFileAtomic(join(dataDir, record.certificateFile), certPem + keyPem, 0o600);
      }
      await registry.update((draft) => {
        draft.servicePrincipals[clientId] = record;
      });
      return { ...toServicePrincipal(record), ...(clientSecret ? { clientSecret } : {}) };
    },

    async registerManagedIdentity(tenantIdInput, init) {
      const tenantId = requireTenant(tenantIdInput);
      const displayName = requireName(init.displayName);
      const systemAssigned = init.systemAssigned ?? false;
      const record = await registry.update((draft) => {
        if (systemAssigned) {
          const existing = Object.values(draft.managedIdentities).find((mi) => mi.systemAssigned);
          if (existing) {
            if (existing.tenantId === tenantId && existing.displayName === displayName) return existing;
            throw new Error(`A system-assigned managed identity already exists (${existing.displayName}, client id ${existing.clientId})`);
          }
        }
        const created: ManagedIdentityRecord = {
          tenantId,
          clientId: randomUUID(),
          objectId: randomUUID(),
          displayName,
          systemAssigned,
          createdAt: new Date().toISOString(),
        };
        draft.managedIdentities[created.clientId] = created;
        return created;
      });
      return toManagedIdentity(record);
    },

    listServicePrincipals(tenantId) {
      const wanted = tenantId.toLowerCase();
      return Object.values(registry.current.servicePrincipals).filter((sp) => sp.tenantId === wanted).map(toServicePrincipal);
    },

    listManagedIdentities(tenantId) {
      const wanted = tenantId.toLowerCase();
      return Object.values(registry.current.managedIdentities).filter((mi) => mi.tenantId === wanted).map(toManagedIdentity);
    },

    close() {
      return new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        // Keep-alive connections from SDK clients would otherwise hold close() open.
        server.closeAllConnections();
      });
    },
  };
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

function isValidResource(resource: string): boolean {
  if (GUID.test(resource)) return true;
  try {
    const url = new URL(resource);
    return (url.protocol === 'https:' || url.protocol === 'api:') && resource.length <= 2048;
  } catch {
    return false;
  }
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

function correlationIdOf(req: IncomingMessage): string {
  const given = req.headers['client-request-id'];
  // Echo the caller's id (MSAL sends one) so errors can be matched to client logs.
  return typeof given === 'string' && GUID.test(given) ? given.toLowerCase() : randomUUID();
}

function readBody(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const tooLarge = () => {
      settled = true;
      req.pause();
      // Closing the connection discards the rest of the body instead of reading it.
      res.setHeader('Connection', 'close');
      sendJson(res, 413, { error: 'invalid_request', error_description: 'Request body too large.' });
      resolveBody(undefined);
    };
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return tooLarge();
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return tooLarge();
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolveBody(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
  });
}

function notFound(res: ServerResponse, path: string): string {
  sendJson(res, 404, { error: 'not_found', error_description: `No such endpoint on the development identity provider: ${path}` });
  return 'not-found';
}

function sendJson(res: ServerResponse, status: number, body: unknown, options: { noStore?: boolean; cacheSeconds?: number } = {}): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (options.cacheSeconds !== undefined && !options.noStore) {
    res.setHeader('Cache-Control', `max-age=${options.cacheSeconds}, private`);
  } else {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
  }
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function safePath(rawUrl: string | undefined): string {
  // The query string of the managed identity endpoint is harmless, but token requests are
  // POSTs and other clients might put anything in a query: log the path only.
  const path = (rawUrl ?? '/').split('?')[0] ?? '/';
  return path.length > 200 ? `${path.slice(0, 200)}...` : path;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function requireName(displayName: string): string {
  const name = displayName?.trim();
  if (!name) throw new Error('displayName is required');
  return name;
}
