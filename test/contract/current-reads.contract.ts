import { describe, expect, it } from 'vitest';
import { newVersionId } from '../../lib/objects/rules.ts';
import type { ObjectStore, StoredVersion } from '../../lib/objects/store.ts';
import { bytes, text, version } from './versions.ts';

/**
 * `getCurrent`, the read behind every GetSecret, GetKey and key operation, against every store (the
 * same runners as object-store.contract.ts). The head carries a copy of its latest version, so these
 * tests hold the copy to the version it points at after every write that moves either: concurrent
 * adds, updates, delete and recover, restore. A read that disagrees with `getVersion` is a copy that
 * a write forgot.
 */
export function describeCurrentReadContract(label: string, store: () => ObjectStore): void {
  describe(`ObjectStore contract, one-request reads: ${label}`, () => {
    let vaults = 0;
    function subject() {
      vaults += 1;
      return { store: store(), vault: `current${vaults}-${Math.random().toString(36).slice(2, 10)}` };
    }

    /** The latest version as getCurrent reads it equals the version item the head points at. */
    async function expectLatestAgrees(s: ObjectStore, vault: string, collection: 'secrets' | 'keys', name: string): Promise<StoredVersion> {
      const current = await s.getCurrent(vault, collection, name);
      expect(current).toBeDefined();
      const stored = await s.getVersion(vault, collection, name, current!.head.latest);
      expect(summary(current!.version!)).toEqual(summary(stored!));
      return current!.version!;
    }

    it('reads the latest version, or a named one, with the object that holds it', async () => {
      const { store, vault } = subject();
      const first = version('Current', 1);
      const second = version('current', 2);
      await store.addVersion(vault, 'secrets', first);
      await store.addVersion(vault, 'secrets', second);

      const latest = (await store.getCurrent(vault, 'secrets', 'CURRENT'))!;
      expect(latest.head).toMatchObject({ name: 'Current', latest: second.version, revision: 2 });
      expect(summary(latest.version!)).toEqual(summary({ ...second, name: 'Current' }));

      const named = (await store.getCurrent(vault, 'secrets', 'current', first.version))!;
      expect(named.head).toMatchObject({ name: 'Current', latest: second.version });
      expect(summary(named.version!)).toEqual(summary(first));

      expect(await store.getCurrent(vault, 'secrets', 'current', newVersionId())).toMatchObject({ head: { name: 'Current' } });
      expect((await store.getCurrent(vault, 'secrets', 'current', newVersionId()))!.version).toBeUndefined();
      expect(await store.getCurrent(vault, 'secrets', 'absent')).toBeUndefined();
      expect(await store.getCurrent(vault, 'secrets', 'absent', first.version)).toBeUndefined();
      expect(await store.getCurrent(vault, 'keys', 'current')).toBeUndefined();
    });

    it('reads, after 10 concurrent adds, the version the head points at as latest and each version by its id', async () => {
      const { store, vault } = subject();
      const added = Array.from({ length: 10 }, (_, i) => version('raced', i));
      await Promise.all(added.map((v) => store.addVersion(vault, 'secrets', v)));

      const head = (await store.getHead(vault, 'secrets', 'raced'))!;
      const latest = await expectLatestAgrees(store, vault, 'secrets', 'raced');
      expect(latest.version).toBe(head.latest);
      // The payload of the version the head points at, not of another writer's.
      expect(summary(latest)).toEqual(summary(added.find((v) => v.version === head.latest)!));
      for (const v of added) expect(summary((await store.getCurrent(vault, 'secrets', 'raced', v.version))!.version!)).toEqual(summary(v));
    });

    it('reads an update of the latest version at once, the head copy and the version alike', async () => {
      const { store, vault } = subject();
      const added = version('changed', 1);
      await store.addVersion(vault, 'keys', added);
      await store.updateVersion(vault, 'keys', 'changed', added.version, async (current) => ({
        attributes: { ...current.attributes, enabled: false, exp: 2000, updated: 1500 },
        meta: bytes('meta-changed'),
        plain: { ...current.plain, ops: ['verify'] },
      }));
      const latest = await expectLatestAgrees(store, vault, 'keys', 'changed');
      expect(latest.attributes).toMatchObject({ enabled: false, exp: 2000, updated: 1500 });
      expect(latest.plain.ops).toEqual(['verify']);
      expect(text(latest.meta)).toBe('meta-changed');
      expect(text(latest.secret!)).toBe('secret-1');
      const named = (await store.getCurrent(vault, 'keys', 'changed', added.version))!.version!;
      expect(summary(named)).toEqual(summary(latest));
    });

    it('reads an update of an older version at once by its id, the latest unchanged', async () => {
      const { store, vault } = subject();
      const older = version('layered', 1);
      const newer = version('layered', 2);
      await store.addVersion(vault, 'secrets', older);
      await store.addVersion(vault, 'secrets', newer);
      await store.updateVersion(vault, 'secrets', 'layered', older.version, async (current) => ({
        attributes: { ...current.attributes, enabled: false },
        meta: current.meta,
        plain: current.plain,
      }));
      expect((await store.getCurrent(vault, 'secrets', 'layered', older.version))!.version!.attributes.enabled).toBe(false);
      expect(summary(await expectLatestAgrees(store, vault, 'secrets', 'layered'))).toEqual(summary(newer));
    });

    it('keeps the latest version and its copy equal through concurrent updates of it', async () => {
      const { store, vault } = subject();
      const added = version('contended-update', 0);
      await store.addVersion(vault, 'secrets', added);
      await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          store.updateVersion(vault, 'secrets', 'contended-update', added.version, async (current) => ({
            attributes: { ...current.attributes, enabled: i % 2 === 0 },
            meta: bytes(`${text(current.meta)},${i}`),
            plain: { ...current.plain, n: Number(current.plain.n) + 1 },
          })),
        ),
      );
      const latest = await expectLatestAgrees(store, vault, 'secrets', 'contended-update');
      expect(latest.plain.n).toBe(5);
      expect(text(latest.meta).split(',').sort()).toEqual(['0', '1', '2', '3', '4', 'meta-0']);
    });

    it('finds nothing the moment an object is deleted, and its latest version again once recovered', async () => {
      const { store, vault } = subject();
      const first = version('Returning', 1);
      const second = version('Returning', 2);
      await store.addVersion(vault, 'keys', first);
      await store.addVersion(vault, 'keys', second);
      await store.softDelete(vault, 'keys', 'returning', { deletedDate: 10, scheduledPurgeDate: 20 });
      expect(await store.getCurrent(vault, 'keys', 'Returning')).toBeUndefined();
      expect(await store.getCurrent(vault, 'keys', 'Returning', first.version)).toBeUndefined();

      await store.recover(vault, 'keys', 'returning');
      expect(summary(await expectLatestAgrees(store, vault, 'keys', 'Returning'))).toEqual(summary(second));
      expect(summary((await store.getCurrent(vault, 'keys', 'returning', first.version))!.version!)).toEqual(summary(first));
      // Updates after a recover keep both sides equal too.
      await store.updateVersion(vault, 'keys', 'Returning', second.version, async (current) => ({
        attributes: { ...current.attributes, enabled: false },
        meta: current.meta,
        plain: current.plain,
      }));
      expect((await expectLatestAgrees(store, vault, 'keys', 'Returning')).attributes.enabled).toBe(false);
    });

    it('reads a restored object: its latest version and each other one', async () => {
      const { store, vault } = subject();
      const versions = [version('Revived', 1), version('Revived', 2), version('Revived', 3)];
      await store.restore(vault, 'secrets', versions, versions[1]!.version);
      expect(summary(await expectLatestAgrees(store, vault, 'secrets', 'revived'))).toEqual(summary(versions[1]!));
      for (const v of versions) expect(summary((await store.getCurrent(vault, 'secrets', 'Revived', v.version))!.version!)).toEqual(summary(v));
    });

    it('reads versions without a secret and versions whose secret is larger than a head carries', async () => {
      const { store, vault } = subject();
      const { secret: _none, ...withoutSecret } = version('hsm-like', 1);
      await store.addVersion(vault, 'keys', withoutSecret);
      const hsm = await expectLatestAgrees(store, vault, 'keys', 'hsm-like');
      expect(hsm.secret).toBeUndefined();
      expect(summary(hsm)).toEqual(summary(withoutSecret));

      // Past what a DynamoDB head copies (lib/aws/dynamo/object-items.ts): read from the version.
      for (const size of [4096, 4097, 24 * 1024]) {
        const large = { ...version(`large-${size}`, size), secret: new Uint8Array(size).fill(size % 251) };
        await store.addVersion(vault, 'secrets', large);
        const latest = await expectLatestAgrees(store, vault, 'secrets', `large-${size}`);
        expect(latest.secret).toEqual(large.secret);
        expect((await store.getCurrent(vault, 'secrets', `large-${size}`, large.version))!.version!.secret).toEqual(large.secret);
        await store.updateVersion(vault, 'secrets', `large-${size}`, large.version, async (current) => ({
          attributes: { ...current.attributes, enabled: false },
          meta: current.meta,
          plain: current.plain,
        }));
        expect((await expectLatestAgrees(store, vault, 'secrets', `large-${size}`)).attributes.enabled).toBe(false);
      }
    });

    it('hands out copies: changing what getCurrent returned changes nothing stored', async () => {
      const { store, vault } = subject();
      const added = version('guarded', 1);
      await store.addVersion(vault, 'secrets', added);
      const read = (await store.getCurrent(vault, 'secrets', 'guarded'))!;
      read.version!.secret!.fill(0);
      read.version!.meta.fill(0);
      read.version!.attributes.enabled = false;
      read.head.meta.fill(0);
      expect(summary((await store.getCurrent(vault, 'secrets', 'guarded'))!.version!)).toEqual(summary(added));
    });
  });
}

/** Everything a version carries, as plain values that compare with toEqual. */
function summary(v: StoredVersion) {
  return {
    name: v.name,
    version: v.version,
    attributes: v.attributes,
    plain: v.plain,
    meta: text(v.meta),
    secret: v.secret ? Buffer.from(v.secret).toString('base64') : undefined,
  };
}
