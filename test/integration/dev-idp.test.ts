import { spawn } from 'node:child_process';
import { createHash, createPrivateKey, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SignJWT, createLocalJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdentityProvider } from '../../dev/idp/server.ts';
import type { ManagedIdentity, ServicePrincipal } from '../../dev/idp/directory.ts';
import type { IdentityProvider } from '../../dev/idp/server.ts';
import { createClientAuthCertificate, ensureLocalCa, issueServerCertificate } from '../../dev/tls.ts';
import type { LocalCa } from '../../dev/tls.ts';

/**
 * The development identity provider against the real @azure/identity credentials.
 *
 * NODE_EXTRA_CA_CERTS is read only when a Node process starts, and this suite's CA is created
 * inside the test, so the credentials run in a child process started with
 * NODE_EXTRA_CA_CERTS=<this CA>. That also gives ManagedIdentityCredential a clean environment:
 * msal-node picks the managed identity source from environment variables once per process.
 * Raw protocol checks run in-process with the CA passed as the `ca` TLS option.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const RESOURCE = 'https://vault.localhost';
const SCOPE = `${RESOURCE}/.default`;
/** The management plane's audience (dev/local-environment.ts), which ARM clients ask for. */
const MANAGEMENT = 'https://management.localhost';

let dataDir: string;
let ca: LocalCa;
let tls: { certPem: string; keyPem: string };
let idp: IdentityProvider;
let tenantId: string;
let secretApp: ServicePrincipal;
let certApp: ServicePrincipal;
let systemIdentity: ManagedIdentity;
let userIdentity: ManagedIdentity;
let strangerCertificateFile: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'coffer-dev-idp-'));
  ca = await ensureLocalCa(dataDir);
  tls = await issueServerCertificate(ca, { dns: ['localhost'], ips: ['127.0.0.1', '::1'] });
  idp = await startIdentityProvider({ dataDir: join(dataDir, 'identity'), tls });
  tenantId = await idp.ensureDefaultTenant();
  [secretApp, certApp, systemIdentity, userIdentity] = await Promise.all([
    idp.registerServicePrincipal(tenantId, { displayName: 'secret-app', secret: true }),
    idp.registerServicePrincipal(tenantId, { displayName: 'cert-app', certificate: true }),
    idp.registerManagedIdentity(tenantId, { displayName: 'host-identity', systemAssigned: true }),
    idp.registerManagedIdentity(tenantId, { displayName: 'user-identity' }),
  ]);
  // A certificate the IdP has never seen, in the same file format as a registered one.
  const stranger = await createClientAuthCertificate('stranger');
  strangerCertificateFile = join(dataDir, 'stranger.pem');
  await writeFile(strangerCertificateFile, stranger.certPem + stranger.keyPem, { mode: 0o600 });
});

afterAll(async () => {
  await idp?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('@azure/identity credentials against the development IdP', () => {
  let results: ProbeResult[];
  let wrongHeaderResults: ProbeResult[];

  beforeAll(async () => {
    const steps: ProbeStep[] = [
      { kind: 'secret', tenantId, clientId: secretApp.clientId, secret: secretApp.clientSecret! },
      { kind: 'certificate', tenantId, clientId: certApp.clientId, certificatePath: certApp.certificateFile! },
      { kind: 'managed' },
      { kind: 'managed', clientId: userIdentity.clientId },
      { kind: 'secret', tenantId, clientId: secretApp.clientId, secret: 'not-the-secret' },
      { kind: 'secret', tenantId, clientId: randomUUID(), secret: 'whatever' },
      { kind: 'certificate', tenantId, clientId: certApp.clientId, certificatePath: strangerCertificateFile },
    ];
    // Two processes because the managed identity source (and its header) is fixed per process.
    [results, wrongHeaderResults] = await Promise.all([
      runCredentials(steps, idp.managedIdentity),
      runCredentials([{ kind: 'managed' }], { endpoint: idp.managedIdentity.endpoint, header: 'wrong-header-value' }),
    ]);
  });

  it('ClientSecretCredential gets a token that verifies against the JWKS', async () => {
    const claims = await verifyToken(tokenOf(results[0]));
    expect(claims).toMatchObject({
      aud: RESOURCE,
      iss: idp.issuer(tenantId),
      tid: tenantId,
      oid: secretApp.objectId,
      sub: secretApp.objectId,
      appid: secretApp.clientId,
      azp: secretApp.clientId,
      azpacr: '1',
      idtyp: 'app',
      ver: '2.0',
    });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(claims.nbf).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(claims.uti).toEqual(expect.any(String));
  });

  it('ClientCertificateCredential gets a token for the certificate principal', async () => {
    const claims = await verifyToken(tokenOf(results[1]));
    expect(claims).toMatchObject({
      aud: RESOURCE,
      iss: idp.issuer(tenantId),
      tid: tenantId,
      oid: certApp.objectId,
      appid: certApp.clientId,
      azpacr: '2',
    });
  });

  it('ManagedIdentityCredential gets tokens for the system- and the user-assigned identity', async () => {
    const system = await verifyToken(tokenOf(results[2]));
    expect(system).toMatchObject({
      aud: RESOURCE,
      iss: idp.issuer(tenantId),
      tid: tenantId,
      oid: systemIdentity.objectId,
      appid: systemIdentity.clientId,
    });
    const user = await verifyToken(tokenOf(results[3]));
    expect(user).toMatchObject({ aud: RESOURCE, iss: idp.issuer(tenantId), tid: tenantId, oid: userIdentity.objectId, appid: userIdentity.clientId });
  });

  it('refuses a wrong client secret', () => {
    expect(failureOf(results[4])).toContain('AADSTS7000215');
  });

  it('refuses an unknown client', () => {
    expect(failureOf(results[5])).toContain('AADSTS700016');
  });

  it('refuses a certificate that is not registered on the application', () => {
    expect(failureOf(results[6])).toContain('AADSTS700027');
  });

  it('refuses a managed identity request with the wrong identity header', () => {
    expect(wrongHeaderResults[0]).toMatchObject({ ok: false, name: 'CredentialUnavailableError' });
    expect(failureOf(wrongHeaderResults[0])).toContain('X-IDENTITY-HEADER');
  });
});

describe('tokens for the management plane', () => {
  let results: ProbeResult[];

  beforeAll(async () => {
    const scope = `${MANAGEMENT}/.default`;
    results = await runCredentials(
      [
        { kind: 'secret', tenantId, clientId: secretApp.clientId, secret: secretApp.clientSecret!, scope },
        { kind: 'certificate', tenantId, clientId: certApp.clientId, certificatePath: certApp.certificateFile!, scope },
        { kind: 'managed', scope },
        { kind: 'managed', clientId: userIdentity.clientId, scope },
      ],
      idp.managedIdentity,
    );
  });

  it('are issued to @azure/identity credentials with the management audience, as vault tokens are with theirs', async () => {
    const expected = [
      { oid: secretApp.objectId, appid: secretApp.clientId, azpacr: '1' },
      { oid: certApp.objectId, appid: certApp.clientId, azpacr: '2' },
      { oid: systemIdentity.objectId, appid: systemIdentity.clientId },
      { oid: userIdentity.objectId, appid: userIdentity.clientId },
    ];
    for (const [index, claims] of expected.entries()) {
      const token = tokenOf(results[index]);
      expect(await verifyToken(token, MANAGEMENT)).toMatchObject({ aud: MANAGEMENT, iss: idp.issuer(tenantId), tid: tenantId, ...claims });
      // Not a vault token: a verifier expecting the vault audience refuses it.
      await expect(verifyToken(token)).rejects.toThrow(/aud/);
    }
  });

  it('come from the token endpoint (scope, v1 resource) and the managed identity endpoint (resource)', async () => {
    const v2 = await postToken({
      grant_type: 'client_credentials',
      client_id: secretApp.clientId,
      client_secret: secretApp.clientSecret!,
      scope: `${MANAGEMENT}/.default`,
    });
    expect(v2.status, v2.text).toBe(200);
    expect((await verifyToken(v2.json.access_token, MANAGEMENT)).aud).toBe(MANAGEMENT);
    const v1 = await send(
      'POST',
      `${idp.authorityHost}/${tenantId}/oauth2/token`,
      { 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: secretApp.clientId,
        client_secret: secretApp.clientSecret!,
        resource: MANAGEMENT,
      }).toString(),
    );
    expect(v1.status, v1.text).toBe(200);
    expect(v1.json.resource).toBe(MANAGEMENT);
    expect((await verifyToken(v1.json.access_token, MANAGEMENT)).aud).toBe(MANAGEMENT);
    const managed = await get(`${idp.managedIdentity.endpoint}?api-version=2019-08-01&resource=${encodeURIComponent(MANAGEMENT)}`, {
      'x-identity-header': idp.managedIdentity.header,
    });
    expect(managed.status, managed.text).toBe(200);
    expect(managed.json.resource).toBe(MANAGEMENT);
    expect(await verifyToken(managed.json.access_token, MANAGEMENT)).toMatchObject({ aud: MANAGEMENT, oid: systemIdentity.objectId });
  });
});

describe('discovery and keys', () => {
  it('serves the v2.0 OpenID configuration MSAL reads', async () => {
    const response = await get(`${idp.authorityHost}/${tenantId}/v2.0/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({
      issuer: idp.issuer(tenantId),
      token_endpoint: `${idp.authorityHost}/${tenantId}/oauth2/v2.0/token`,
      authorization_endpoint: `${idp.authorityHost}/${tenantId}/oauth2/v2.0/authorize`,
      jwks_uri: idp.jwksUri(tenantId),
    });
  });

  it('serves the v1 form and the tenant-independent aliases', async () => {
    const v1 = await get(`${idp.authorityHost}/${tenantId}/.well-known/openid-configuration`);
    expect(v1.json).toMatchObject({ issuer: idp.issuer(tenantId), token_endpoint: `${idp.authorityHost}/${tenantId}/oauth2/token` });
    const common = await get(`${idp.authorityHost}/common/v2.0/.well-known/openid-configuration`);
    expect(common.json.issuer).toBe(`${idp.authorityHost}/{tenantid}/v2.0`);
  });

  it('publishes the signing key with its kid', async () => {
    const jwks = (await get(idp.jwksUri(tenantId))).json as JSONWebKeySet;
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', kid: expect.any(String) });
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('answers an unknown tenant like Entra and an unknown path with 404 JSON', async () => {
    const tenant = await get(`${idp.authorityHost}/${randomUUID()}/v2.0/.well-known/openid-configuration`);
    expect(tenant.status).toBe(400);
    expect(tenant.json).toMatchObject({ error: 'invalid_tenant', error_codes: [90002] });
    const unknown = await get(`${idp.authorityHost}/nothing/here`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toBe('not_found');
  });
});

describe('token endpoint on the wire', () => {
  it('returns the Entra token response shape', async () => {
    const response = await postToken({
      grant_type: 'client_credentials',
      client_id: secretApp.clientId,
      client_secret: secretApp.clientSecret!,
      scope: SCOPE,
    });
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json).toEqual({
      token_type: 'Bearer',
      expires_in: expect.any(Number),
      ext_expires_in: expect.any(Number),
      access_token: expect.any(String),
    });
    expect(decodeProtectedHeader(response.json.access_token)).toMatchObject({ alg: 'RS256', kid: expect.any(String) });
  });

  it('answers a wrong secret with 401 invalid_client / AADSTS7000215 and the full error body', async () => {
    const correlationId = randomUUID();
    const response = await postToken(
      { grant_type: 'client_credentials', client_id: secretApp.clientId, client_secret: 'nope', scope: SCOPE },
      { 'client-request-id': correlationId },
    );
    expect(response.status).toBe(401);
    expect(response.json).toEqual({
      error: 'invalid_client',
      error_description: expect.stringMatching(/^AADSTS7000215: Invalid client secret provided\./),
      error_codes: [7000215],
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/),
      trace_id: expect.any(String),
      correlation_id: correlationId,
      error_uri: expect.any(String),
    });
  });

  it('answers an unknown client with 400 unauthorized_client / AADSTS700016', async () => {
    const response = await postToken({ grant_type: 'client_credentials', client_id: randomUUID(), client_secret: 'x', scope: SCOPE });
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });
  });

  it('answers a scope without /.default with invalid_scope', async () => {
    const response = await postToken({
      grant_type: 'client_credentials',
      client_id: secretApp.clientId,
      client_secret: secretApp.clientSecret!,
      scope: `${RESOURCE}/secrets.read`,
    });
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'invalid_scope', error_codes: [1002012] });
  });

  it('accepts client_secret_basic and the v1 endpoint with a resource parameter', async () => {
    const basic = Buffer.from(`${secretApp.clientId}:${encodeURIComponent(secretApp.clientSecret!)}`).toString('base64');
    const viaBasic = await postToken({ grant_type: 'client_credentials', scope: SCOPE }, { authorization: `Basic ${basic}` });
    expect(viaBasic.status, viaBasic.text).toBe(200);
    const v1 = await send(
      'POST',
      `${idp.authorityHost}/${tenantId}/oauth2/token`,
      { 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: secretApp.clientId,
        client_secret: secretApp.clientSecret!,
        resource: RESOURCE,
      }).toString(),
    );
    expect(v1.status, v1.text).toBe(200);
    expect((await verifyToken(v1.json.access_token)).appid).toBe(secretApp.clientId);
  });

  it('refuses GET on the token endpoint and oversized bodies', async () => {
    const viaGet = await get(idp.tokenEndpoint(tenantId));
    expect(viaGet.status).toBe(400);
    expect(viaGet.json.error_codes).toEqual([900561]);
    const huge = await postToken({
      grant_type: 'client_credentials',
      client_id: secretApp.clientId,
      client_secret: 'x'.repeat(70_000),
      scope: SCOPE,
    });
    expect(huge.status).toBe(413);
  });

  it('refuses a client assertion signed by another key', async () => {
    const { privateKey } = await generateKeyPair('PS256');
    const response = await postAssertion(await assertion({ key: privateKey }));
    expect(response.status).toBe(401);
    expect(response.json).toMatchObject({ error: 'invalid_client', error_codes: [700027] });
    expect(response.json.error_description).toContain('signature validation');
  });

  it('accepts a client assertion once and refuses its replay', async () => {
    const signed = await assertion();
    const first = await postAssertion(signed);
    expect(first.status, first.text).toBe(200);
    const replayed = await postAssertion(signed);
    expect(replayed.status).toBe(401);
    expect(replayed.json).toMatchObject({ error: 'invalid_client', error_codes: [50013] });
  });

  it('refuses a client assertion for another audience, issuer or an expired one', async () => {
    const wrongAudience = await postAssertion(await assertion({ claims: { aud: `${idp.authorityHost}/${randomUUID()}/oauth2/v2.0/token` } }));
    expect(wrongAudience.json.error_codes).toEqual([700023]);
    const wrongIssuer = await postAssertion(await assertion({ claims: { iss: randomUUID() } }));
    expect(wrongIssuer.json.error_codes).toEqual([700021]);
    const expired = await postAssertion(await assertion({ claims: { exp: Math.floor(Date.now() / 1000) - 3600 } }));
    expect(expired.json.error_codes).toEqual([700024]);
  });
});

describe('managed identity endpoint on the wire', () => {
  const url = (query: string) => `${idp.managedIdentity.endpoint}?api-version=2019-08-01&resource=${encodeURIComponent(RESOURCE)}${query}`;

  it('returns the App Service 2019-08-01 response', async () => {
    const response = await get(url(`&client_id=${userIdentity.clientId}`), { 'x-identity-header': idp.managedIdentity.header });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      access_token: expect.any(String),
      expires_on: expect.stringMatching(/^\d+$/),
      resource: RESOURCE,
      token_type: 'Bearer',
      client_id: userIdentity.clientId,
    });
  });

  it('answers a wrong header with 401, a missing one with 400 and an unknown identity with 400', async () => {
    expect((await get(url(''), { 'x-identity-header': 'wrong' })).status).toBe(401);
    expect((await get(url(''))).status).toBe(400);
    const unknown = await get(url(`&client_id=${randomUUID()}`), { 'x-identity-header': idp.managedIdentity.header });
    expect(unknown.status).toBe(400);
    expect(unknown.json.message).toContain('Managed Identity');
  });
});

describe('persistence', () => {
  it('keeps secrets out of the data directory and private files at 0600', async () => {
    const identityDir = join(dataDir, 'identity');
    const registry = await readFile(join(identityDir, 'registry.json'), 'utf8');
    expect(registry).toContain(secretApp.clientId);
    expect(registry).not.toContain(secretApp.clientSecret!);
    for (const file of await listFiles(dataDir)) {
      expect(await readFile(file, 'utf8'), file).not.toContain(secretApp.clientSecret!);
    }
    for (const file of ['registry.json', 'signing-key.pem', 'identity-header', `certificates/${certApp.clientId}.pem`]) {
      expect((await stat(join(identityDir, file))).mode & 0o777, file).toBe(0o600);
    }
    expect((await stat(join(dataDir, 'tls', 'ca-key.pem'))).mode & 0o777).toBe(0o600);
  });

  it('keeps the signing key and the registrations across a restart', async () => {
    const before = await postToken({
      grant_type: 'client_credentials',
      client_id: secretApp.clientId,
      client_secret: secretApp.clientSecret!,
      scope: SCOPE,
    });
    const kidBefore = (await fetchJwks()).keys[0]?.kid;
    const { header } = idp.managedIdentity;
    const port = Number(new URL(idp.authorityHost).port);
    await idp.close();

    idp = await startIdentityProvider({ dataDir: join(dataDir, 'identity'), port, tls });
    expect(await idp.ensureDefaultTenant()).toBe(tenantId);
    expect((await fetchJwks()).keys[0]?.kid).toBe(kidBefore);
    // A token minted before the restart still verifies against the restarted IdP's keys.
    expect((await verifyToken(before.json.access_token)).oid).toBe(secretApp.objectId);
    expect(idp.managedIdentity.header).toBe(header);
    expect(
      idp
        .listServicePrincipals(tenantId)
        .map((sp) => sp.clientId)
        .sort(),
    ).toEqual([secretApp.clientId, certApp.clientId].sort());
    expect(
      idp
        .listManagedIdentities(tenantId)
        .map((mi) => mi.clientId)
        .sort(),
    ).toEqual([systemIdentity.clientId, userIdentity.clientId].sort());

    const secret = await postToken({
      grant_type: 'client_credentials',
      client_id: secretApp.clientId,
      client_secret: secretApp.clientSecret!,
      scope: SCOPE,
    });
    expect(secret.status).toBe(200);
    const certificate = await postAssertion(await assertion());
    expect(certificate.status).toBe(200);
    const managed = await get(`${idp.managedIdentity.endpoint}?api-version=2019-08-01&resource=${encodeURIComponent(RESOURCE)}`, {
      'x-identity-header': header,
    });
    expect((await verifyToken(managed.json.access_token)).oid).toBe(systemIdentity.objectId);
  });
});

// ---------------------------------------------------------------------------------------

/** Each step asks for the suite's SCOPE unless it names another. */
type ProbeStep = { scope?: string } & (
  | { kind: 'secret'; tenantId: string; clientId: string; secret: string }
  | { kind: 'certificate'; tenantId: string; clientId: string; certificatePath: string }
  | { kind: 'managed'; clientId?: string }
);
type ProbeResult = { ok: true; token: string; expiresOnTimestamp: number } | { ok: false; name: string; message: string };

/**
 * Runs in the child. The guard makes any connection to a non-loopback host fail loudly, so a
 * credential falling back to the cloud (instance discovery at login.microsoftonline.com, IMDS
 * at 169.254.169.254) is a test failure and never traffic.
 */
const PROBE_SCRIPT = `
import net from 'node:net';
const loopback = /^(localhost|127\\.\\d+\\.\\d+\\.\\d+|::1|\\[::1\\])$/i;
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const host = first && typeof first === 'object' ? (first.path ? 'localhost' : first.host ?? 'localhost') : typeof args[1] === 'string' ? args[1] : 'localhost';
  if (!loopback.test(host)) throw new Error('probe guard: refused a connection to non-loopback host ' + host);
  return connect.apply(this, args);
};
const { ClientSecretCredential, ClientCertificateCredential, ManagedIdentityCredential } = await import('@azure/identity');
const plan = JSON.parse(process.env.DEV_IDP_PROBE_PLAN);
const options = { authorityHost: plan.authorityHost, disableInstanceDiscovery: true };
const results = [];
for (const step of plan.steps) {
  try {
    const credential =
      step.kind === 'secret' ? new ClientSecretCredential(step.tenantId, step.clientId, step.secret, options)
      : step.kind === 'certificate' ? new ClientCertificateCredential(step.tenantId, step.clientId, { certificatePath: step.certificatePath }, options)
      : step.clientId ? new ManagedIdentityCredential({ clientId: step.clientId })
      : new ManagedIdentityCredential();
    const token = await credential.getToken(step.scope ?? plan.scope);
    results.push({ ok: true, token: token.token, expiresOnTimestamp: token.expiresOnTimestamp });
  } catch (error) {
    results.push({ ok: false, name: error.name, message: String(error.message) });
  }
}
process.stdout.write(JSON.stringify(results));
`;

async function runCredentials(steps: ProbeStep[], managedIdentity: { endpoint: string; header: string }): Promise<ProbeResult[]> {
  const env: NodeJS.ProcessEnv = {};
  // Start from a clean slate: any inherited Azure/MSAL/managed-identity variable could change
  // which source msal-node picks (some of them lead to the metadata address).
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(AZURE_|MSAL_|MSI_|IDENTITY_|IMDS_|NODE_EXTRA_CA_CERTS$|NODE_OPTIONS$)/i.test(name)) env[name] = value;
  }
  Object.assign(env, {
    NODE_EXTRA_CA_CERTS: ca.caFile,
    IDENTITY_ENDPOINT: managedIdentity.endpoint,
    IDENTITY_HEADER: managedIdentity.header,
    DEV_IDP_PROBE_PLAN: JSON.stringify({ authorityHost: idp.authorityHost, scope: SCOPE, steps }),
  });
  const child = spawn(process.execPath, ['--input-type=module', '-e', PROBE_SCRIPT], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolveExit) => child.on('close', resolveExit));
  if (code !== 0) throw new Error(`credential probe exited with ${code}: ${stderr}`);
  const results = JSON.parse(stdout) as ProbeResult[];
  if (process.env.DEV_IDP_DEBUG)
    console.log(
      JSON.stringify(
        results.map((r) => (r.ok ? { ok: true } : r)),
        null,
        1,
      ),
    );
  expect(results).toHaveLength(steps.length);
  return results;
}

function tokenOf(result: ProbeResult | undefined): string {
  if (!result?.ok) throw new Error(`expected a token, got ${JSON.stringify(result)}`);
  return result.token;
}

function failureOf(result: ProbeResult | undefined): string {
  if (!result || result.ok) throw new Error(`expected a refusal, got ${result ? 'a token' : 'nothing'}`);
  return result.message;
}

async function fetchJwks(): Promise<JSONWebKeySet> {
  return (await get(idp.jwksUri(tenantId))).json as JSONWebKeySet;
}

async function verifyToken(token: string, audience = RESOURCE): Promise<JWTPayload> {
  expect(decodeProtectedHeader(token).kid).toEqual(expect.any(String));
  const { payload } = await jwtVerify(token, createLocalJWKSet(await fetchJwks()), {
    issuer: idp.issuer(tenantId),
    audience,
    algorithms: ['RS256'],
  });
  return payload;
}

/** A client assertion as MSAL builds it (PS256, x5t#S256), with overridable key and claims. */
async function assertion(options: { key?: CryptoKey | KeyObject; claims?: JWTPayload } = {}): Promise<string> {
  const pem = await readFile(certApp.certificateFile!, 'utf8');
  const der = Buffer.from(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(pem)![1]!.replace(/\s+/g, ''), 'base64');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    aud: idp.tokenEndpoint(tenantId),
    iss: certApp.clientId,
    sub: certApp.clientId,
    jti: randomUUID(),
    nbf: now,
    exp: now + 600,
    ...options.claims,
  })
    .setProtectedHeader({ alg: 'PS256', typ: 'JWT', 'x5t#S256': createHash('sha256').update(der).digest('base64url') })
    .sign(options.key ?? createPrivateKey(pem));
}

function postAssertion(clientAssertion: string) {
  return postToken({
    grant_type: 'client_credentials',
    client_id: certApp.clientId,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: clientAssertion,
    scope: SCOPE,
  });
}

function postToken(form: Record<string, string>, headers: Record<string, string> = {}) {
  return send(
    'POST',
    idp.tokenEndpoint(tenantId),
    { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    new URLSearchParams(form).toString(),
  );
}

function get(url: string, headers: Record<string, string> = {}) {
  return send('GET', url, headers);
}

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

function send(method: string, url: string, headers: Record<string, string>, body?: string): Promise<Response> {
  return new Promise((resolveResponse, reject) => {
    // The CA is passed explicitly: this worker's trust store does not know it.
    const req = request(url, { method, headers, ca: ca.certPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolveResponse({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}
