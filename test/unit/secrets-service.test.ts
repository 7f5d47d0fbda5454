/**
 * The secrets domain's rules through SecretService, on the in-memory store with real envelope
 * encryption and sealed backups: no DynamoDB, no KMS, no HTTP.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { BadParameter, Conflict, Forbidden, NotFound } from '../../lib/core/errors.ts';
import { MemoryObjectStore } from '../../lib/objects/memory-store.ts';
import { newVersionId } from '../../lib/objects/rules.ts';
import { SealedContent } from '../../lib/objects/sealing.ts';
import type { SecretMeta } from '../../lib/secrets/records.ts';
import { SecretService } from '../../lib/secrets/secrets.ts';
import type { VaultAddress } from '../../lib/vaults/vault.ts';
import { addressOf, answerOf, domainParts, testClock, testVault, vaultErrorOf } from '../support/domain.ts';

const DAY = 86_400;

let clock: ReturnType<typeof testClock>;
let parts: ReturnType<typeof domainParts>;
let secrets: SecretService;
let at: VaultAddress;

beforeEach(() => {
  clock = testClock();
  parts = domainParts();
  secrets = new SecretService(parts.store, parts.sealer, parts.backups, clock.now);
  at = addressOf(testVault());
});

function tags(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`tag${i}`, `value${i}`]));
}

describe('SecretService: set and get', () => {
  it('answers the latest version by default and any version by its id', async () => {
    const first = await secrets.set(at, 'db-password', { value: 'one', contentType: 'text/plain', tags: { env: 'test' } });
    clock.advance(10);
    const second = await secrets.set(at, 'db-password', { value: 'two' });

    expect(first.version).toMatch(/^[0-9a-f]{32}$/);
    expect(second.version).not.toBe(first.version);
    expect(first).toMatchObject({ name: 'db-password', value: 'one', contentType: 'text/plain', tags: { env: 'test' } });
    expect(first.attributes).toEqual({ enabled: true, created: clock.now() - 10, updated: clock.now() - 10 });

    const latest = await secrets.get(at, 'db-password', undefined);
    expect(latest).toMatchObject({ name: 'db-password', version: second.version, value: 'two' });
    expect(latest.contentType).toBeUndefined();
    expect(latest.tags).toBeUndefined();
    expect((await secrets.get(at, 'db-password', '')).version).toBe(second.version);

    const older = await secrets.get(at, 'db-password', first.version);
    expect(older).toMatchObject({ version: first.version, value: 'one', contentType: 'text/plain', tags: { env: 'test' } });
  });

  it('matches names case-insensitively and keeps the casing the secret was created with', async () => {
    await secrets.set(at, 'MixedCase', { value: 'v' });
    const read = await secrets.get(at, 'mixedcase', undefined);
    expect(read.name).toBe('MixedCase');
    expect(read.value).toBe('v');
  });

  it('stores the value sealed, never in the clear', async () => {
    const store = new MemoryObjectStore();
    const sealed = new SecretService(store, parts.sealer, parts.backups, clock.now);
    const created = await sealed.set(at, 'sealed', { value: 'hunter2-plaintext', tags: { owner: 'alice-tag' } });
    const version = await store.getVersion(at.vault.name, 'secrets', 'sealed', created.version);
    const stored = JSON.stringify(version, (_key, value) => (value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value));
    expect(stored).not.toContain('hunter2-plaintext');
    expect(stored).not.toContain('alice-tag');
  });

  it('answers 404 SecretNotFound for an unknown name or version', async () => {
    const unknownName = await vaultErrorOf(secrets.get(at, 'missing', undefined));
    expect(unknownName).toBeInstanceOf(NotFound);
    expect(answerOf(unknownName)).toEqual({ status: 404, code: 'SecretNotFound', innerCode: undefined });

    await secrets.set(at, 'present', { value: 'v' });
    const unknownVersion = await vaultErrorOf(secrets.get(at, 'present', '0123456789abcdef0123456789abcdef'));
    expect(answerOf(unknownVersion)).toEqual({ status: 404, code: 'SecretNotFound', innerCode: undefined });
  });

  it('refuses an invalid name with 400 before storing anything', async () => {
    const error = await vaultErrorOf(secrets.set(at, 'not_a_valid_name', { value: 'v' }));
    expect(error).toBeInstanceOf(BadParameter);
    expect(error.status).toBe(400);
    expect((await secrets.list(at, 25)).items).toEqual([]);
  });

  it('refuses to read a disabled secret (403 SecretDisabled) until it is enabled again', async () => {
    const created = await secrets.set(at, 'off', { value: 'v', attributes: { enabled: false } });
    expect(created.attributes.enabled).toBe(false);
    const error = await vaultErrorOf(secrets.get(at, 'off', undefined));
    expect(error).toBeInstanceOf(Forbidden);
    expect(answerOf(error)).toEqual({ status: 403, code: 'Forbidden', innerCode: 'SecretDisabled' });

    await secrets.update(at, 'off', undefined, { attributes: { enabled: true } });
    expect((await secrets.get(at, 'off', undefined)).value).toBe('v');
  });
});

describe('SecretService: update (PATCH)', () => {
  it('keeps what the request leaves out, replaces what it sends, and clears what it sends as null', async () => {
    const nbf = clock.now() - DAY;
    const exp = clock.now() + 30 * DAY;
    const created = await secrets.set(at, 'patched', {
      value: 'unchanged',
      contentType: 'application/json',
      tags: { a: '1', b: '2' },
      attributes: { nbf, exp },
    });
    clock.advance(60);

    const retagged = await secrets.update(at, 'patched', undefined, { tags: { c: '3' } });
    expect(retagged.version).toBe(created.version);
    expect(retagged.value).toBeUndefined();
    expect(retagged.contentType).toBe('application/json');
    expect(retagged.tags).toEqual({ c: '3' });
    expect(retagged.attributes).toEqual({ enabled: true, nbf, exp, created: created.attributes.created, updated: clock.now() });

    const cleared = await secrets.update(at, 'patched', created.version, { contentType: null, attributes: { exp: null } });
    expect(cleared.contentType).toBeUndefined();
    expect(cleared.tags).toEqual({ c: '3' });
    expect(cleared.attributes.nbf).toBe(nbf);
    expect(cleared.attributes.exp).toBeUndefined();

    const read = await secrets.get(at, 'patched', undefined);
    expect(read.value).toBe('unchanged');
    expect(read.contentType).toBeUndefined();
    expect(read.tags).toEqual({ c: '3' });
  });

  it('updates the named version only', async () => {
    const first = await secrets.set(at, 'two-versions', { value: 'one', tags: { v: '1' } });
    const second = await secrets.set(at, 'two-versions', { value: 'two', tags: { v: '2' } });
    await secrets.update(at, 'two-versions', first.version, { tags: { v: 'first' } });
    expect((await secrets.get(at, 'two-versions', first.version)).tags).toEqual({ v: 'first' });
    expect((await secrets.get(at, 'two-versions', second.version)).tags).toEqual({ v: '2' });
  });

  it('refuses a version that is not 32 hex characters with 400, on get and update, without reading the store', async () => {
    await secrets.set(at, 'present', { value: 'v' });
    for (const version of ['x'.repeat(1100), 'short', 'g'.repeat(32)]) {
      const got = await vaultErrorOf(secrets.get(at, 'present', version));
      expect(got).toBeInstanceOf(BadParameter);
      expect(got.message).toBe('The secret version is invalid: a version is 32 hexadecimal characters.');
      const updated = await vaultErrorOf(secrets.update(at, 'missing', version, { tags: {} }));
      expect(updated).toBeInstanceOf(BadParameter);
    }
  });

  it('answers 404 for a version that does not exist', async () => {
    await secrets.set(at, 'present', { value: 'v' });
    const error = await vaultErrorOf(secrets.update(at, 'present', 'ffffffffffffffffffffffffffffffff', { tags: {} }));
    expect(answerOf(error)).toEqual({ status: 404, code: 'SecretNotFound', innerCode: undefined });
  });
});

describe('SecretService: limits', () => {
  it('takes 15 tags of 512 characters and refuses a 16th tag or a longer name or value with 400', async () => {
    const long = 'x'.repeat(512);
    await expect(secrets.set(at, 'tagged', { value: 'v', tags: { ...tags(14), [long]: long } })).resolves.toMatchObject({ name: 'tagged' });

    for (const refused of [tags(16), { [`${long}y`]: 'v' }, { name: `${long}y` }, { '': 'empty name' }]) {
      const onSet = await vaultErrorOf(secrets.set(at, 'tagged', { value: 'v', tags: refused }));
      expect(onSet).toBeInstanceOf(BadParameter);
      expect(answerOf(onSet)).toEqual({ status: 400, code: 'BadParameter', innerCode: undefined });
      const onUpdate = await vaultErrorOf(secrets.update(at, 'tagged', undefined, { tags: refused }));
      expect(onUpdate).toBeInstanceOf(BadParameter);
    }
    // Refused writes changed nothing: one version, with the tags it was created with.
    expect((await secrets.listVersions(at, 'tagged', 25)).items).toHaveLength(1);
    expect(Object.keys((await secrets.get(at, 'tagged', undefined)).tags ?? {})).toHaveLength(15);
  });

  it('takes a value of 25,600 bytes and refuses one byte more, counting UTF-8 bytes, not characters', async () => {
    const largest = 'a'.repeat(25_600);
    expect((await secrets.set(at, 'big', { value: largest })).value).toBe(largest);
    expect((await secrets.get(at, 'big', undefined)).value).toBe(largest);

    const tooLarge = await vaultErrorOf(secrets.set(at, 'big', { value: `${largest}a` }));
    expect(tooLarge).toBeInstanceOf(BadParameter);
    expect(tooLarge.message).toContain('25600');
    // 12,801 two-byte characters are 25,602 bytes.
    const multiByte = await vaultErrorOf(secrets.set(at, 'big', { value: 'é'.repeat(12_801) }));
    expect(multiByte.status).toBe(400);
    expect((await secrets.listVersions(at, 'big', 25)).items).toHaveLength(1);
  });

  it('refuses a content type over 255 characters', async () => {
    await secrets.set(at, 'typed', { value: 'v', contentType: 'c'.repeat(255) });
    const error = await vaultErrorOf(secrets.set(at, 'typed', { value: 'v', contentType: 'c'.repeat(256) }));
    expect(answerOf(error)).toEqual({ status: 400, code: 'BadParameter', innerCode: undefined });
  });
});

describe('SecretService: soft delete, recover, purge', () => {
  it('deletes softly: get is 404, getDeleted answers the dates, recover brings every version back', async () => {
    const first = await secrets.set(at, 'gone', { value: 'one' });
    const second = await secrets.set(at, 'gone', { value: 'two', tags: { t: '1' } });
    clock.advance(5);

    const deleted = await secrets.delete(at, 'gone');
    expect(deleted).toMatchObject({ name: 'gone', version: second.version, tags: { t: '1' } });
    expect(deleted.deletedDate).toBe(clock.now());
    expect(deleted.scheduledPurgeDate).toBe(clock.now() + 7 * DAY);

    const afterDelete = await vaultErrorOf(secrets.get(at, 'gone', undefined));
    expect(answerOf(afterDelete)).toEqual({ status: 404, code: 'SecretNotFound', innerCode: undefined });
    expect(await secrets.getDeleted(at, 'gone')).toEqual(deleted);
    expect((await secrets.listDeleted(at, 25)).items.map((d) => d.name)).toEqual(['gone']);

    const recovered = await secrets.recover(at, 'gone');
    expect(recovered).toMatchObject({ name: 'gone', version: second.version, tags: { t: '1' } });
    expect((await secrets.get(at, 'gone', undefined)).value).toBe('two');
    expect((await secrets.get(at, 'gone', first.version)).value).toBe('one');
    const notDeleted = await vaultErrorOf(secrets.getDeleted(at, 'gone'));
    expect(answerOf(notDeleted)).toEqual({ status: 404, code: 'SecretNotFound', innerCode: undefined });
  });

  it('scheduledPurgeDate follows the vault retention', async () => {
    const longRetention = addressOf(testVault({ name: 'longretention', softDeleteRetentionDays: 90 }));
    await secrets.set(longRetention, 'kept', { value: 'v' });
    const deleted = await secrets.delete(longRetention, 'kept');
    expect(deleted.scheduledPurgeDate - deleted.deletedDate).toBe(90 * DAY);
  });

  it('refuses to reuse a deleted name (409 ObjectIsDeletedButRecoverable)', async () => {
    await secrets.set(at, 'held', { value: 'v' });
    await secrets.delete(at, 'held');
    const error = await vaultErrorOf(secrets.set(at, 'held', { value: 'new' }));
    expect(error).toBeInstanceOf(Conflict);
    expect(answerOf(error)).toEqual({ status: 409, code: 'Conflict', innerCode: 'ObjectIsDeletedButRecoverable' });
  });

  it('purges a deleted secret for good, after which the name is free', async () => {
    await secrets.set(at, 'purged', { value: 'old' });
    await secrets.delete(at, 'purged');
    await secrets.purge(at, 'purged');
    expect(answerOf(await vaultErrorOf(secrets.getDeleted(at, 'purged')))).toEqual({ status: 404, code: 'SecretNotFound', innerCode: undefined });
    expect(answerOf(await vaultErrorOf(secrets.recover(at, 'purged')))).toEqual({ status: 404, code: 'SecretNotFound', innerCode: undefined });

    const reborn = await secrets.set(at, 'purged', { value: 'new' });
    expect((await secrets.listVersions(at, 'purged', 25)).items.map((v) => v.version)).toEqual([reborn.version]);
  });

  it('refuses to purge a live secret (404: it is not deleted)', async () => {
    await secrets.set(at, 'live', { value: 'v' });
    const error = await vaultErrorOf(secrets.purge(at, 'live'));
    expect(answerOf(error)).toEqual({ status: 404, code: 'SecretNotFound', innerCode: undefined });
    expect((await secrets.get(at, 'live', undefined)).value).toBe('v');
  });

  it('refuses to purge in a vault with purge protection (403 PurgeProtected) and keeps the secret recoverable', async () => {
    const protectedVault = addressOf(testVault({ name: 'protectedvault', purgeProtection: true }));
    await secrets.set(protectedVault, 'kept', { value: 'v' });
    await secrets.delete(protectedVault, 'kept');
    const error = await vaultErrorOf(secrets.purge(protectedVault, 'kept'));
    expect(error).toBeInstanceOf(Forbidden);
    expect(answerOf(error)).toEqual({ status: 403, code: 'Forbidden', innerCode: 'PurgeProtected' });

    expect((await secrets.getDeleted(protectedVault, 'kept')).name).toBe('kept');
    await secrets.recover(protectedVault, 'kept');
    expect((await secrets.get(protectedVault, 'kept', undefined)).value).toBe('v');
  });
});

describe('SecretService: backup and restore', () => {
  it('round-trips every version through backup, purge and restore', async () => {
    // Values long enough that ciphertext cannot hold them by chance: a three-letter value turned up
    // in the blob's random base64url text about once in a few hundred runs.
    const values = ['first-value-of-the-saved-secret', 'second-value-of-the-saved-secret'] as const;
    const first = await secrets.set(at, 'saved', { value: values[0], contentType: 'text/plain', tags: { v: '1' } });
    const second = await secrets.set(at, 'saved', { value: values[1], tags: { v: '2' }, attributes: { exp: clock.now() + DAY } });
    const blob = await secrets.backup(at, 'saved');
    for (const value of values) {
      expect(blob).not.toContain(value);
      expect(Buffer.from(blob, 'base64url').includes(Buffer.from(value))).toBe(false);
    }

    await secrets.delete(at, 'saved');
    await secrets.purge(at, 'saved');
    const restored = await secrets.restore(at, blob);

    expect(restored).toMatchObject({ name: 'saved', version: second.version, tags: { v: '2' } });
    expect(restored.attributes).toEqual(second.attributes);
    expect(await secrets.get(at, 'saved', undefined)).toEqual(second);
    expect(await secrets.get(at, 'saved', first.version)).toEqual(first);
    expect((await secrets.listVersions(at, 'saved', 25)).items.map((v) => v.version).sort()).toEqual([first.version, second.version].sort());
  });

  it('restores into another vault of the same tenant, and not into another tenant', async () => {
    await secrets.set(at, 'moved', { value: 'v' });
    const blob = await secrets.backup(at, 'moved');

    const sibling = addressOf(testVault({ name: 'siblingvault' }));
    await secrets.restore(sibling, blob);
    expect((await secrets.get(sibling, 'moved', undefined)).value).toBe('v');

    const foreign = addressOf(testVault({ name: 'foreignvault', tenantId: '22222222-2222-2222-2222-222222222222' }));
    const error = await vaultErrorOf(secrets.restore(foreign, blob));
    expect(answerOf(error)).toEqual({ status: 400, code: 'BadParameter', innerCode: undefined });
    expect((await secrets.list(foreign, 25)).items).toEqual([]);
  });

  it('refuses to restore onto a live name (409), leaving the live secret as it was', async () => {
    await secrets.set(at, 'taken', { value: 'backed up' });
    const blob = await secrets.backup(at, 'taken');
    const live = await secrets.set(at, 'taken', { value: 'live' });

    const error = await vaultErrorOf(secrets.restore(at, blob));
    expect(error).toBeInstanceOf(Conflict);
    expect(answerOf(error)).toEqual({ status: 409, code: 'Conflict', innerCode: undefined });
    expect(await secrets.get(at, 'taken', undefined)).toEqual(live);
    expect((await secrets.listVersions(at, 'taken', 25)).items).toHaveLength(2);
  });

  it('refuses an altered blob, or a key backup, with 400', async () => {
    await secrets.set(at, 'blob', { value: 'v' });
    const blob = await secrets.backup(at, 'blob');
    await secrets.delete(at, 'blob');
    await secrets.purge(at, 'blob');

    const raw = Buffer.from(blob, 'base64url');
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    for (const altered of [raw.toString('base64url'), 'not a blob', blob.slice(0, 20)]) {
      const error = await vaultErrorOf(secrets.restore(at, altered));
      expect(error).toBeInstanceOf(BadParameter);
      expect(error.message).toBe('Backup blob contains invalid or corrupt version.');
    }
    const keyBackup = await parts.backups.seal(at.vault.tenantId, 'keys', { collection: 'keys', name: 'blob', latest: 'x', versions: [] });
    expect(answerOf(await vaultErrorOf(secrets.restore(at, keyBackup)))).toEqual({ status: 400, code: 'BadParameter', innerCode: undefined });
  });
});

/** The managed secret's key, as a certificate names it. */
const KID = 'https://unitvault.vault.localhost/keys/cert/0123456789abcdef0123456789abcdef';

/**
 * A certificate's secret, written as the certificates domain writes it (plain.managed, plain.kid) and
 * sealed as the service seals values: straight into the store, since no secrets operation makes one.
 */
async function addManagedSecret(address: VaultAddress, name: string, value: string): Promise<string> {
  const content = new SealedContent<SecretMeta>(parts.sealer, 'secrets');
  const place = { name, version: newVersionId() };
  await parts.store.addVersion(address.vault.name, 'secrets', {
    ...place,
    attributes: { enabled: true, created: clock.now(), updated: clock.now() },
    meta: await content.sealMeta(address.vault, place, { contentType: 'application/x-pkcs12' }),
    secret: await content.sealSecret(address.vault, place, Buffer.from(value, 'utf8')),
    plain: { managed: true, kid: KID },
  });
  return place.version;
}

/** Azure's refusal of a direct change of a certificate's secret. */
async function expectManagedRefusal(call: Promise<unknown>, operation: string): Promise<void> {
  const error = await vaultErrorOf(call);
  expect(error).toBeInstanceOf(Forbidden);
  expect(answerOf(error)).toEqual({ status: 403, code: 'Forbidden', innerCode: 'SecretManagedByKeyVault' });
  expect(error.message).toBe(`Operation "${operation}" is not allowed as this object's lifetime is managed by Key Vault.`);
}

describe("SecretService: a certificate's managed secret", () => {
  it('reads like any secret, with managed and kid', async () => {
    const version = await addManagedSecret(at, 'cert', 'pfx-bytes');
    const read = await secrets.get(at, 'cert', undefined);
    expect(read).toMatchObject({ name: 'cert', version, value: 'pfx-bytes', contentType: 'application/x-pkcs12', managed: true, kid: KID });
    expect(await secrets.get(at, 'cert', version)).toEqual(read);
    expect((await secrets.list(at, 25)).items).toEqual([expect.objectContaining({ name: 'cert', version, managed: true, kid: KID })]);
    expect((await secrets.listVersions(at, 'cert', 25)).items).toEqual([expect.objectContaining({ version, managed: true })]);
  });

  it('refuses set, update, delete and backup with 403 SecretManagedByKeyVault, and nothing changes', async () => {
    const version = await addManagedSecret(at, 'cert', 'pfx-bytes');
    const before = await secrets.get(at, 'cert', undefined);

    await expectManagedRefusal(secrets.set(at, 'cert', { value: 'replaced' }), 'set');
    await expectManagedRefusal(secrets.set(at, 'CERT', { value: 'replaced' }), 'set');
    await expectManagedRefusal(secrets.update(at, 'cert', undefined, { tags: { changed: 'yes' } }), 'update');
    await expectManagedRefusal(secrets.update(at, 'cert', version, { attributes: { enabled: false } }), 'update');
    await expectManagedRefusal(secrets.delete(at, 'cert'), 'delete');
    await expectManagedRefusal(secrets.backup(at, 'cert'), 'backup');

    expect(await secrets.get(at, 'cert', undefined)).toEqual(before);
    expect((await secrets.listVersions(at, 'cert', 25)).items.map((v) => v.version)).toEqual([version]);
    expect((await secrets.listDeleted(at, 25)).items).toEqual([]);
  });

  it('refuses recover and purge of a deleted managed secret, which stays deleted and readable as deleted', async () => {
    const version = await addManagedSecret(at, 'cert', 'pfx-bytes');
    // Only the certificate's own delete removes its secret: the linked write the certificates domain uses.
    await parts.store.softDeleteLinked(at.vault.name, ['secrets'], 'cert', { deletedDate: clock.now(), scheduledPurgeDate: clock.now() + 7 * DAY });

    await expectManagedRefusal(secrets.recover(at, 'cert'), 'recover');
    await expectManagedRefusal(secrets.purge(at, 'cert'), 'purge');

    expect(await secrets.getDeleted(at, 'cert')).toMatchObject({ name: 'cert', version, managed: true, kid: KID, deletedDate: clock.now() });
    expect(answerOf(await vaultErrorOf(secrets.get(at, 'cert', undefined)))).toEqual({ status: 404, code: 'SecretNotFound', innerCode: undefined });
  });

  it('refuses to restore a backup onto a managed name, live or deleted, leaving the managed secret as it was', async () => {
    const elsewhere = addressOf(testVault({ name: 'siblingvault' }));
    await secrets.set(elsewhere, 'cert', { value: 'backed up' });
    const blob = await secrets.backup(elsewhere, 'cert');

    const version = await addManagedSecret(at, 'cert', 'pfx-bytes');
    await expectManagedRefusal(secrets.restore(at, blob), 'restore');
    expect((await secrets.get(at, 'cert', undefined)).value).toBe('pfx-bytes');
    expect((await secrets.listVersions(at, 'cert', 25)).items.map((v) => v.version)).toEqual([version]);

    const deletedAt = addressOf(testVault({ name: 'deletedvault' }));
    await addManagedSecret(deletedAt, 'cert', 'pfx-bytes');
    await parts.store.softDeleteLinked(deletedAt.vault.name, ['secrets'], 'cert', {
      deletedDate: clock.now(),
      scheduledPurgeDate: clock.now() + 7 * DAY,
    });
    await expectManagedRefusal(secrets.restore(deletedAt, blob), 'restore');
    expect((await secrets.getDeleted(deletedAt, 'cert')).managed).toBe(true);
    expect((await secrets.list(deletedAt, 25)).items).toEqual([]);
  });
});
