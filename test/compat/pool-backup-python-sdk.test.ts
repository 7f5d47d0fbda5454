import { createHash, randomUUID } from 'node:crypto';
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hsmRoleIds } from '../../lib/hsm/roles.ts';
import { securityDomainOfficers } from '../support/certificates.ts';
import { adminSecretCredential, localStack, raw, uniqueName } from '../support/local.ts';
import { PYTHON_INSTALL_TIMEOUT_MS, type PythonSdk, pythonSdk, runPython } from '../support/python.ts';
import { managementClients } from '../support/vaults.ts';

/**
 * A pool's full backup, full restore and selective key restore through Microsoft's Python
 * KeyVaultBackupClient, unmodified (Debian's python3-azure, azure-keyvault-administration 4.3.0b2),
 * against the pool's own host as the SDK addresses it (docs/adr/0025-pool-full-backup.md): its
 * begin_backup's folder_url is what its begin_restore splits back into the container and the folder;
 * the keys, deleted and purged through @azure/keyvault-keys, come back and still sign, verify, wrap
 * and unwrap through its CryptographyClient. The storage URI names no real host: the local stack
 * maps it to a folder, and the script's guard keeps every connection on loopback.
 */
const info = localStack();
const pools = managementClients(info).vaults.managedHsms;
const LOCATION = 'eastus';
const MHSM_SCOPE = 'https://managedhsm.azure.net/.default';
const ROLE_DEFINITION = (id: string) => `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${id}`;
const CLIENT_OPTIONS = { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } };
const STORAGE = 'https://cofferpython.blob.core.windows.net/backups';
const name = uniqueName('pbpy').replace(/-/g, '').slice(0, 24);
const admin = adminSecretCredential(info);
let hsmUri = '';
let hsmUrl = '';
let python: PythonSdk;
let keys: KeyClient;

const SCRIPT = `
from coffer_compat import credential_for, emit, error_of, read_settings
from azure.keyvault.administration import KeyVaultBackupClient

s = read_settings()
client = KeyVaultBackupClient(s['vaultUrl'], credential_for(s), retry_total=0)
out = {}
if s['phase'] == 'backup':
    poller = client.begin_backup(s['storage'], 'sv=2020-ignored', _polling_interval=0)
    result = poller.result()
    out['folderUrl'] = result.folder_url
    out['status'] = poller.status()
elif s['phase'] == 'restore':
    poller = client.begin_restore(s['folderUrl'], 'sv=2020-ignored', _polling_interval=0)
    poller.wait()
    out['status'] = poller.status()
else:
    poller = client.begin_restore(s['folderUrl'], 'sv=2020-ignored', key_name=s['keyName'], _polling_interval=0)
    poller.wait()
    out['status'] = poller.status()
    out['unknown'] = error_of(lambda: client.begin_restore(s['folderUrl'], 'sv=2020-ignored', key_name='nosuchkey', _polling_interval=0).wait())
emit(out)
`;

async function script(settings: Record<string, string>) {
  return runPython(
    (python as { interpreter: string }).interpreter,
    ['-c', SCRIPT],
    {
      vaultUrl: hsmUrl,
      authorityHost: info.authorityHost,
      tenantId: info.tenantId,
      clientId: info.clientId,
      clientSecret: info.clientSecret,
      credential: 'secret',
      ...settings,
    },
    { caFile: info.caFile, what: "the pool's backup script" },
  );
}

async function purge(keyName: string): Promise<void> {
  await (await keys.beginDeleteKey(keyName)).pollUntilDone();
  await keys.purgeDeletedKey(keyName);
}

beforeAll(async () => {
  python = await pythonSdk();
}, PYTHON_INSTALL_TIMEOUT_MS + 10_000);

beforeAll(async () => {
  const pool = await pools.beginCreateOrUpdateAndWait(info.resourceGroup, name, {
    location: LOCATION,
    sku: { family: 'B', name: 'Standard_B1' },
    properties: { tenantId: info.tenantId, initialAdminObjectIds: [info.objectId] },
  });
  hsmUri = pool.properties!.hsmUri!;
  hsmUrl = `https://${name}.managedhsm.${info.vaultDomain}:${new URL(hsmUri).port}`;
  const token = (await admin.getToken(MHSM_SCOPE))!.token;
  const at = (path: string) => `${hsmUri.replace(/\/$/, '')}${path}?api-version=7.4`;
  const certificates = securityDomainOfficers().map(({ jwk }) => jwk);
  expect((await raw('POST', at('/securitydomain/download'), { token, body: { certificates, required: 2 } })).status).toBe(202);
  // The Administrator holds the backup and restore DataActions; keys need Crypto Officer and User.
  for (const role of [hsmRoleIds.cryptoOfficer, hsmRoleIds.cryptoUser]) {
    const r = await raw('PUT', at(`/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`), {
      token,
      body: { properties: { roleDefinitionId: ROLE_DEFINITION(role), principalId: info.objectId } },
    });
    expect(r.status).toBe(201);
  }
  keys = new KeyClient(hsmUri, admin, CLIENT_OPTIONS);
}, 120_000);

afterAll(async () => {
  await pools.beginDeleteAndWait(info.resourceGroup, name).catch(() => undefined);
  await pools.beginPurgeDeletedAndWait(name, LOCATION).catch(() => undefined);
}, 60_000);

describe("a pool's full backup through the Python SDK", () => {
  it('begin_backup answers a folder_url that begin_restore brings purged keys back from, whole or one key', async (context) => {
    if (!python.ready) return context.skip(`the Python SDK cannot be installed here: ${python.reason}`);
    const signer = await keys.createRsaKey('signer', { keySize: 2048, hsm: true });
    const wrapper = await keys.createKey('wrapper', 'oct-HSM', { keySize: 256 });
    const digest = createHash('sha256').update('kept across a restore').digest();
    const { result: signature } = await new CryptographyClient(signer, admin, CLIENT_OPTIONS).sign('RS256', digest);
    const secret = Buffer.from('0123456789abcdef0123456789abcdef');
    const { result: wrapped } = await new CryptographyClient(wrapper, admin, CLIENT_OPTIONS).wrapKey('A256KW', secret);

    const backup = await script({ phase: 'backup', storage: STORAGE });
    expect(backup.status).toBe('Succeeded');
    expect(backup.folderUrl).toMatch(new RegExp(`^${STORAGE}/mhsm-${name}-\\d{14}$`));

    await purge('signer');
    await purge('wrapper');
    expect((await script({ phase: 'restore', folderUrl: backup.folderUrl })).status).toBe('Succeeded');
    const restoredSigner = await keys.getKey('signer');
    expect(restoredSigner.properties.version).toBe(signer.properties.version);
    expect((await new CryptographyClient(restoredSigner, admin, CLIENT_OPTIONS).verify('RS256', digest, signature)).result).toBe(true);
    const restoredWrapper = await keys.getKey('wrapper');
    const unwrapped = await new CryptographyClient(restoredWrapper, admin, CLIENT_OPTIONS).unwrapKey('A256KW', wrapped);
    expect(Buffer.from(unwrapped.result)).toEqual(secret);

    await purge('wrapper');
    const selective = await script({ phase: 'selective', folderUrl: backup.folderUrl, keyName: 'wrapper' });
    expect(selective.status).toBe('Succeeded');
    expect(selective.unknown).toMatchObject({ status: 404, code: 'KeyNotFound' });
    const again = await keys.getKey('wrapper');
    expect(again.properties.version).toBe(wrapper.properties.version);
    expect(Buffer.from((await new CryptographyClient(again, admin, CLIENT_OPTIONS).unwrapKey('A256KW', wrapped)).result)).toEqual(secret);
  }, 180_000);
});
