import { describe, expect, it } from 'vitest';
import { newVersionId } from '../../lib/objects/rules.ts';
import { NameInUse, NameIsDeleted, type ObjectStore, type StoredVersion } from '../../lib/objects/store.ts';
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
  });
}
