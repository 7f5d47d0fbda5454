import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hsmRoleIds } from '../../lib/hsm/roles.ts';
import { waitForAuditItems } from '../support/audit.ts';
import { type KeyAndCertificate, selfSignedCertificate } from '../support/certificates.ts';
import { adminSecretCredential, localStack, raw, uniqueName, unprivilegedCredential } from '../support/local.ts';
import { managementClients } from '../support/vaults.ts';
import { restoreSecurityDomain } from '../support/security-domain.ts';

/**
 * A managed HSM pool's security domain through the local stack's routes, on SoftHSM2 tokens made per
 * pool (docs/adr/0022): a new pool refuses its key operations, is activated by a download to three
 * officers' certificates (arm-keyvault reads it Active), refuses a second download; a second pool
 * hands out its transfer key, takes the officers' restore of a quorum (scripts/security-domain.ts),
 * records a failed upload and a successful one, and is Active too; the download's 400s for
 * certificates and quorum, a Crypto User refused the download, the audit records, no PIN in an
 * answer, and a purged pool's name given a fresh token.
 */
const info = localStack();
const pools = managementClients(info).vaults.managedHsms;
const LOCATION = 'eastus';
const MHSM_SCOPE = 'https://managedhsm.azure.net/.default';
const API = 'api-version=7.4';
const ROLE_DEFINITION = (id: string) => `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${id}`;

const poolName = (prefix: string) => uniqueName(prefix).replace(/-/g, '').slice(0, 24);
const first = poolName('psd1');
const second = poolName('psd2');
const uris: Record<string, string> = {};
let adminToken = '';
let userToken = '';
let officers: KeyAndCertificate[] = [];
let work = '';

function certificateJwk(officer: KeyAndCertificate, kid: string) {
  const { n, e } = officer.certificate.publicKey.export({ format: 'jwk' });
  return { kid, kty: 'RSA', key_ops: ['verify', 'encrypt', 'wrapKey'], alg: 'RSA-OAEP-256', n, e, x5c: [officer.certDer.toString('base64')] };
}

const at = (pool: string, path: string) => `${uris[pool]!.replace(/\/$/, '')}${path}?${API}`;

async function createPool(name: string): Promise<void> {
  const pool = await pools.beginCreateOrUpdateAndWait(info.resourceGroup, name, {
    location: LOCATION,
    sku: { family: 'B', name: 'Standard_B1' },
    properties: { tenantId: info.tenantId, initialAdminObjectIds: [info.objectId] },
  });
  uris[name] = pool.properties!.hsmUri!;
  expect(pool.properties!.securityDomainProperties?.activationStatus).toBe('NotActivated');
}

async function removePool(name: string): Promise<void> {
  await pools.beginDeleteAndWait(info.resourceGroup, name).catch(() => undefined);
  await pools.beginPurgeDeletedAndWait(name, LOCATION).catch(() => undefined);
}

beforeAll(async () => {
  officers = [1, 2, 3].map((i) => selfSignedCertificate({ key: { kind: 'rsa', bits: 2048 }, subject: `/CN=officer-${i}` }));
  work = mkdtempSync(join(tmpdir(), 'coffer-sd-'));
  adminToken = (await adminSecretCredential(info).getToken(MHSM_SCOPE))!.token;
  userToken = (await unprivilegedCredential(info).getToken(MHSM_SCOPE))!.token;
  await Promise.all([createPool(first), createPool(second)]);
  // A Crypto User on the first pool: key operations, and none of the security domain's DataActions.
  const assignment = randomUUID();
  const granted = await raw('PUT', at(first, `/providers/Microsoft.Authorization/roleAssignments/${assignment}`), {
    token: adminToken,
    body: { properties: { roleDefinitionId: ROLE_DEFINITION(hsmRoleIds.cryptoUser), principalId: info.unprivileged.objectId } },
  });
  expect(granted.status).toBe(201);
}, 120_000);

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await Promise.all([removePool(first), removePool(second)]);
}, 120_000);

const certificates = () => officers.map((officer, i) => certificateJwk(officer, `officer-${i + 1}`));

describe("a pool's security domain download", () => {
  it('refuses bad certificates and quorums with precise 400s, before the pool is touched', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['two certificates', { certificates: certificates().slice(0, 2), required: 2 }, /3 to 10 certificates; the request has 2/],
      ['a quorum of 1', { certificates: certificates(), required: 1 }, /quorum 'required' is 2 to 10/],
      ['a quorum above the count', { certificates: certificates(), required: 4 }, /\(4\) is more than the number of certificates \(3\)/],
      [
        'an x5c that is no certificate',
        { certificates: [...certificates().slice(0, 2), { ...certificates()[2], x5c: ['bm90IGEgY2VydA=='] }] },
        /Certificate 3's x5c\[0\] is not a base64 DER X.509 certificate/,
      ],
      ['an EC key', { certificates: [...certificates().slice(0, 2), { ...certificates()[2], kty: 'EC' }] }, /Certificate 3 is not an RSA key/],
      [
        'n of another key',
        { certificates: [certificates()[0], certificates()[1], { ...certificates()[2], n: certificates()[0]!.n }] },
        /Certificate 3's n and e are not its certificate's key/,
      ],
      ['the same certificate twice', { certificates: [certificates()[0], certificates()[0], certificates()[1]] }, /a certificate appears twice/],
    ];
    for (const [what, body, message] of cases) {
      const r = await raw('POST', at(first, '/securitydomain/download'), { token: adminToken, body: body as object });
      expect(r.status, what).toBe(400);
      expect((r.json as { error: { code: string; message: string } }).error, what).toMatchObject({
        code: 'BadParameter',
        message: expect.stringMatching(message),
      });
    }
    const typed = await raw('POST', at(first, '/securitydomain/download'), { token: adminToken, body: { certificates: 'three', required: 2 } });
    expect(typed.status).toBe(400);
    // Nothing was downloaded: there is no status, and the pool is not active.
    expect((await raw('GET', at(first, '/securitydomain/download/pending'), { token: adminToken })).status).toBe(404);
    expect((await pools.get(info.resourceGroup, first)).properties!.securityDomainProperties?.activationStatus).toBe('NotActivated');
  });

  it('is refused to a Crypto User, whose key operations are refused until the pool is active', async () => {
    const r = await raw('POST', at(first, '/securitydomain/download'), { token: userToken, body: { certificates: certificates(), required: 2 } });
    expect(r.status).toBe(403);
    const key = await raw('POST', at(first, '/keys/early/create'), { token: userToken, body: { kty: 'RSA-HSM', key_size: 2048 } });
    expect(key.status).toBe(403);
    expect((key.json as { error: { innererror?: { code: string } } }).error.innererror?.code).toBe('HsmNotActivated');
  });

  it('activates the pool, answers the blob of one share per certificate, and is refused once the pool has its domain', async () => {
    const r = await raw('POST', at(first, '/securitydomain/download'), { token: adminToken, body: { certificates: certificates(), required: 2 } });
    expect(r.status).toBe(202);
    expect(r.headers['azure-asyncoperation']).toBe(`${uris[first]!.replace(/\/$/, '')}/securitydomain/download/pending`);
    const blob = JSON.parse((r.json as { value: string }).value) as {
      format: string;
      pool: string;
      required: number;
      domainKey: string;
      shares: { kid: string; share: string }[];
    };
    expect(blob).toMatchObject({ format: 'coffer-security-domain-1', pool: first, required: 2 });
    expect(blob.domainKey).toMatch(/^coffer-domain-/);
    expect(blob.shares.map((share) => share.kid)).toEqual(['officer-1', 'officer-2', 'officer-3']);
    for (const share of blob.shares) expect(share.share.split('.')).toHaveLength(5);
    writeFileSync(join(work, 'download.json'), r.text);

    const pending = await raw('GET', at(first, '/securitydomain/download/pending'), { token: adminToken });
    expect(pending.status).toBe(200);
    expect(pending.json).toEqual({ status: 'Success', status_details: expect.stringContaining('activated') });
    const pool = await pools.get(info.resourceGroup, first);
    expect(pool.properties!.securityDomainProperties).toMatchObject({ activationStatus: 'Active' });

    const again = await raw('POST', at(first, '/securitydomain/download'), {
      token: adminToken,
      body: { certificates: certificates(), required: 2 },
    });
    expect(again.status).toBe(409);
    expect((again.json as { error: { code: string } }).error.code).toBe('Conflict');
    // An active pool takes no upload, nor hands out a transfer key.
    expect((await raw('GET', at(first, '/securitydomain/upload'), { token: adminToken })).status).toBe(409);

    const [item] = await waitForAuditItems(String(r.headers['x-ms-request-id']));
    expect(item).toMatchObject({
      vault: { S: `managedhsms/${first}` },
      operationName: { S: 'SecurityDomainDownload' },
      httpStatusCode: { N: '202' },
    });
  });

  it("never answers the pool's token or its PINs", async () => {
    const r = await raw(
      'GET',
      `${info.managementUrl}/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/managedHSMs/${first}?api-version=2023-07-01`,
      {
        token: (await adminSecretCredential(info).getToken(info.managementScope))!.token,
      },
    );
    expect(r.status).toBe(200);
    expect(r.text).not.toMatch(/sealed|token|pin/i);
  });
});

describe("a pool's security domain upload", () => {
  it("restores the first pool's domain into the second through its transfer key, after a failed upload it records", async () => {
    const transfer = await raw('GET', at(second, '/securitydomain/upload'), { token: adminToken });
    expect(transfer.status).toBe(200);
    const answer = transfer.json as { key_format: string; transfer_key: { kty: string; kid: string; n: string; e: string } };
    expect(answer.key_format).toBe('jwk');
    expect(answer.transfer_key).toMatchObject({ kty: 'RSA', kid: expect.stringMatching(/^coffer-/) });
    // The same transfer key on every call.
    expect((await raw('GET', at(second, '/securitydomain/upload'), { token: adminToken })).json).toEqual(answer);
    writeFileSync(join(work, 'transfer.json'), transfer.text);
    for (const [i, officer] of officers.entries()) writeFileSync(join(work, `officer-${i + 1}.pem`), officer.keyPem, { mode: 0o600 });

    expect((await raw('GET', at(second, '/securitydomain/upload/pending'), { token: adminToken })).status).toBe(404);
    const notJson = await raw('POST', at(second, '/securitydomain/upload'), { token: adminToken, body: { value: 'not json' } });
    expect(notJson.status).toBe(400);

    // Shares encrypted to another key of the transfer key's kid: the pool's HSM cannot open them.
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    writeFileSync(join(work, 'stranger.json'), JSON.stringify({ transfer_key: { ...stranger, kid: answer.transfer_key.kid } }));
    const restore = (transferKey: string, out: string) =>
      restoreSecurityDomain({
        domain: join(work, 'download.json'),
        keys: [join(work, 'officer-1.pem'), join(work, 'officer-3.pem')],
        transferKey: join(work, transferKey),
        out: join(work, out),
      });
    restore('stranger.json', 'wrong-upload.json');
    const wrong = await raw('POST', at(second, '/securitydomain/upload'), {
      token: adminToken,
      body: readFileSync(join(work, 'wrong-upload.json'), 'utf8'),
    });
    expect(wrong.status).toBe(400);
    const failed = await raw('GET', at(second, '/securitydomain/upload/pending'), { token: adminToken });
    expect(failed.json).toMatchObject({ status: 'Failed' });
    expect((await pools.get(info.resourceGroup, second)).properties!.securityDomainProperties?.activationStatus).toBe('NotActivated');

    restore('transfer.json', 'upload.json');
    const uploaded = await raw('POST', at(second, '/securitydomain/upload'), {
      token: adminToken,
      body: readFileSync(join(work, 'upload.json'), 'utf8'),
    });
    expect(uploaded.status).toBe(202);
    expect(uploaded.json).toEqual({ status: 'Success', status_details: expect.stringContaining('activated') });
    expect(uploaded.headers['azure-asyncoperation']).toBe(`${uris[second]!.replace(/\/$/, '')}/securitydomain/upload/pending`);
    expect((await raw('GET', at(second, '/securitydomain/upload/pending'), { token: adminToken })).json).toMatchObject({ status: 'Success' });
    expect((await pools.get(info.resourceGroup, second)).properties!.securityDomainProperties?.activationStatus).toBe('Active');
    // The domain is there now: a second upload, or a download, is refused.
    expect(
      (await raw('POST', at(second, '/securitydomain/upload'), { token: adminToken, body: readFileSync(join(work, 'upload.json'), 'utf8') })).status,
    ).toBe(409);
    expect((await raw('POST', at(second, '/securitydomain/download'), { token: adminToken, body: { certificates: certificates() } })).status).toBe(
      409,
    );
  }, 120_000);
});

describe("a purged pool's token", () => {
  it('is wiped, so a new pool of the name gets a fresh token and starts not activated', async () => {
    await removePool(first);
    await createPool(first);
    expect((await raw('GET', at(first, '/securitydomain/download/pending'), { token: adminToken })).status).toBe(404);
    const r = await raw('POST', at(first, '/securitydomain/download'), { token: adminToken, body: { certificates: certificates(), required: 3 } });
    expect(r.status).toBe(202);
    expect(JSON.parse((r.json as { value: string }).value)).toMatchObject({ pool: first, required: 3 });
  }, 120_000);
});
