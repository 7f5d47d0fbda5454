import { join } from 'node:path';
import { beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { adminSecretCredential, localStack, uniqueName } from '../support/local.ts';
import { PYTHON_INSTALL_TIMEOUT_MS, PYTHON_SCRIPTS, type PythonSdk, pythonSdk, runPython } from '../support/python.ts';

/**
 * The official Azure SDK for Python, unmodified (Debian's python3-azure: azure-keyvault-secrets 4.7,
 * azure-keyvault-keys 4.8, azure-identity 1.13), against the local vault: SecretClient, KeyClient and
 * CryptographyClient, each with a client secret, the identity provider's client certificate, a bearer
 * token handed over through a TokenCredential of the caller's own, and the stack's managed identity,
 * with challenge verification on as the SDK defaults to. The scripts in ./python print one JSON
 * document of what the SDK returned; this file asserts on it. They connect to loopback only (a guard
 * in coffer_compat.py refuses any other address and resolves *.localhost to loopback, as RFC 6761 and
 * systemd-resolved do) and trust only the stack's CA.
 *
 * test/support/python.ts installs the SDK where it is missing, or says why these tests are skipped.
 */
const info = localStack();
// The vault by its own host name, on the gateway's port: with challenge verification on, as the SDK
// defaults to, it requires that host and port to end with "." + the challenge resource's, which
// Coffer's challenge names with the port (https://vault.localhost:<port>).
const vaultUrl = info.vaultHostUrl;
const challengeScope = `${info.audience}:${new URL(vaultUrl).port}/.default`;

// python3-azure and its 35 dependencies took 66 s to install on this project's Debian 12 machine.
type CredentialKind = 'secret' | 'certificate' | 'token' | 'managedIdentity';
const CREDENTIALS: CredentialKind[] = ['secret', 'certificate', 'token', 'managedIdentity'];

let python: PythonSdk;

beforeAll(async () => {
  python = await pythonSdk();
}, PYTHON_INSTALL_TIMEOUT_MS + 10_000);

/** A token the test obtains itself, for the caller-supplied TokenCredential. */
async function tokenFor(scope: string): Promise<string> {
  const token = await adminSecretCredential(info).getToken(scope);
  if (!token) throw new Error(`no token for ${scope}`);
  return token.token;
}

/** Runs one script with one credential and returns the JSON it printed. */
async function pythonSuite(context: TestContext, script: string, credential: CredentialKind): Promise<any> {
  if (!python.ready) return context.skip(`the Python SDK cannot be installed here: ${python.reason}`);
  const prefix = uniqueName(`py-${credential}`);
  const settings = {
    vaultUrl,
    localhostVaultUrl: info.vaultUrl,
    authorityHost: info.authorityHost,
    tenantId: info.tenantId,
    clientId: info.clientId,
    clientSecret: info.clientSecret,
    certificateFile: info.clientCertificateFile,
    token: credential === 'token' ? await tokenFor(challengeScope) : undefined,
    credential,
    prefix,
  };
  const answer = await runPython(python.interpreter, [join(PYTHON_SCRIPTS, script)], settings, {
    caFile: info.caFile,
    what: `${script} with the ${credential} credential`,
    // The stack's App Service-style managed identity endpoint, which ManagedIdentityCredential finds here.
    env: credential === 'managedIdentity' ? { IDENTITY_ENDPOINT: info.managedIdentity.endpoint, IDENTITY_HEADER: info.managedIdentity.header } : {},
  });
  return { prefix, ...answer };
}

describe.concurrent.each(CREDENTIALS)('Python SDK with the %s credential', (credential) => {
  it('SecretClient sets, gets, lists, deletes and recovers, backs up and restores', async (context) => {
    const r = await pythonSuite(context, 'secrets_suite.py', credential);
    const name = `${r.prefix}-secret`;
    expect(r.apiVersion).toBe('7.3');
    expect(r.set).toEqual({
      name,
      value: 'first-value',
      version: expect.stringMatching(/^[0-9a-f]{32}$/),
      contentType: 'text/plain',
      tags: { suite: 'python' },
      vaultUrl,
      enabled: true,
      recoveryLevel: 'Recoverable+Purgeable',
    });
    expect(r.get.latest).toBe('second-value');
    expect(r.get.latestVersion).toBe(r.get.secondVersion);
    expect(r.get.byVersion).toBe('first-value');
    expect(r.list).toEqual([name]);
    expect(r.versions).toEqual([r.set.version, r.get.secondVersion].sort());
    expect(r.deleted).toEqual({ name, hasRecoveryId: true, hasDeletedDate: true, hasPurgeDate: true });
    expect(r.getWhileDeleted).toEqual({ type: 'ResourceNotFoundError', status: 404, code: 'SecretNotFound' });
    expect(r.listedDeleted).toBe(true);
    expect(r.recovered).toEqual({ name, value: 'second-value' });
    expect(r.restored).toEqual({ backupIsBytes: true, name, value: 'second-value', versions: r.versions });
    expect(r.missing).toEqual({ type: 'ResourceNotFoundError', status: 404, code: 'SecretNotFound' });
    if (credential === 'token') expect(r.scopesAsked).toEqual([[challengeScope]]);
    expect(r.verification).toBe(`The challenge resource 'vault.localhost:${new URL(vaultUrl).port}' does not match the requested domain`);
  });

  it('KeyClient creates RSA and EC keys at its default preview api-version, gets and lists them', async (context) => {
    const r = await pythonSuite(context, 'keys_suite.py', credential);
    // Debian's KeyClient defaults to a preview version, which Coffer answers as 7.4.
    expect(r.apiVersion).toBe('7.4-preview.1');
    const operations = ['decrypt', 'encrypt', 'sign', 'unwrapKey', 'verify', 'wrapKey'];
    expect(r.rsa).toMatchObject({
      name: `${r.prefix}-rsa`,
      keyType: 'RSA',
      enabled: true,
      vaultUrl,
      modulusBytes: 256,
      exponent: '010001',
    });
    expect(r.rsa.operations).toEqual(operations);
    expect(r.rsa.tags).toEqual({ suite: 'python' });
    expect(r.rsa.version).toMatch(/^[0-9a-f]{32}$/);
    expect(r.ec).toMatchObject({ name: `${r.prefix}-ec`, keyType: 'EC', curve: 'P-256', xBytes: 32, yBytes: 32 });
    expect(r.ec.operations).toEqual(['sign', 'verify']);
    expect(r.get).toEqual({ sameVersion: true, sameModulus: true, byVersion: true });
    expect(r.list).toEqual([`${r.prefix}-ec`, `${r.prefix}-rsa`]);
    expect(r.versions).toEqual({ count: 2, latestModulusBytes: 384, latestIsSecond: true });
    expect(r.missing).toEqual({ type: 'ResourceNotFoundError', status: 404, code: 'KeyNotFound' });
  });

  it('CryptographyClient encrypts, signs and wraps, locally and in the vault, and the vault reverses it', async (context) => {
    const r = await pythonSuite(context, 'crypto_suite.py', credential);
    for (const mode of ['local', 'remote'] as const) {
      const m = r[mode];
      for (const oaep of [m.rsaOaep, m.rsaOaep256]) {
        expect(oaep, mode).toEqual({ keyId: r.keys.rsa, ciphertextBytes: 256, roundTrip: true, decryptKeyId: r.keys.rsa });
      }
      expect(m.es256, mode).toEqual({ keyId: r.keys.ec, signatureBytes: 64, algorithm: 'ES256', verifies: true, otherDigestVerifies: false });
      expect(m.ps256, mode).toEqual({ keyId: r.keys.rsa, signatureBytes: 256, algorithm: 'PS256', verifies: true, otherDigestVerifies: false });
      expect(m.wrap, mode).toEqual({ keyId: r.keys.rsa, encryptedKeyBytes: 256, roundTrip: true, algorithm: 'RSA-OAEP' });
    }
    // By default the SDK reads the key and keeps the public-key half to itself: what it encrypted,
    // signed-for-verification and wrapped with the vault's JWK, the vault reversed.
    expect(r.local.sent).toEqual(['GET key', 'POST decrypt', 'POST sign', 'POST unwrapkey']);
    // With the key download refused, every operation went to the vault.
    expect(r.remote.sent).toEqual(['POST decrypt', 'POST encrypt', 'POST sign', 'POST unwrapkey', 'POST verify', 'POST wrapkey']);
  });
});

describe('Python SDK installation', () => {
  it('is Debian python3-azure at the versions these tests were written against', (context) => {
    if (!python.ready) return context.skip(`the Python SDK cannot be installed here: ${python.reason}`);
    expect(python.interpreter).toBe('/usr/bin/python3');
    expect(python.versions['azure-keyvault-secrets']).toMatch(/^4\.7\./);
    expect(python.versions['azure-keyvault-keys']).toMatch(/^4\.8\./);
    expect(python.versions['azure-identity']).toMatch(/^1\.13\./);
  });
});
