/**
 * Development identity provider: just enough of Microsoft Entra ID for the official Azure
 * SDK credentials to obtain tokens for the local Coffer stack.
 *
 * - OIDC discovery + JWKS per tenant, in the URL forms MSAL requests (discovery.ts);
 * - the v2.0 (and v1) token endpoint with the client credentials grant, authenticating
 *   service principals by client secret or certificate (token-endpoint.ts);
 * - the App Service managed identity endpoint (IDENTITY_ENDPOINT / IDENTITY_HEADER,
 *   api-version 2019-08-01) used by ManagedIdentityCredential (managed-identity.ts);
 * - registration of tenants, service principals and managed identities (directory.ts).
 *
 * Everything is served over HTTPS on 127.0.0.1 only, including the managed identity
 * endpoint: @azure/identity accepts http or https there, and HTTPS on the same port keeps
 * IDENTITY_ENDPOINT stable for a fixed port and keeps the header secret off the wire.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { readOrCreateFile } from '../files.ts';
import { SERVER_TLS_POLICY } from '../tls-policy.ts';
import { ReplayCache } from './client-auth.ts';
import { type Directory, directory } from './directory.ts';
import { discoveryDocument, issuerUrls, type RequestedTenant, TENANT_ALIASES } from './discovery.ts';
import { EntraError, entraErrors } from './errors.ts';
import { correlationIdOf, notFound, safePath, sendJson } from './http.ts';
import { handleManagedIdentityRequest, MSI_PATH, sha256 } from './managed-identity.ts';
import { Registry } from './registry.ts';
import { handleTokenRequest } from './token-endpoint.ts';
import { GUID, SigningKey } from './tokens.ts';

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

export interface IdentityProvider extends Directory {
  /** https://<publicHost>:<port>: the `authorityHost` option of @azure/identity credentials. */
  authorityHost: string;
  /** The `iss` of the tokens minted for the tenant: <authorityHost>/<tenantId>/v2.0. */
  issuer(tenantId: string): string;
  jwksUri(tenantId: string): string;
  tokenEndpoint(tenantId: string): string;
  /** Values for IDENTITY_ENDPOINT / IDENTITY_HEADER. */
  managedIdentity: { endpoint: string; header: string };
  close(): Promise<void>;
}

const ROUTE =
  /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|\.well-known\/openid-configuration|discovery\/v2\.0\/keys|discovery\/keys|oauth2\/v2\.0\/token|oauth2\/token)$/;

export async function startIdentityProvider(options: IdentityProviderOptions): Promise<IdentityProvider> {
  const dataDir = resolve(options.dataDir);
  await mkdir(join(dataDir, 'certificates'), { recursive: true, mode: 0o700 });
  const registry = await Registry.open(join(dataDir, 'registry.json'));
  const signingKey = await SigningKey.load(join(dataDir, 'signing-key.pem'));
  const identityHeader = (await readOrCreateFile(join(dataDir, 'identity-header'), () => randomBytes(32).toString('base64url'))).trim();
  const log = options.log ?? (() => undefined);

  // TLS 1.3, and TLS 1.2 with forward-secret AEAD suites only: the gateway's policy (dev/tls-policy.ts).
  const server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem, ...SERVER_TLS_POLICY });
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
  const urls = issuerUrls(authorityHost);
  const tokenEndpoint = { registry, signingKey, urls, replay: new ReplayCache() };
  const managedIdentityEndpoint = { registry, signingKey, urls, identityHeaderDigest: sha256(identityHeader) };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = { method: req.method ?? 'GET', path: safePath(req.url) };
    handle(req, res).then(
      (outcome) => log(`${started.method} ${started.path} ${res.statusCode}${outcome ? ` ${outcome}` : ''}`),
      (error: unknown) => {
        log(`${started.method} ${started.path} 500 ${(error as Error).name}`);
        if (!res.headersSent)
          sendJson(res, 500, { error: 'server_error', error_description: 'Internal error in the development identity provider.' });
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

    if (url.pathname === MSI_PATH) return handleManagedIdentityRequest(managedIdentityEndpoint, req, res, url, correlationId);

    const match = ROUTE.exec(url.pathname);
    if (!match?.[1] || !match[2]) return notFound(res, url.pathname);
    const tenantSegment = match[1].toLowerCase();
    const route = match[2];

    try {
      if (route.startsWith('oauth2/')) {
        if (method !== 'POST') throw entraErrors.postRequired(method);
        return await handleTokenRequest(tokenEndpoint, req, res, tenantSegment, route === 'oauth2/token');
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
      sendJson(res, 200, discoveryDocument(urls, host, tenant, route === '.well-known/openid-configuration'), { cacheSeconds: 3600 });
      return undefined;
    } catch (error) {
      if (!(error instanceof EntraError)) throw error;
      sendJson(res, error.status, error.body(correlationId), { noStore: true });
      return `AADSTS${error.code}`;
    }
  }

  function resolveTenant(segment: string): RequestedTenant {
    if (TENANT_ALIASES.has(segment)) return { id: segment, placeholder: true };
    if (GUID.test(segment) && registry.tenant(segment)) return { id: segment, placeholder: false };
    throw entraErrors.tenantNotFound(segment);
  }

  return {
    authorityHost,
    issuer: (tenantId) => urls.issuer(tenantId.toLowerCase()),
    jwksUri: (tenantId) => urls.jwks(tenantId.toLowerCase()),
    tokenEndpoint: (tenantId) => urls.token(tenantId.toLowerCase()),
    managedIdentity: { endpoint: `${authorityHost}${MSI_PATH}`, header: identityHeader },
    ...directory(registry, dataDir),

    close() {
      return new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        // Keep-alive connections from SDK clients would otherwise hold close() open.
        server.closeAllConnections();
      });
    },
  };
}
