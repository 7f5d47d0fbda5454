/**
 * The keys domain over a pool's HSM (docs/adr/0024-keys-in-pools.md) without HTTP: KeyService with
 * PoolHsmKeys on a real SoftHSM2 token and the in-memory store. What only the HSM side shows: a
 * purge removes every version's material from the token, a delete and a recovery leave it there,
 * a refused create leaves nothing in the token, and the KMS port is never reached.
 */
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PoolHsm } from '../../lib/hsm/hsm-keys.ts';
import { noKmsInPools, PoolHsmKeys, poolKeysAddress } from '../../lib/hsm/pool-keys.ts';
import type { ManagedHsmPool } from '../../lib/hsm/pools.ts';
import { KeyService } from '../../lib/keys/keys.ts';
import type { KeyOperationRecord } from '../../lib/keys/records.ts';
import { Pkcs11PoolHsm } from '../../lib/pkcs11/pkcs11-hsm-keys.ts';
import type { VaultAddress } from '../../lib/vaults/vault.ts';
import { domainParts, testClock, vaultErrorOf } from '../support/domain.ts';
import { createSoftHsmToken, operatorSession, removeSoftHsmTokens, type SoftHsmToken } from '../support/softhsm.ts';

let token: SoftHsmToken;
let hsm: PoolHsm;
let keys: KeyService;
let at: VaultAddress;
let parts: ReturnType<typeof domainParts>;
const warnings: string[] = [];

const pool: ManagedHsmPool = {
  name: 'unitpool',
  subscriptionId: '00000000-0000-0000-0000-0000000000aa',
  resourceGroup: 'rg',
  location: 'eastus',
  revision: 1,
  softDeleteRetentionDays: 7,
  purgeProtection: false,
  tenantId: '11111111-1111-1111-1111-111111111111',
  hsmUri: 'https://unitpool.managedhsm.vault.localhost/',
  sku: 'Standard_B1',
  initialAdminObjectIds: [],
  publicNetworkAccess: 'Enabled',
  tags: {},
  activation: { status: 'Active', message: '' },
  created: 1_700_000_000,
};

/** The labels of the token's objects: a key's objects carry its handle. */
function tokenLabels(): string[] {
  const { module, session, close } = operatorSession(token);
  try {
    module.C_FindObjectsInit(session, []);
    const objects = module.C_FindObjects(session, 1_000);
    module.C_FindObjectsFinal(session);
    return objects.map((object) => String(module.C_GetAttributeValue(session, object, [{ type: pkcs11js.CKA_LABEL }])[0]!.value));
  } finally {
    close();
  }
}

beforeAll(() => {
  token = createSoftHsmToken('pool-keys');
  hsm = new Pkcs11PoolHsm(token);
}, 60_000);

afterAll(() => removeSoftHsmTokens());

beforeEach(() => {
  warnings.length = 0;
  parts = domainParts();
  keys = new KeyService(
    parts.store,
    parts.sealer,
    parts.backups,
    noKmsInPools,
    (message) => warnings.push(message),
    {},
    testClock().now,
    new PoolHsmKeys(hsm),
  );
  at = poolKeysAddress(pool, 'https://unitpool.managedhsm.vault.localhost', 'arn:aws:kms:eu-west-1:000000000000:key/deployment');
});

describe("the keys domain over a pool's HSM", () => {
  it("keeps a key's material through delete and recovery, and removes every version's from the token at purge", async () => {
    const first = await keys.create(at, 'doomed', { kty: 'RSA-HSM', key_size: 2048 });
    const second = await keys.create(at, 'doomed', { kty: 'RSA-HSM', key_size: 2048 });
    const handles = (await parts.store.allVersions('MHSM#unitpool', 'keys', 'doomed', 10)).map((v) => (v.plain as { hsmHandle: string }).hsmHandle);
    expect(handles).toHaveLength(2);
    expect(tokenLabels()).toEqual(expect.arrayContaining(handles));

    await keys.delete(at, 'doomed');
    expect(tokenLabels()).toEqual(expect.arrayContaining(handles));
    await keys.recover(at, 'doomed');
    // One RSA key signs and decrypts, both in the HSM.
    const signed = (await keys.operate(at, 'doomed', first.version, 'sign', {
      alg: 'PS256',
      value: Buffer.alloc(32, 1).toString('base64url'),
    })) as KeyOperationRecord;
    expect(signed.result.length).toBe(256);
    expect(second.hsmBacked).toBe(true);

    await keys.delete(at, 'doomed');
    await keys.purge(at, 'doomed');
    expect(tokenLabels().filter((label) => handles.includes(label))).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('refuses a name held by a deleted key before the HSM makes anything, and refuses a software key type', async () => {
    await keys.create(at, 'held', { kty: 'oct-HSM', key_size: 128 });
    await keys.delete(at, 'held');
    const before = tokenLabels().length;
    expect((await vaultErrorOf(keys.create(at, 'held', { kty: 'oct-HSM' }))).status).toBe(409);
    expect(tokenLabels().length).toBe(before);
    expect((await vaultErrorOf(keys.create(at, 'soft', { kty: 'RSA' }))).status).toBe(400);
  });

  it('answers AES-GCM with the HSM-made iv and tag, and decrypts them back', async () => {
    const key = await keys.create(at, 'gcm', { kty: 'oct-HSM', key_size: 256 });
    expect(key.publicKey).toEqual({ kty: 'oct' });
    const sealed = (await keys.operate(at, 'gcm', undefined, 'encrypt', {
      alg: 'A256GCM',
      value: Buffer.from('hello').toString('base64url'),
    })) as KeyOperationRecord;
    expect(sealed.iv?.length).toBe(12);
    expect(sealed.tag?.length).toBe(16);
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
    const opened = (await keys.operate(at, 'gcm', undefined, 'decrypt', {
      alg: 'A256GCM',
      value: b64(sealed.result),
      iv: b64(sealed.iv!),
      tag: b64(sealed.tag!),
    })) as KeyOperationRecord;
    expect(Buffer.from(opened.result).toString()).toBe('hello');
  });
});
