import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityDomainOfficers } from '../support/certificates.ts';
import { adminSecretCredential, localStack, raw, uniqueName, unprivilegedCredential } from '../support/local.ts';
import { PYTHON_INSTALL_TIMEOUT_MS, type PythonSdk, pythonSdk, runPython } from '../support/python.ts';
import { managementClients } from '../support/vaults.ts';
import { restoreSecurityDomain } from '../support/security-domain.ts';

/**
 * The walk-through of README "Walk-through: a managed HSM pool", step for step, with official clients
 * only where one exists: `@azure/arm-keyvault` for the pool's life cycle, Microsoft's Python
 * administration clients (Debian's python3-azure) for its roles, backup and restore,
 * `@azure/keyvault-keys` for the key, and for the security domain, which no client here speaks, the
 * pool's REST routes and `scripts/security-domain.ts`. A security officer creates a pool, activates it,
 * grants an application Managed HSM Crypto Service Encryption User on one AES key, sees it wrap and
 * unwrap and be refused a delete, backs the pool up, purges it, makes it again from its security
 * domain, restores the backup, and finds the key working: it unwraps what it wrapped before.
 */
const info = localStack();
const pools = managementClients(info).vaults.managedHsms;
const LOCATION = 'eastus';
const API = 'api-version=7.4';
const MHSM_SCOPE = `https://managedhsm.${info.vaultDomain}/.default`;
// The JS clients reach the pool on its hsmUri (localhost and its port): Node does not resolve names
// under .localhost, so their challenge verification, which wants the pool's own name, is off.
const CLIENT_OPTIONS = { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } };
const name = uniqueName('walk').replace(/-/g, '').slice(0, 24);
const KEY = 'payments-kek';
/** Where the backup goes: locally any HTTPS container URL, kept as a folder under the stack's data directory (README). */
const STORAGE_URL = 'https://backups.blob.localhost/pool-backups';

const admin = adminSecretCredential(info);
const application = unprivilegedCredential(info);
let python: PythonSdk;
let officers: string;
/** The pool's hsmUri, for the JS clients and the REST routes. */
let hsmUri = '';
/** The pool by its name on its port, for the Python SDK, whose challenge verification stays on. */
let hsmUrl = '';

const at = (path: string) => `${hsmUri}${path}${path.includes('?') ? '&' : '?'}${API}`;

async function createPool(): Promise<void> {
  const pool = await pools.beginCreateOrUpdateAndWait(info.resourceGroup, name, {
    location: LOCATION,
    sku: { family: 'B', name: 'Standard_B1' },
    properties: { tenantId: info.tenantId, initialAdminObjectIds: [info.objectId] },
  });
  hsmUri = pool.properties!.hsmUri!.replace(/\/$/, '');
  hsmUrl = `https://${name}.managedhsm.${info.vaultDomain}:${new URL(hsmUri).port}`;
}

async function officerToken(): Promise<string> {
  return (await admin.getToken(MHSM_SCOPE))!.token;
}

/** One of the officer's Python steps (test/compat/python/pool_walkthrough.py), as the administrator. */
function officerStep(settings: Record<string, unknown>, what: string) {
  if (!python.ready) throw new Error('no Python SDK');
  return runPython(
    python.interpreter,
    ['pool_walkthrough.py'],
    {
      vaultUrl: hsmUrl,
      authorityHost: info.authorityHost,
      tenantId: info.tenantId,
      clientId: info.clientId,
      clientSecret: info.clientSecret,
      credential: 'secret',
      ...settings,
    },
    { caFile: info.caFile, what },
  );
}

beforeAll(async () => {
  python = await pythonSdk();
  officers = await mkdtemp(join(tmpdir(), 'coffer-officers-'));
}, PYTHON_INSTALL_TIMEOUT_MS + 10_000);

afterAll(async () => {
  await pools.beginDeleteAndWait(info.resourceGroup, name).catch(() => undefined);
  await pools.beginPurgeDeletedAndWait(name, LOCATION).catch(() => undefined);
  await rm(officers, { recursive: true, force: true });
}, 60_000);

describe('the managed HSM pool walk-through', () => {
  it('creates, activates, grants one AES key, backs up, purges, restores, and the key still works', { timeout: 240_000 }, async (context) => {
    if (!python.ready) return context.skip(`the Python SDK cannot be installed here: ${python.reason}`);

    // 1. The pool, and its activation: the security domain downloaded to three officers, two to restore it.
    await createPool();
    const certificates = securityDomainOfficers();
    for (const [i, { officer }] of certificates.entries()) await writeFile(join(officers, `officer-${i + 1}.pem`), officer.keyPem, { mode: 0o600 });
    const download = await raw('POST', at('/securitydomain/download'), {
      token: await officerToken(),
      body: { certificates: certificates.map((c) => c.jwk), required: 2 },
    });
    expect(download.status, download.text).toBe(202);
    await writeFile(join(officers, 'security-domain.json'), download.text, { mode: 0o600 });
    expect((await pools.get(info.resourceGroup, name)).properties?.securityDomainProperties?.activationStatus).toBe('Active');

    // 2. The officer (Administrator: no key operations) makes itself Crypto User at /keys, creates the
    //    AES key, and grants the application Crypto Service Encryption User on that key only.
    await officerStep({ step: 'grant', roleName: 'Managed HSM Crypto User', scope: '/keys', principalId: info.objectId }, 'the Crypto User grant');
    const keys = new KeyClient(hsmUri, admin, CLIENT_OPTIONS);
    const key = await keys.createOctKey(KEY, { hsm: true, keySize: 256, keyOps: ['wrapKey', 'unwrapKey'] });
    expect(key.keyType).toBe('oct-HSM');
    const granted = await officerStep(
      { step: 'grant', roleName: 'Managed HSM Crypto Service Encryption User', scope: `/keys/${KEY}`, principalId: info.unprivileged.objectId },
      'the application grant',
    );
    expect(granted.scope).toBe(`/keys/${KEY}`);

    // 3. The application wraps and unwraps with the key, and is refused its delete.
    const asApplication = new CryptographyClient(key.id!, application, CLIENT_OPTIONS);
    const dataKey = randomBytes(32);
    const wrapped = await asApplication.wrapKey('A256KW', dataKey);
    expect(Buffer.from((await asApplication.unwrapKey('A256KW', wrapped.result)).result)).toEqual(dataKey);
    const refused = await new KeyClient(hsmUri, application, CLIENT_OPTIONS).beginDeleteKey(KEY).then(
      () => undefined,
      (error: { statusCode?: number }) => error.statusCode,
    );
    expect(refused).toBe(403);

    // 4. A full backup, then the pool is deleted and purged: its keys and its HSM token are gone.
    const { folderUrl } = await officerStep({ step: 'backup', storageUrl: STORAGE_URL }, 'the backup');
    expect(folderUrl).toMatch(new RegExp(`^${STORAGE_URL}/mhsm-${name}-\\d{14}$`));
    await pools.beginDeleteAndWait(info.resourceGroup, name);
    await pools.beginPurgeDeletedAndWait(name, LOCATION);

    // 5. The pool made again, activated from its security domain by two of the three officers.
    await createPool();
    const transferKey = await raw('GET', at('/securitydomain/upload'), { token: await officerToken() });
    expect(transferKey.status, transferKey.text).toBe(200);
    await writeFile(join(officers, 'transfer-key.json'), transferKey.text);
    const upload = join(officers, 'upload.json');
    restoreSecurityDomain({
      domain: join(officers, 'security-domain.json'),
      keys: [join(officers, 'officer-1.pem'), join(officers, 'officer-3.pem')],
      transferKey: join(officers, 'transfer-key.json'),
      out: upload,
    });
    const uploaded = await raw('POST', at('/securitydomain/upload'), {
      token: await officerToken(),
      body: await readFile(upload, 'utf8'),
    });
    expect(uploaded.status, uploaded.text).toBe(202);

    // 6. The restore brings the key back, with the application's grant: it unwraps what it wrapped before the purge.
    expect((await officerStep({ step: 'restore', folderUrl }, 'the restore')).status).toBe('Succeeded');
    const assignments = await raw('GET', at(`/keys/${KEY}/providers/Microsoft.Authorization/roleAssignments`), { token: await officerToken() });
    expect(assignments.status, assignments.text).toBe(200);
    expect(
      (assignments.json.value as { properties: { scope: string; principalId: string } }[])
        .filter((a) => a.properties.scope === `/keys/${KEY}`)
        .map((a) => a.properties.principalId),
    ).toEqual([info.unprivileged.objectId]);
    const restored = await new KeyClient(hsmUri, admin, CLIENT_OPTIONS).getKey(KEY);
    expect(restored.properties.version).toBe(key.properties.version);
    const again = new CryptographyClient(restored.id!, application, CLIENT_OPTIONS);
    expect(Buffer.from((await again.unwrapKey('A256KW', wrapped.result)).result)).toEqual(dataKey);
  });
});
