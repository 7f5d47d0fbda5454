import { describe, expect, it } from 'vitest';
import { newVersionId } from '../../lib/objects/rules.ts';
import { type Collection, ManagedObject, NameInUse, NameIsDeleted, type ObjectStore, type StoredVersion } from '../../lib/objects/store.ts';
import { allPages, bytes, text, version } from './versions.ts';

/**
 * What every ObjectStore must do, whatever it stores in: test/unit/memory-object-store.test.ts runs
 * these tests against the in-memory store and test/integration/dynamo-object-store.test.ts against
 * DynamoDB Local, so domain tests on the in-memory store stand for the real one.
 *
 * `store()` is called once per test. Every test works in a vault of its own, so a store backed by a
 * shared table sees no other test's objects.
 */
export function describeObjectStoreContract(label: string, store: () => ObjectStore): void {
  describe(`ObjectStore contract: ${label}`, () => {
    let vaults = 0;
    function subject() {
      vaults += 1;
      return { store: store(), vault: `contract${vaults}-${Math.random().toString(36).slice(2, 10)}` };
    }

    it('adds a version and reads it back as the latest and by its id', async () => {
      const { store, vault } = subject();
      const added = version('Report', 1);
      const head = await store.addVersion(vault, 'secrets', added);
      expect(head).toMatchObject({ name: 'Report', latest: added.version, revision: 1, attributes: added.attributes });

      const read = await store.getHead(vault, 'secrets', 'Report');
      expect(read).toMatchObject({ name: 'Report', latest: added.version, revision: 1, attributes: added.attributes, plain: added.plain });
      expect(text(read!.meta)).toBe('meta-1');
      const stored = await store.getVersion(vault, 'secrets', 'Report', added.version);
      expect(stored).toMatchObject({ name: 'Report', version: added.version, attributes: added.attributes, plain: added.plain });
      expect(text(stored!.meta)).toBe('meta-1');
      expect(text(stored!.secret!)).toBe('secret-1');

      expect(await store.getHead(vault, 'secrets', 'Other')).toBeUndefined();
      expect(await store.getVersion(vault, 'secrets', 'Report', newVersionId())).toBeUndefined();
    });

    it('makes each added version the latest, the head carrying its metadata', async () => {
      const { store, vault } = subject();
      const first = version('rotating', 1);
      const second = version('rotating', 2);
      await store.addVersion(vault, 'keys', first);
      const head = await store.addVersion(vault, 'keys', second);
      expect(head).toMatchObject({ latest: second.version, revision: 2 });
      const read = await store.getHead(vault, 'keys', 'rotating');
      expect(read).toMatchObject({ latest: second.version, revision: 2, attributes: second.attributes, plain: second.plain });
      expect(text(read!.meta)).toBe('meta-2');
      expect(text((await store.getVersion(vault, 'keys', 'rotating', first.version))!.secret!)).toBe('secret-1');
    });

    it('matches names case-insensitively and keeps the casing the object was created with', async () => {
      const { store, vault } = subject();
      const first = version('MixedCase', 1);
      const second = version('MIXEDCASE', 2);
      await store.addVersion(vault, 'secrets', first);
      const head = await store.addVersion(vault, 'secrets', second);
      expect(head.name).toBe('MixedCase');
      expect((await store.getHead(vault, 'secrets', 'mixedcase'))?.name).toBe('MixedCase');
      expect((await store.getVersion(vault, 'secrets', 'mIxEdCaSe', second.version))?.name).toBe('MixedCase');
      expect((await store.listVersions(vault, 'secrets', 'MIXEDCASE', 10)).items.map((v) => v.name)).toEqual(['MixedCase', 'MixedCase']);
    });

    it('keeps vaults and collections apart', async () => {
      const { store, vault } = subject();
      const other = `${vault}-other`;
      await store.addVersion(vault, 'secrets', version('shared', 1));
      expect(await store.getHead(vault, 'keys', 'shared')).toBeUndefined();
      expect(await store.getHead(other, 'secrets', 'shared')).toBeUndefined();
      expect((await store.listHeads(vault, 'keys', 10)).items).toEqual([]);
      expect((await store.listHeads(other, 'secrets', 10)).items).toEqual([]);
      await store.addVersion(vault, 'keys', version('shared', 2));
      expect((await store.getHead(vault, 'secrets', 'shared'))?.revision).toBe(1);
    });

    it('stores copies: changing what was passed in or handed out changes nothing stored', async () => {
      const { store, vault } = subject();
      const added = version('copied', 1);
      await store.addVersion(vault, 'secrets', added);
      added.meta.fill(0);
      added.secret!.fill(0);
      added.attributes.enabled = false;
      (added.plain.ops as string[]).push('changed');
      const read = (await store.getVersion(vault, 'secrets', 'copied', added.version))!;
      expect(text(read.meta)).toBe('meta-1');
      expect(text(read.secret!)).toBe('secret-1');
      expect(read.attributes.enabled).toBe(true);
      expect(read.plain.ops).toEqual(['sign', 'verify']);

      read.meta.fill(0);
      (read.plain.ops as string[]).push('changed');
      const head = (await store.getHead(vault, 'secrets', 'copied'))!;
      head.meta.fill(0);
      expect(text((await store.getVersion(vault, 'secrets', 'copied', added.version))!.meta)).toBe('meta-1');
      expect((await store.getVersion(vault, 'secrets', 'copied', added.version))!.plain.ops).toEqual(['sign', 'verify']);
      expect(text((await store.getHead(vault, 'secrets', 'copied'))!.meta)).toBe('meta-1');
    });

    it('lands every one of 10 concurrent adds on one name as a version, the head on one of them', async () => {
      const { store, vault } = subject();
      const added = Array.from({ length: 10 }, (_, i) => version('contended', i));
      const heads = await Promise.all(added.map((v) => store.addVersion(vault, 'secrets', v)));
      expect(heads.map((h) => h.revision).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

      const listed = await store.listVersions(vault, 'secrets', 'contended', 25);
      expect(listed.items.map((v) => v.version).sort()).toEqual(added.map((v) => v.version).sort());
      const head = (await store.getHead(vault, 'secrets', 'contended'))!;
      expect(head.revision).toBe(10);
      const latest = added.find((v) => v.version === head.latest);
      expect(latest).toBeDefined();
      // The head carries the metadata of the version it points at, not of another writer's.
      expect(text(head.meta)).toBe(text(latest!.meta));
      expect(head.plain).toEqual(latest!.plain);
    });

    it('updates the latest version and the head copy with it', async () => {
      const { store, vault } = subject();
      const added = version('updated', 1);
      await store.addVersion(vault, 'secrets', added);
      let seen: StoredVersion | undefined;
      const updated = await store.updateVersion(vault, 'secrets', 'UPDATED', added.version, async (current) => {
        seen = current;
        return { attributes: { ...current.attributes, enabled: false, updated: 2000 }, meta: bytes('meta-new'), plain: { ...current.plain, n: 99 } };
      });
      expect(text(seen!.secret!)).toBe('secret-1');
      expect(updated).toMatchObject({ name: 'updated', version: added.version, attributes: { enabled: false, updated: 2000 }, plain: { n: 99 } });
      expect(text(updated!.meta)).toBe('meta-new');
      expect(text(updated!.secret!)).toBe('secret-1');

      const stored = (await store.getVersion(vault, 'secrets', 'updated', added.version))!;
      expect(stored).toMatchObject({ attributes: { enabled: false, updated: 2000 }, plain: { n: 99 } });
      expect(text(stored.meta)).toBe('meta-new');
      expect(text(stored.secret!)).toBe('secret-1');
      const head = (await store.getHead(vault, 'secrets', 'updated'))!;
      expect(head).toMatchObject({ latest: added.version, revision: 2, attributes: { enabled: false, updated: 2000 }, plain: { n: 99 } });
      expect(text(head.meta)).toBe('meta-new');
    });

    it('updates an older version without touching the head', async () => {
      const { store, vault } = subject();
      const older = version('history', 1);
      const latest = version('history', 2);
      await store.addVersion(vault, 'keys', older);
      await store.addVersion(vault, 'keys', latest);
      await store.updateVersion(vault, 'keys', 'history', older.version, async (current) => ({
        attributes: { ...current.attributes, enabled: false, updated: 3000 },
        meta: bytes('meta-older'),
        plain: current.plain,
      }));
      const stored = (await store.getVersion(vault, 'keys', 'history', older.version))!;
      expect(stored.attributes).toMatchObject({ enabled: false, updated: 3000 });
      expect(text(stored.meta)).toBe('meta-older');
      const head = (await store.getHead(vault, 'keys', 'history'))!;
      expect(head).toMatchObject({ latest: latest.version, revision: 2, attributes: latest.attributes });
      expect(text(head.meta)).toBe('meta-2');
    });

    it('applies concurrent updates of one version one after the other, none lost', async () => {
      const { store, vault } = subject();
      const added = version('counter', 0);
      await store.addVersion(vault, 'secrets', added);
      await Promise.all(
        Array.from({ length: 5 }, () =>
          store.updateVersion(vault, 'secrets', 'counter', added.version, async (current) => {
            await new Promise((resolve) => setTimeout(resolve, 5));
            return {
              attributes: { ...current.attributes, updated: current.attributes.updated + 1 },
              meta: current.meta,
              plain: { ...current.plain, n: Number(current.plain.n) + 1 },
            };
          }),
        ),
      );
      expect((await store.getVersion(vault, 'secrets', 'counter', added.version))?.plain.n).toBe(5);
      expect(await store.getHead(vault, 'secrets', 'counter')).toMatchObject({ revision: 6, plain: { n: 5 } });
    });

    it('applies concurrent updates of an older version one after the other, none lost, even within one second', async () => {
      const { store, vault } = subject();
      const older = version('tagged', 1);
      const latest = version('tagged', 2);
      await store.addVersion(vault, 'keys', older);
      await store.addVersion(vault, 'keys', latest);
      // Each writer adds its own tag to the tags it read; all stamp the same `updated`, as writers in
      // one second of the clock do.
      await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          store.updateVersion(vault, 'keys', 'tagged', older.version, async (current) => {
            await new Promise((resolve) => setTimeout(resolve, 5));
            return {
              attributes: { ...current.attributes, updated: 5000 },
              meta: bytes(`${text(current.meta)},tag-${i}`),
              plain: current.plain,
            };
          }),
        ),
      );
      const stored = (await store.getVersion(vault, 'keys', 'tagged', older.version))!;
      expect(text(stored.meta).split(',').sort()).toEqual(['meta-1', 'tag-0', 'tag-1', 'tag-2', 'tag-3', 'tag-4']);
      expect(stored.attributes.updated).toBe(5000);
      const head = (await store.getHead(vault, 'keys', 'tagged'))!;
      expect(head).toMatchObject({ latest: latest.version, revision: 2, attributes: latest.attributes });
      expect(text(head.meta)).toBe('meta-2');
    });

    it('updates nothing and calls nobody for an unknown object or version', async () => {
      const { store, vault } = subject();
      const added = version('present', 1);
      await store.addVersion(vault, 'secrets', added);
      let calls = 0;
      const change = async (current: StoredVersion) => {
        calls += 1;
        return { attributes: current.attributes, meta: current.meta, plain: current.plain };
      };
      expect(await store.updateVersion(vault, 'secrets', 'absent', added.version, change)).toBeUndefined();
      expect(await store.updateVersion(vault, 'secrets', 'present', newVersionId(), change)).toBeUndefined();
      expect(calls).toBe(0);
    });

    it('pages heads in name order, a cursor only while more follow, no duplicates or gaps', async () => {
      const { store, vault } = subject();
      const names = ['delta', 'Alpha', 'echo', 'charlie', 'Bravo', 'golf', 'foxtrot'];
      for (const [i, name] of names.entries()) await store.addVersion(vault, 'secrets', version(name, i));
      const pages = await allPages((cursor) => store.listHeads(vault, 'secrets', 3, cursor));
      expect(pages.map((p) => p.items.length)).toEqual([3, 3, 1]);
      expect(pages.map((p) => p.cursor !== undefined)).toEqual([true, true, false]);
      expect(pages.flatMap((p) => p.items.map((h) => h.name))).toEqual(['Alpha', 'Bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf']);
    });

    it('ends a listing whose last page is exactly full without a cursor to an empty page', async () => {
      const { store, vault } = subject();
      for (const [i, name] of ['a1', 'a2', 'a3', 'a4'].entries()) await store.addVersion(vault, 'keys', version(name, i));
      const pages = await allPages((cursor) => store.listHeads(vault, 'keys', 2, cursor));
      expect(pages.map((p) => p.items.map((h) => h.name))).toEqual([
        ['a1', 'a2'],
        ['a3', 'a4'],
      ]);
      expect(pages[1]!.cursor).toBeUndefined();
      expect(await store.listHeads(vault, 'keys', 4)).toMatchObject({ cursor: undefined });
      expect((await store.listHeads(vault, 'keys', 10)).items).toHaveLength(4);
      expect((await store.listHeads(vault, 'keys', 3)).cursor).toBeDefined();
    });

    it('pages versions in version order, without their secrets', async () => {
      const { store, vault } = subject();
      const added: StoredVersion[] = [];
      for (let i = 0; i < 5; i++) {
        const v = version('paged', i);
        added.push(v);
        await store.addVersion(vault, 'keys', v);
      }
      const pages = await allPages((cursor) => store.listVersions(vault, 'keys', 'paged', 2, cursor));
      expect(pages.map((p) => p.items.length)).toEqual([2, 2, 1]);
      const listed = pages.flatMap((p) => p.items);
      expect(listed.map((v) => v.version)).toEqual(added.map((v) => v.version).sort());
      expect(listed.every((v) => v.secret === undefined)).toBe(true);
      const first = listed.find((v) => v.version === added[0]!.version)!;
      expect(first).toMatchObject({ name: 'paged', attributes: added[0]!.attributes, plain: added[0]!.plain });
      expect(text(first.meta)).toBe('meta-0');
      expect(await store.listVersions(vault, 'keys', 'unknown', 2)).toMatchObject({ items: [], cursor: undefined });
    });

    it('reads every version with its secret for a backup, stopping after max + 1', async () => {
      const { store, vault } = subject();
      for (let i = 0; i < 5; i++) await store.addVersion(vault, 'secrets', version('backed-up', i));
      const all = await store.allVersions(vault, 'secrets', 'backed-up', 10);
      expect(all).toHaveLength(5);
      expect(all.map((v) => text(v.secret!)).sort()).toEqual(['secret-0', 'secret-1', 'secret-2', 'secret-3', 'secret-4']);
      expect(await store.allVersions(vault, 'secrets', 'backed-up', 2)).toHaveLength(3);
      expect(await store.allVersions(vault, 'secrets', 'backed-up', 4)).toHaveLength(5);
      expect(await store.allVersions(vault, 'secrets', 'absent', 2)).toEqual([]);
    });

    it('reads and pages every version even when their secrets are more than one response can carry', async () => {
      // 60 versions of 24 KB sealed secrets: about 1.4 MB, past the 1 MB DynamoDB returns per Query.
      const { store, vault } = subject();
      const added = Array.from({ length: 60 }, (_, i) => ({ ...version('large', i), secret: new Uint8Array(24 * 1024).fill(i) }));
      // Restored rather than added one by one: the same versions in a fraction of the writes' time.
      await store.restore(vault, 'secrets', added, added[59]!.version);
      const ids = added.map((v) => v.version).sort();

      const all = await store.allVersions(vault, 'secrets', 'large', 100);
      expect(all.map((v) => v.version)).toEqual(ids);
      // Each secret whole, compared as its length and the one byte it is filled with (fast on 1.4 MB).
      const secrets = all.map((v) => [v.secret!.length, ...new Set(v.secret)]);
      expect(secrets).toEqual(all.map((v) => [24 * 1024, added.findIndex((a) => a.version === v.version)]));

      const pages = await allPages((cursor) => store.listVersions(vault, 'secrets', 'large', 50, cursor));
      expect(pages.map((p) => p.items.length)).toEqual([50, 10]);
      expect(pages.flatMap((p) => p.items.map((v) => v.version))).toEqual(ids);
    });

    it('soft-deletes into a space of its own, lists deleted objects, and recovers them', async () => {
      const { store, vault } = subject();
      const added = version('Removed', 1);
      await store.addVersion(vault, 'secrets', added);
      await store.addVersion(vault, 'secrets', version('kept', 2));
      const deleted = await store.softDelete(vault, 'secrets', 'removed', { deletedDate: 5000, scheduledPurgeDate: 9000 });
      expect(deleted).toMatchObject({ name: 'Removed', latest: added.version, revision: 2, deletedDate: 5000, scheduledPurgeDate: 9000 });

      expect(await store.getHead(vault, 'secrets', 'Removed')).toBeUndefined();
      expect((await store.listHeads(vault, 'secrets', 10)).items.map((h) => h.name)).toEqual(['kept']);
      expect(await store.getDeleted(vault, 'secrets', 'REMOVED')).toMatchObject({
        name: 'Removed',
        revision: 2,
        deletedDate: 5000,
        scheduledPurgeDate: 9000,
      });
      expect(await store.getDeleted(vault, 'secrets', 'kept')).toBeUndefined();
      expect((await store.listDeleted(vault, 'secrets', 10)).items.map((d) => d.name)).toEqual(['Removed']);
      expect(text((await store.getVersion(vault, 'secrets', 'Removed', added.version))!.secret!)).toBe('secret-1');

      const recovered = await store.recover(vault, 'secrets', 'removed');
      expect(recovered).toMatchObject({ name: 'Removed', latest: added.version, revision: 3, attributes: added.attributes });
      expect(await store.getHead(vault, 'secrets', 'Removed')).toMatchObject({ revision: 3 });
      expect(await store.getDeleted(vault, 'secrets', 'Removed')).toBeUndefined();
      expect((await store.listDeleted(vault, 'secrets', 10)).items).toEqual([]);
      expect(await store.recover(vault, 'secrets', 'Removed')).toBeUndefined();
    });

    it('soft-deletes and recovers nothing that is not there', async () => {
      const { store, vault } = subject();
      expect(await store.softDelete(vault, 'keys', 'absent', { deletedDate: 1, scheduledPurgeDate: 2 })).toBeUndefined();
      expect(await store.recover(vault, 'keys', 'absent')).toBeUndefined();
      expect(await store.purge(vault, 'keys', 'absent')).toBe(false);
    });

    it('pages deleted objects like live ones', async () => {
      const { store, vault } = subject();
      for (const [i, name] of ['d3', 'd1', 'd2'].entries()) {
        await store.addVersion(vault, 'keys', version(name, i));
        await store.softDelete(vault, 'keys', name, { deletedDate: i, scheduledPurgeDate: i + 1 });
      }
      const pages = await allPages((cursor) => store.listDeleted(vault, 'keys', 2, cursor));
      expect(pages.map((p) => p.items.map((d) => d.name))).toEqual([['d1', 'd2'], ['d3']]);
      expect(pages[0]!.items[0]).toMatchObject({ deletedDate: 1, scheduledPurgeDate: 2 });
    });

    it('refuses a new version of a deleted name until it is recovered', async () => {
      const { store, vault } = subject();
      await store.addVersion(vault, 'secrets', version('Blocked', 1));
      await store.softDelete(vault, 'secrets', 'Blocked', { deletedDate: 1, scheduledPurgeDate: 2 });
      await expect(store.addVersion(vault, 'secrets', version('blocked', 2))).rejects.toBeInstanceOf(NameIsDeleted);
      expect(await store.allVersions(vault, 'secrets', 'Blocked', 10)).toHaveLength(1);
      await store.recover(vault, 'secrets', 'Blocked');
      expect(await store.addVersion(vault, 'secrets', version('blocked', 3))).toMatchObject({ name: 'Blocked', revision: 4 });
    });

    it('purges a deleted object with its versions and attachments; a second purge finds nothing', async () => {
      const { store, vault } = subject();
      const first = version('Purged', 1);
      await store.addVersion(vault, 'keys', first);
      await store.addVersion(vault, 'keys', version('Purged', 2));
      await store.putAttachment(vault, 'keys', 'Purged', 'rotationpolicy', { lifetimeActions: [] });
      expect(await store.purge(vault, 'keys', 'Purged')).toBe(false);
      expect(await store.getHead(vault, 'keys', 'Purged')).toBeDefined();

      await store.softDelete(vault, 'keys', 'Purged', { deletedDate: 1, scheduledPurgeDate: 2 });
      expect(await store.purge(vault, 'keys', 'purged')).toBe(true);
      expect(await store.getDeleted(vault, 'keys', 'Purged')).toBeUndefined();
      expect(await store.getHead(vault, 'keys', 'Purged')).toBeUndefined();
      expect(await store.getVersion(vault, 'keys', 'Purged', first.version)).toBeUndefined();
      expect(await store.allVersions(vault, 'keys', 'Purged', 10)).toEqual([]);
      expect((await store.listVersions(vault, 'keys', 'Purged', 10)).items).toEqual([]);
      expect(await store.getAttachment(vault, 'keys', 'Purged', 'rotationpolicy')).toBeUndefined();
      expect((await store.listDeleted(vault, 'keys', 10)).items).toEqual([]);
      expect(await store.purge(vault, 'keys', 'Purged')).toBe(false);

      // The name is free again: a new object starts from scratch.
      expect(await store.addVersion(vault, 'keys', version('purged', 3))).toMatchObject({ name: 'purged', revision: 1 });
    });

    it('restores an object onto a free name: every version, the latest as head', async () => {
      const { store, vault } = subject();
      const versions = [version('Restored', 1), version('Restored', 2), version('Restored', 3)];
      const head = await store.restore(vault, 'secrets', versions, versions[1]!.version);
      expect(head).toMatchObject({ name: 'Restored', latest: versions[1]!.version, revision: 1, attributes: versions[1]!.attributes });
      const read = (await store.getHead(vault, 'secrets', 'restored'))!;
      expect(read).toMatchObject({ name: 'Restored', latest: versions[1]!.version, revision: 1, plain: versions[1]!.plain });
      expect(text(read.meta)).toBe('meta-2');
      const all = await store.allVersions(vault, 'secrets', 'Restored', 10);
      expect(all.map((v) => v.version).sort()).toEqual(versions.map((v) => v.version).sort());
      expect(all.map((v) => text(v.secret!)).sort()).toEqual(['secret-1', 'secret-2', 'secret-3']);
    });

    it('restores onto the casing of its latest version, the name stored with every version', async () => {
      const { store, vault } = subject();
      const versions = [version('old-casing', 1), version('New-Casing', 2)];
      versions[0]!.name = 'OLD-CASING';
      const latest = { ...versions[1]!, name: 'Old-Casing' };
      await store.restore(vault, 'keys', [versions[0]!, latest], latest.version);
      expect((await store.getHead(vault, 'keys', 'old-casing'))?.name).toBe('Old-Casing');
      expect((await store.allVersions(vault, 'keys', 'OLD-casing', 10)).map((v) => v.name)).toEqual(['Old-Casing', 'Old-Casing']);
    });

    it('refuses to restore onto a live name (NameInUse) or a deleted one (NameIsDeleted), changing nothing', async () => {
      const { store, vault } = subject();
      const live = version('Taken', 1);
      await store.addVersion(vault, 'secrets', live);
      const backup = version('taken', 2);
      await expect(store.restore(vault, 'secrets', [backup], backup.version)).rejects.toBeInstanceOf(NameInUse);
      expect(await store.getHead(vault, 'secrets', 'Taken')).toMatchObject({ latest: live.version, revision: 1 });
      expect(await store.getVersion(vault, 'secrets', 'Taken', backup.version)).toBeUndefined();

      await store.softDelete(vault, 'secrets', 'Taken', { deletedDate: 1, scheduledPurgeDate: 2 });
      await expect(store.restore(vault, 'secrets', [backup], backup.version)).rejects.toBeInstanceOf(NameIsDeleted);
      expect(await store.getHead(vault, 'secrets', 'Taken')).toBeUndefined();
      expect(await store.allVersions(vault, 'secrets', 'Taken', 10)).toHaveLength(1);
    });

    it('refuses a restore whose latest version is not among its versions', async () => {
      const { store, vault } = subject();
      await expect(store.restore(vault, 'secrets', [version('incomplete', 1)], newVersionId())).rejects.toThrow();
      expect(await store.getHead(vault, 'secrets', 'incomplete')).toBeUndefined();
    });

    it('keeps attachments beside an object, by case-insensitive name, through delete and recover', async () => {
      const { store, vault } = subject();
      await store.addVersion(vault, 'keys', version('Attached', 1));
      expect(await store.getAttachment(vault, 'keys', 'Attached', 'rotationpolicy')).toBeUndefined();
      const policy = { lifetimeActions: [{ action: { type: 'Notify' }, trigger: { timeBeforeExpiry: 'P30D' } }], attributes: { expiryTime: 'P1Y' } };
      await store.putAttachment(vault, 'keys', 'Attached', 'rotationpolicy', policy);
      policy.attributes.expiryTime = 'changed';
      expect(await store.getAttachment(vault, 'keys', 'ATTACHED', 'rotationpolicy')).toEqual({
        lifetimeActions: [{ action: { type: 'Notify' }, trigger: { timeBeforeExpiry: 'P30D' } }],
        attributes: { expiryTime: 'P1Y' },
      });
      expect(await store.getAttachment(vault, 'secrets', 'Attached', 'rotationpolicy')).toBeUndefined();
      expect(await store.getAttachment(vault, 'keys', 'Attached', 'other')).toBeUndefined();

      await store.putAttachment(vault, 'keys', 'attached', 'rotationpolicy', { lifetimeActions: [] });
      expect(await store.getAttachment(vault, 'keys', 'Attached', 'rotationpolicy')).toEqual({ lifetimeActions: [] });
      await store.softDelete(vault, 'keys', 'Attached', { deletedDate: 1, scheduledPurgeDate: 2 });
      await store.recover(vault, 'keys', 'Attached');
      expect(await store.getAttachment(vault, 'keys', 'Attached', 'rotationpolicy')).toEqual({ lifetimeActions: [] });
    });

    describe('linked writes: a certificate, its managed key and its managed secret', () => {
      const all: Collection[] = ['certificates', 'keys', 'secrets'];
      /** One version per collection under one version id, as a certificate writes them. */
      const linked = (name: string, n: number, collections: Collection[] = all) => {
        const id = newVersionId();
        return collections.map((collection) => ({ collection, version: { ...managed(version(name, n)), version: id } }));
      };
      const disabling = (updated: number) => async (current: StoredVersion) => ({
        attributes: { ...current.attributes, enabled: false, updated },
        meta: bytes(`${text(current.meta)}-updated`),
        plain: current.plain,
      });
      const dates = { deletedDate: 7000, scheduledPurgeDate: 8000 };

      it('adds one version to each object and makes each the latest, answering the heads in order', async () => {
        const { store, vault } = subject();
        const first = linked('Linked', 1);
        const heads = await store.addLinkedVersions(vault, first);
        expect(heads.map((h) => [h.name, h.latest, h.revision])).toEqual(all.map(() => ['Linked', first[0]!.version.version, 1]));
        for (const collection of all) {
          const current = (await store.getCurrent(vault, collection, 'linked'))!;
          expect(current.head).toMatchObject({ name: 'Linked', latest: first[0]!.version.version, revision: 1, plain: { managed: true } });
          expect(text(current.version!.secret!)).toBe('secret-1');
        }

        const second = linked('LINKED', 2);
        const next = await store.addLinkedVersions(vault, second);
        expect(next.map((h) => [h.name, h.latest, h.revision])).toEqual(all.map(() => ['Linked', second[0]!.version.version, 2]));
        for (const collection of all) {
          expect(text((await store.getCurrent(vault, collection, 'Linked'))!.version!.secret!)).toBe('secret-2');
          expect((await store.listVersions(vault, collection, 'linked', 10)).items).toHaveLength(2);
        }
      });

      it('adds onto objects of which only some exist, each keeping its own casing', async () => {
        const { store, vault } = subject();
        await store.addVersion(vault, 'keys', managed(version('partKey', 1)));
        const heads = await store.addLinkedVersions(vault, linked('PartKey', 2));
        expect(heads.map((h) => [h.name, h.revision])).toEqual([
          ['PartKey', 1],
          ['partKey', 2],
          ['PartKey', 1],
        ]);
      });

      it('lands every one of 5 concurrent linked adds, every head ending on the same one', async () => {
        const { store, vault } = subject();
        const adds = Array.from({ length: 5 }, (_, i) => linked('racing', i));
        await Promise.all(adds.map((add) => store.addLinkedVersions(vault, add)));
        const heads = await Promise.all(all.map(async (collection) => (await store.getHead(vault, collection, 'racing'))!));
        expect(heads.map((h) => h.revision)).toEqual([5, 5, 5]);
        // Each add is all or nothing, so the last to land set all three heads.
        expect(new Set(heads.map((h) => h.latest)).size).toBe(1);
        for (const collection of all) {
          const listed = (await store.listVersions(vault, collection, 'racing', 10)).items.map((v) => v.version);
          expect(listed.sort()).toEqual(adds.map((add) => add[0]!.version.version).sort());
        }
      });

      it('refuses a linked add when any of the names is deleted (NameIsDeleted), writing none of them', async () => {
        const { store, vault } = subject();
        await store.addVersion(vault, 'secrets', version('held', 1));
        await store.softDelete(vault, 'secrets', 'held', dates);
        await expect(store.addLinkedVersions(vault, linked('Held', 2))).rejects.toBeInstanceOf(NameIsDeleted);
        expect(await store.getHead(vault, 'certificates', 'held')).toBeUndefined();
        expect(await store.getHead(vault, 'keys', 'held')).toBeUndefined();
        expect(await store.allVersions(vault, 'certificates', 'held', 10)).toEqual([]);
        expect(await store.allVersions(vault, 'keys', 'held', 10)).toEqual([]);
      });

      it('refuses a linked add of a version that exists, writing none of them', async () => {
        const { store, vault } = subject();
        const first = linked('repeated', 1);
        await store.addLinkedVersions(vault, first);
        const again = [
          { collection: 'certificates' as const, version: { ...managed(version('repeated', 2)), version: newVersionId() } },
          { collection: 'keys' as const, version: { ...managed(version('repeated', 2)), version: first[1]!.version.version } },
        ];
        await expect(store.addLinkedVersions(vault, again)).rejects.toThrow();
        expect(await store.getHead(vault, 'certificates', 'repeated')).toMatchObject({ revision: 1, latest: first[0]!.version.version });
        expect(await store.allVersions(vault, 'certificates', 'repeated', 10)).toHaveLength(1);
      });

      it('updates one version of each object with the heads, and skips an object without it', async () => {
        const { store, vault } = subject();
        const first = linked('Updated', 1, ['certificates', 'keys']);
        await store.addLinkedVersions(vault, first);
        const id = first[0]!.version.version;
        const seen: string[] = [];
        const updates = all.map((collection) => ({
          collection,
          update: async (current: StoredVersion) => {
            seen.push(`${collection}:${text(current.secret!)}`);
            return disabling(4000)(current);
          },
        }));
        const updated = await store.updateLinkedVersions(vault, 'UPDATED', id, updates);
        expect(seen).toEqual(['certificates:secret-1', 'keys:secret-1']);
        expect(updated!.map((v) => [v.name, v.version, v.attributes.enabled, text(v.meta), text(v.secret!)])).toEqual([
          ['Updated', id, false, 'meta-1-updated', 'secret-1'],
          ['Updated', id, false, 'meta-1-updated', 'secret-1'],
        ]);
        for (const collection of ['certificates', 'keys'] as const) {
          const current = (await store.getCurrent(vault, collection, 'updated'))!;
          expect(current.head).toMatchObject({ revision: 2, attributes: { enabled: false, updated: 4000 } });
          expect(text(current.head.meta)).toBe('meta-1-updated');
          expect(current.version).toMatchObject({ attributes: { enabled: false, updated: 4000 } });
          expect(text(current.version!.secret!)).toBe('secret-1');
        }
        expect(await store.getHead(vault, 'secrets', 'updated')).toBeUndefined();
      });

      it('updates an older linked version without moving the heads', async () => {
        const { store, vault } = subject();
        const older = linked('aging', 1);
        const latest = linked('aging', 2);
        await store.addLinkedVersions(vault, older);
        await store.addLinkedVersions(vault, latest);
        const id = older[0]!.version.version;
        await store.updateLinkedVersions(
          vault,
          'aging',
          id,
          all.map((collection) => ({ collection, update: disabling(4500) })),
        );
        for (const collection of all) {
          expect((await store.getVersion(vault, collection, 'aging', id))!.attributes).toMatchObject({ enabled: false, updated: 4500 });
          const current = (await store.getCurrent(vault, collection, 'aging'))!;
          expect(current.head).toMatchObject({ latest: latest[0]!.version.version, revision: 2, attributes: { enabled: true } });
          expect(text(current.version!.meta)).toBe('meta-2');
        }
      });

      it('updates nothing and calls nobody when the first object has no such version', async () => {
        const { store, vault } = subject();
        await store.addLinkedVersions(vault, linked('firstless', 1, ['keys', 'secrets']));
        const id = (await store.getHead(vault, 'keys', 'firstless'))!.latest;
        let calls = 0;
        const counting = async (current: StoredVersion) => {
          calls += 1;
          return disabling(1)(current);
        };
        const updates = all.map((collection) => ({ collection, update: counting }));
        expect(await store.updateLinkedVersions(vault, 'firstless', id, updates)).toBeUndefined();
        expect(await store.updateLinkedVersions(vault, 'absent', id, updates)).toBeUndefined();
        expect(calls).toBe(0);
        expect((await store.getHead(vault, 'keys', 'firstless'))!.attributes.enabled).toBe(true);
      });

      it('applies concurrent linked updates one after the other, none lost', async () => {
        const { store, vault } = subject();
        const added = linked('counted', 0);
        await store.addLinkedVersions(vault, added);
        const id = added[0]!.version.version;
        const increment = async (current: StoredVersion) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return { attributes: current.attributes, meta: current.meta, plain: { ...current.plain, n: Number(current.plain.n) + 1 } };
        };
        await Promise.all(
          Array.from({ length: 4 }, () =>
            store.updateLinkedVersions(
              vault,
              'counted',
              id,
              all.map((collection) => ({ collection, update: increment })),
            ),
          ),
        );
        for (const collection of all) {
          expect((await store.getVersion(vault, collection, 'counted', id))!.plain.n).toBe(4);
          expect(await store.getHead(vault, collection, 'counted')).toMatchObject({ revision: 5, plain: { n: 4 } });
        }
      });

      it('soft-deletes them together with the same dates, skipping an absent one, and recovers them together', async () => {
        const { store, vault } = subject();
        const added = linked('Gone', 1, ['certificates', 'keys']);
        await store.addLinkedVersions(vault, added);
        const deleted = await store.softDeleteLinked(vault, all, 'gone', dates);
        expect(deleted!.map((d) => [d.name, d.revision, d.deletedDate, d.scheduledPurgeDate])).toEqual([
          ['Gone', 2, 7000, 8000],
          ['Gone', 2, 7000, 8000],
        ]);
        for (const collection of ['certificates', 'keys'] as const) {
          expect(await store.getHead(vault, collection, 'Gone')).toBeUndefined();
          expect(await store.getDeleted(vault, collection, 'Gone')).toMatchObject({ revision: 2, ...dates });
        }
        expect(await store.getDeleted(vault, 'secrets', 'Gone')).toBeUndefined();

        const recovered = await store.recoverLinked(vault, all, 'GONE');
        expect(recovered!.map((h) => [h.name, h.revision, h.latest])).toEqual([
          ['Gone', 3, added[0]!.version.version],
          ['Gone', 3, added[0]!.version.version],
        ]);
        for (const collection of ['certificates', 'keys'] as const) {
          expect(await store.getDeleted(vault, collection, 'Gone')).toBeUndefined();
          const current = (await store.getCurrent(vault, collection, 'gone'))!;
          expect(current.head.revision).toBe(3);
          expect(text(current.version!.secret!)).toBe('secret-1');
        }
        expect(await store.recoverLinked(vault, all, 'Gone')).toBeUndefined();
      });

      it('soft-deletes nothing when the first collection has no live object of the name', async () => {
        const { store, vault } = subject();
        await store.addLinkedVersions(vault, linked('keyonly', 1, ['keys', 'secrets']));
        expect(await store.softDeleteLinked(vault, all, 'keyonly', dates)).toBeUndefined();
        expect(await store.getHead(vault, 'keys', 'keyonly')).toBeDefined();
        expect(await store.getHead(vault, 'secrets', 'keyonly')).toBeDefined();
        expect(await store.recoverLinked(vault, all, 'keyonly')).toBeUndefined();
        expect(await store.purgeLinked(vault, all, 'keyonly')).toBe(false);
      });

      it('purges them together with their versions and attachments; a second purge finds nothing', async () => {
        const { store, vault } = subject();
        const added = linked('Purged', 1);
        await store.addLinkedVersions(vault, added);
        await store.addLinkedVersions(vault, linked('Purged', 2));
        await store.putAttachment(vault, 'certificates', 'Purged', 'policy', { x509: { subject: 'CN=a' } });
        await store.putAttachment(vault, 'keys', 'Purged', 'rotationpolicy', { lifetimeActions: [] });
        expect(await store.purgeLinked(vault, all, 'Purged')).toBe(false);
        await store.softDeleteLinked(vault, all, 'Purged', dates);
        expect(await store.purgeLinked(vault, all, 'purged')).toBe(true);
        for (const collection of all) {
          expect(await store.getDeleted(vault, collection, 'Purged')).toBeUndefined();
          expect(await store.getHead(vault, collection, 'Purged')).toBeUndefined();
          expect(await store.allVersions(vault, collection, 'Purged', 10)).toEqual([]);
          expect(await store.getVersion(vault, collection, 'Purged', added[0]!.version.version)).toBeUndefined();
        }
        expect(await store.getAttachment(vault, 'certificates', 'Purged', 'policy')).toBeUndefined();
        expect(await store.getAttachment(vault, 'keys', 'Purged', 'rotationpolicy')).toBeUndefined();
        expect(await store.purgeLinked(vault, all, 'Purged')).toBe(false);
        expect(await store.addLinkedVersions(vault, linked('purged', 3))).toMatchObject([{ name: 'purged', revision: 1 }, {}, {}]);
      });

      it('refuses to purge while any of the objects is live (NameInUse), purging nothing', async () => {
        const { store, vault } = subject();
        await store.addLinkedVersions(vault, linked('halfway', 1, ['certificates', 'keys']));
        await store.softDeleteLinked(vault, ['certificates', 'keys'], 'halfway', dates);
        await store.addVersion(vault, 'secrets', version('halfway', 2));
        await expect(store.purgeLinked(vault, all, 'halfway')).rejects.toBeInstanceOf(NameInUse);
        expect(await store.getDeleted(vault, 'certificates', 'halfway')).toBeDefined();
        expect(await store.getDeleted(vault, 'keys', 'halfway')).toBeDefined();
        expect(await store.allVersions(vault, 'certificates', 'halfway', 10)).toHaveLength(1);
        expect(await store.getHead(vault, 'secrets', 'halfway')).toMatchObject({ revision: 1 });
      });

      it('restores several objects of one name onto free names, every version, the latest as each head', async () => {
        const { store, vault } = subject();
        const objects = all.map((collection) => {
          const versions = [managed(version('Restored', 1)), managed(version('Restored', 2))];
          return { collection, versions, latest: versions[1]!.version };
        });
        const heads = await store.restoreLinked(vault, objects);
        expect(heads.map((h) => [h.name, h.latest, h.revision])).toEqual(objects.map((o) => ['Restored', o.latest, 1]));
        for (const [i, collection] of all.entries()) {
          const current = (await store.getCurrent(vault, collection, 'restored'))!;
          expect(current.head).toMatchObject({ latest: objects[i]!.latest, plain: { managed: true } });
          expect(text(current.version!.secret!)).toBe('secret-2');
          expect((await store.allVersions(vault, collection, 'Restored', 10)).map((v) => v.version).sort()).toEqual(
            objects[i]!.versions.map((v) => v.version).sort(),
          );
        }
      });

      it('refuses a linked restore onto a live name (NameInUse) or a deleted one (NameIsDeleted), writing nothing', async () => {
        const { store, vault } = subject();
        const backup = () =>
          all.map((collection) => {
            const versions = [managed(version('taken', 1)), managed(version('taken', 2))];
            return { collection, versions, latest: versions[1]!.version };
          });
        await store.addVersion(vault, 'secrets', version('Taken', 1));
        const refused = backup();
        await expect(store.restoreLinked(vault, refused)).rejects.toBeInstanceOf(NameInUse);
        expect(await store.getHead(vault, 'certificates', 'taken')).toBeUndefined();
        expect(await store.allVersions(vault, 'certificates', 'taken', 10)).toEqual([]);
        expect(await store.allVersions(vault, 'secrets', 'taken', 10)).toHaveLength(1);

        await store.softDelete(vault, 'secrets', 'Taken', dates);
        await expect(store.restoreLinked(vault, backup())).rejects.toBeInstanceOf(NameIsDeleted);
        expect(await store.getHead(vault, 'keys', 'taken')).toBeUndefined();
        expect(await store.allVersions(vault, 'keys', 'taken', 10)).toEqual([]);
      });
    });

    describe('a managed object changes only through the linked writes (ManagedObject)', () => {
      /** A certificate's managed secret, alone in its collection: enough for the single-object refusals. */
      async function managedSecret(store: ObjectStore, vault: string, name: string): Promise<StoredVersion> {
        const added = managed(version(name, 1));
        await store.addLinkedVersions(vault, [{ collection: 'secrets', version: added }]);
        return added;
      }

      it('refuses a version that is not managed onto a managed head, and takes a managed one', async () => {
        const { store, vault } = subject();
        const added = await managedSecret(store, vault, 'Owned');
        await expect(store.addVersion(vault, 'secrets', version('owned', 2))).rejects.toBeInstanceOf(ManagedObject);
        expect(await store.getHead(vault, 'secrets', 'owned')).toMatchObject({ latest: added.version, revision: 1 });
        expect(await store.allVersions(vault, 'secrets', 'owned', 10)).toHaveLength(1);
        const managedNext = managed(version('owned', 3));
        expect(await store.addVersion(vault, 'secrets', managedNext)).toMatchObject({ latest: managedNext.version, revision: 2 });
      });

      it('refuses an update of a managed object without calling the update', async () => {
        const { store, vault } = subject();
        const added = await managedSecret(store, vault, 'owned');
        let calls = 0;
        const update = store.updateVersion(vault, 'secrets', 'owned', added.version, async (current) => {
          calls += 1;
          return { attributes: { ...current.attributes, enabled: false }, meta: current.meta, plain: current.plain };
        });
        await expect(update).rejects.toBeInstanceOf(ManagedObject);
        expect(calls).toBe(0);
        expect(await store.getVersion(vault, 'secrets', 'owned', added.version)).toMatchObject({ attributes: { enabled: true } });
      });

      it('refuses to soft-delete, recover or purge a managed object on its own', async () => {
        const { store, vault } = subject();
        await managedSecret(store, vault, 'owned');
        await expect(store.softDelete(vault, 'secrets', 'owned', { deletedDate: 1, scheduledPurgeDate: 2 })).rejects.toBeInstanceOf(ManagedObject);
        expect(await store.getHead(vault, 'secrets', 'owned')).toMatchObject({ revision: 1 });

        await store.softDeleteLinked(vault, ['secrets'], 'owned', { deletedDate: 1, scheduledPurgeDate: 2 });
        await expect(store.recover(vault, 'secrets', 'owned')).rejects.toBeInstanceOf(ManagedObject);
        await expect(store.purge(vault, 'secrets', 'owned')).rejects.toBeInstanceOf(ManagedObject);
        expect(await store.getHead(vault, 'secrets', 'owned')).toBeUndefined();
        expect(await store.getDeleted(vault, 'secrets', 'owned')).toMatchObject({ revision: 2 });
        expect(await store.allVersions(vault, 'secrets', 'owned', 10)).toHaveLength(1);
      });

      it('refuses to restore onto a managed name, live or deleted', async () => {
        const { store, vault } = subject();
        await managedSecret(store, vault, 'owned');
        const backup = version('owned', 5);
        await expect(store.restore(vault, 'secrets', [backup], backup.version)).rejects.toBeInstanceOf(ManagedObject);
        await store.softDeleteLinked(vault, ['secrets'], 'owned', { deletedDate: 1, scheduledPurgeDate: 2 });
        await expect(store.restore(vault, 'secrets', [backup], backup.version)).rejects.toBeInstanceOf(ManagedObject);
        expect(await store.getVersion(vault, 'secrets', 'owned', backup.version)).toBeUndefined();
        expect(await store.getHead(vault, 'secrets', 'owned')).toBeUndefined();
      });
    });
  });
}

/** The version as a certificate's managed key or secret (or the certificate itself) carries it. */
function managed(v: StoredVersion): StoredVersion {
  return { ...v, plain: { ...v.plain, managed: true } };
}
