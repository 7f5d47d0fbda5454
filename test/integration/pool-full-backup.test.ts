/**
 * A managed HSM pool's full backup and restore through the local stack (docs/adr/0025-pool-full-backup.md):
 * a backup folder under the stack's backup directory, owner-only, holding no key material and no
 * tag in the clear; keys deleted and purged come back from it with their versions, their tags and
 * their material (they still sign and decrypt); a selective restore brings one key back; a second
 * pool holding the first's security domain restores the first's backup, a pool of another domain
 * is refused; one job at a time (409), 404 for an unknown job, 403 for a Crypto User, 400s for bad
 * bodies and URIs, and prebackup/prerestore only check.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, REGION } from '../../dev/local-environment.ts';
import { DynamoDBDocumentClient } from '../../lib/aws/api/dynamodb.ts';
import { DynamoPoolBackupJobStore } from '../../lib/aws/dynamo-pool-backup-jobs.ts';
import { hsmRoleIds } from '../../lib/hsm/roles.ts';
import { type KeyAndCertificate, selfSignedCertificate } from '../support/certificates.ts';
import { adminSecretCredential, localStack, raw, uniqueName, unprivilegedCredential } from '../support/local.ts';
import { managementClients } from '../support/vaults.ts';
import { restoreSecurityDomain } from '../support/security-domain.ts';

const info = localStack();
const pools = managementClients(info).vaults.managedHsms;
const LOCATION = 'eastus';
const MHSM_SCOPE = 'https://managedhsm.azure.net/.default';
const API = 'api-version=7.6';
const ROLE_DEFINITION = (id: string) => `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${id}`;
const BACKUP_ROOT = join(process.env.COFFER_TEST_DATA_DIR!, 'backups');
/** A storage URI the local stack maps to a folder: no request ever goes to this host. */
const STORAGE = 'https://coffertest.blob.core.windows.net/backups';

const poolName = (prefix: string) => uniqueName(prefix).replace(/-/g, '').slice(0, 24);
const source = poolName('pfb1');
const sibling = poolName('pfb2');
const stranger = poolName('pfb3');
const uris: Record<string, string> = {};
let adminToken = '';
let userToken = '';
let officers: KeyAndCertificate[] = [];
let work = '';

const at = (pool: string, path: string) => `${uris[pool]!.replace(/\/$/, '')}${path}?${API}`;
const call = (method: string, pool: string, path: string, body?: object, token = adminToken) =>
  raw(method, at(pool, path), { token, ...(body === undefined ? {} : { body }) });

function certificates() {
  return officers.map((officer, i) => {
    const { n, e } = officer.certificate.publicKey.export({ format: 'jwk' });
    return {
      kid: `officer-${i + 1}`,
      kty: 'RSA',
      key_ops: ['verify', 'encrypt', 'wrapKey'],
      alg: 'RSA-OAEP-256',
      n,
      e,
      x5c: [officer.certDer.toString('base64')],
    };
  });
}

async function createPool(name: string): Promise<void> {
  const pool = await pools.beginCreateOrUpdateAndWait(info.resourceGroup, name, {
    location: LOCATION,
    sku: { family: 'B', name: 'Standard_B1' },
    properties: { tenantId: info.tenantId, initialAdminObjectIds: [info.objectId] },
  });
  uris[name] = pool.properties!.hsmUri!;
}

async function removePool(name: string): Promise<void> {
  await pools.beginDeleteAndWait(info.resourceGroup, name).catch(() => undefined);
  await pools.beginPurgeDeletedAndWait(name, LOCATION).catch(() => undefined);
}

async function download(pool: string): Promise<unknown> {
  const answer = await call('POST', pool, '/securitydomain/download', { certificates: certificates(), required: 2 });
  expect(answer.status).toBe(202);
  return answer.json;
}

/** The second pool gets the first's security domain: a quorum of officers restores it to the second's transfer key. */
async function uploadDomain(pool: string, domain: unknown): Promise<void> {
  writeFileSync(join(work, 'download.json'), JSON.stringify(domain));
  for (const [i, officer] of officers.entries()) writeFileSync(join(work, `officer-${i + 1}.pem`), officer.keyPem);
  const transfer = await call('GET', pool, '/securitydomain/upload');
  writeFileSync(join(work, 'transfer.json'), JSON.stringify(transfer.json));
  restoreSecurityDomain({
    domain: join(work, 'download.json'),
    keys: [join(work, 'officer-1.pem'), join(work, 'officer-2.pem')],
    transferKey: join(work, 'transfer.json'),
    out: join(work, 'upload.json'),
  });
  const uploaded = await raw('POST', at(pool, '/securitydomain/upload'), {
    token: adminToken,
    body: readFileSync(join(work, 'upload.json'), 'utf8'),
  });
  expect(uploaded.status).toBe(202);
}

function folderFiles(folderUrl: string): { dir: string; files: Record<string, Buffer> } {
  const url = new URL(folderUrl);
  const dir = join(BACKUP_ROOT, url.hostname, ...url.pathname.split('/').filter(Boolean));
  return { dir, files: Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))])) };
}

const AES_MATERIAL = randomBytes(32);
const TAG_VALUE = `tag-${randomUUID()}`;
const digest = createHash('sha256').update('backed up').digest().toString('base64url');

beforeAll(async () => {
  officers = [1, 2, 3].map((i) => selfSignedCertificate({ key: { kind: 'rsa', bits: 2048 }, subject: `/CN=officer-${i}` }));
  work = mkdtempSync(join(tmpdir(), 'coffer-pfb-'));
  adminToken = (await adminSecretCredential(info).getToken(MHSM_SCOPE))!.token;
  userToken = (await unprivilegedCredential(info).getToken(MHSM_SCOPE))!.token;
  await Promise.all([createPool(source), createPool(sibling), createPool(stranger)]);
  const domain = await download(source);
  await Promise.all([uploadDomain(sibling, domain), download(stranger)]);
  const grant = async (pool: string, role: string, principalId: string) => {
    const granted = await call('PUT', pool, `/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`, {
      properties: { roleDefinitionId: ROLE_DEFINITION(role), principalId },
    });
    expect(granted.status).toBe(201);
  };
  // The administrator makes and uses keys as Crypto Officer and User; the unprivileged principal is a Crypto User only.
  for (const pool of [source, sibling]) {
    await grant(pool, hsmRoleIds.cryptoOfficer, info.objectId);
    await grant(pool, hsmRoleIds.cryptoUser, info.objectId);
  }
  await grant(source, hsmRoleIds.cryptoUser, info.unprivileged.objectId);
}, 180_000);

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await Promise.all([removePool(source), removePool(sibling), removePool(stranger)]);
}, 120_000);

async function backup(pool: string) {
  const started = await call('POST', pool, '/backup', { storageResourceUri: STORAGE, token: 'sv=2020&sig=ignored' });
  expect(started.status).toBe(202);
  const job = started.json as { jobId: string; status: string; azureStorageBlobContainerUri: string };
  expect(started.headers['azure-asyncoperation']).toBe(`${uris[pool]!.replace(/\/$/, '')}/backup/${job.jobId}/pending`);
  expect(started.headers['retry-after']).toBeDefined();
  return job;
}

async function restore(pool: string, folderUrl: string, keyName?: string) {
  const folder = folderUrl.slice(STORAGE.length + 1);
  const sas = { storageResourceUri: STORAGE, token: 'ignored' };
  const answer = keyName
    ? await call('PUT', pool, `/keys/${keyName}/restore`, { sasTokenParameters: sas, folder })
    : await call('PUT', pool, '/restore', { sasTokenParameters: sas, folderToRestore: folder });
  return answer;
}

async function purgeKey(pool: string, name: string): Promise<void> {
  expect((await call('DELETE', pool, `/keys/${name}`)).status).toBe(200);
  expect((await call('DELETE', pool, `/deletedkeys/${name}`)).status).toBe(204);
}

describe("a pool's full backup", () => {
  let folderUrl = '';
  let signature = '';

  it('writes an owner-only folder that holds no key material and no tag in the clear, and its status stays final', async () => {
    const rsa = await call('POST', source, '/keys/signer/create', { kty: 'RSA-HSM', key_size: 2048, tags: { owner: TAG_VALUE } });
    expect(rsa.status).toBe(200);
    const rotated = await call('POST', source, '/keys/signer/create', { kty: 'RSA-HSM', key_size: 2048, tags: { owner: TAG_VALUE } });
    expect(rotated.status).toBe(200);
    const aes = await call('PUT', source, '/keys/secretaes', {
      key: { kty: 'oct-HSM', k: AES_MATERIAL.toString('base64url'), key_ops: ['encrypt', 'decrypt'] },
    });
    expect(aes.status).toBe(200);
    const signed = await call('POST', source, '/keys/signer//sign', { alg: 'RS256', value: digest });
    expect(signed.status).toBe(200);
    signature = (signed.json as { value: string }).value;

    const job = await backup(source);
    expect(job).toMatchObject({ status: 'Succeeded', error: null });
    expect(job.azureStorageBlobContainerUri).toMatch(new RegExp(`^${STORAGE}/mhsm-${source}-\\d{14}$`));
    folderUrl = job.azureStorageBlobContainerUri;
    const polled = await call('GET', source, `/backup/${job.jobId}/pending`);
    expect(polled.status).toBe(200);
    expect(polled.json).toEqual(job);

    const { dir, files } = folderFiles(folderUrl);
    expect(Object.keys(files).sort()).toEqual(['keys.bin', 'manifest.json']);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const name of Object.keys(files)) expect(statSync(join(dir, name)).mode & 0o777).toBe(0o600);
    const everything = Buffer.concat(Object.values(files));
    for (const needle of [
      AES_MATERIAL,
      Buffer.from(AES_MATERIAL.toString('base64')),
      Buffer.from(AES_MATERIAL.toString('base64url')),
      Buffer.from(AES_MATERIAL.toString('hex')),
      Buffer.from(TAG_VALUE),
      Buffer.from('signer'),
      Buffer.from('secretaes'),
    ]) {
      expect(everything.includes(needle)).toBe(false);
    }
  });

  it('restores purged keys with their versions, tags and material, into the same pool and into one of the same security domain', async () => {
    const versionsBefore = (await call('GET', source, '/keys/signer/versions')).json as { value: { kid: string }[] };
    await purgeKey(source, 'signer');
    await purgeKey(source, 'secretaes');
    const restored = await restore(source, folderUrl);
    expect(restored.status).toBe(202);
    const job = restored.json as { jobId: string; status: string };
    expect(job.status).toBe('Succeeded');
    expect(restored.headers['azure-asyncoperation']).toBe(`${uris[source]!.replace(/\/$/, '')}/restore/${job.jobId}/pending`);
    expect((await call('GET', source, `/restore/${job.jobId}/pending`)).json).toEqual(restored.json);

    const versionsAfter = (await call('GET', source, '/keys/signer/versions')).json as { value: { kid: string }[] };
    expect(versionsAfter.value.map((v) => v.kid).sort()).toEqual(versionsBefore.value.map((v) => v.kid).sort());
    expect(((await call('GET', source, '/keys/signer')).json as { tags: Record<string, string> }).tags).toEqual({ owner: TAG_VALUE });
    const verified = await call('POST', source, '/keys/signer//verify', { alg: 'RS256', digest, value: signature });
    expect(verified.json).toEqual({ value: true });
    const encrypted = (await call('POST', source, '/keys/secretaes//encrypt', { alg: 'A256GCM', value: Buffer.from('hello').toString('base64url') }))
      .json as Record<string, string>;
    const decrypted = await call('POST', source, '/keys/secretaes//decrypt', {
      alg: 'A256GCM',
      value: encrypted.value!,
      iv: encrypted.iv!,
      tag: encrypted.tag!,
    });
    expect(Buffer.from((decrypted.json as { value: string }).value, 'base64url').toString()).toBe('hello');

    // The sibling pool holds the source's security domain: the backup's keys work there too.
    const elsewhere = await restore(sibling, folderUrl);
    expect(elsewhere.status).toBe(202);
    expect((await call('POST', sibling, '/keys/signer//verify', { alg: 'RS256', digest, value: signature })).json).toEqual({ value: true });
    const there = (
      await call('POST', sibling, '/keys/secretaes//decrypt', { alg: 'A256GCM', value: encrypted.value!, iv: encrypted.iv!, tag: encrypted.tag! })
    ).json as { value: string };
    expect(Buffer.from(there.value, 'base64url').toString()).toBe('hello');

    // A pool of another security domain cannot open it.
    const refused = await restore(stranger, folderUrl);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.json)).toContain('another security domain');
  });

  it('restores one key selectively, and refuses a key the backup does not hold', async () => {
    await purgeKey(source, 'secretaes');
    const selective = await restore(source, folderUrl, 'secretaes');
    expect(selective.status).toBe(202);
    expect((selective.json as { status: string }).status).toBe('Succeeded');
    expect((await call('GET', source, '/keys/secretaes')).status).toBe(200);
    expect((await restore(source, folderUrl, 'nosuchkey')).status).toBe(404);
  });

  it('runs one job at a time per pool, 404s an unknown job, refuses a Crypto User and bad bodies and URIs', async () => {
    const jobs = new DynamoPoolBackupJobStore(
      new DynamoDBDocumentClient({ endpoint: info.endpoints.dynamodb, region: REGION, credentials: () => LOCAL_CREDENTIALS }),
      info.tables.objects,
    );
    const now = Math.floor(Date.now() / 1000);
    expect(await jobs.lock(source, 'held-by-test', now, now + 600)).toBe(true);
    try {
      const busy = await call('POST', source, '/backup', { storageResourceUri: STORAGE });
      expect(busy.status).toBe(409);
      expect(busy.json).toMatchObject({ error: { code: 'Conflict' } });
      expect((await call('POST', source, '/prebackup', { storageResourceUri: STORAGE })).status).toBe(409);
      expect((await restore(source, folderUrl)).status).toBe(409);
    } finally {
      await jobs.unlock(source, 'held-by-test');
    }
    expect((await call('GET', source, `/backup/${'0'.repeat(32)}/pending`)).status).toBe(404);
    expect((await call('GET', source, `/restore/${'0'.repeat(32)}/pending`)).status).toBe(404);
    expect((await call('POST', source, '/backup', { storageResourceUri: STORAGE }, userToken)).status).toBe(403);
    for (const body of [
      {},
      { storageResourceUri: 'http://coffertest.blob.core.windows.net/backups' },
      { storageResourceUri: 'not a uri' },
      { storageResourceUri: 'https://coffertest.blob.core.windows.net/' },
      { storageResourceUri: 'https://coffertest.blob.core.windows.net/..' },
      { storageResourceUri: 'https://coffertest.blob.core.windows.net/backups?sig=x' },
    ]) {
      expect((await call('POST', source, '/backup', body)).status).toBe(400);
    }
    const climbing = await call('PUT', source, '/restore', { sasTokenParameters: { storageResourceUri: STORAGE }, folderToRestore: '../../etc' });
    expect(climbing.status).toBe(400);
    expect(
      (await call('PUT', source, '/restore', { sasTokenParameters: { storageResourceUri: STORAGE }, folderToRestore: 'mhsm-none-20200101000000' }))
        .status,
    ).toBe(400);
  });

  it('prebackup and prerestore only check: they answer Succeeded and write no folder', async () => {
    const before = readdirSync(join(BACKUP_ROOT, 'coffertest.blob.core.windows.net', 'backups')).sort();
    const pre = await call('POST', source, '/prebackup', { storageResourceUri: STORAGE });
    expect(pre.status).toBe(202);
    expect(pre.json).toMatchObject({ status: 'Succeeded', error: null });
    const folder = folderUrl.slice(STORAGE.length + 1);
    const preRestore = await call('PUT', source, '/prerestore', { sasTokenParameters: { storageResourceUri: STORAGE }, folderToRestore: folder });
    expect(preRestore.status).toBe(202);
    expect(
      (await call('PUT', stranger, '/prerestore', { sasTokenParameters: { storageResourceUri: STORAGE }, folderToRestore: folder })).status,
    ).toBe(400);
    expect(readdirSync(join(BACKUP_ROOT, 'coffertest.blob.core.windows.net', 'backups')).sort()).toEqual(before);
  });
});
