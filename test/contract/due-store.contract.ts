import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DUE_SHARDS, type DueItem, type DueKey, type DueStore, shardOf } from '../../lib/events/schedule.ts';

/**
 * What every DueStore must do: test/unit/events/memory-schedule.test.ts runs these tests against the
 * in-memory store and test/integration/dynamo-schedule.test.ts against DynamoDB Local. Every test
 * works in a vault of its own, with dates far in the future of the others', so a shared table shows it
 * no other test's items below its own bound... except those of earlier runs, which the tests filter out.
 */
/**
 * Due times far in the future (2096 on): the local stack's own scheduler runs on real time against the
 * same table, and would take items due in the past as its own (and drop them, their vaults unknown).
 */
const FAR = 4_000_000_000;
const at = (seconds: number) => FAR + seconds;

export function describeDueStoreContract(label: string, store: () => DueStore): void {
  describe(`DueStore contract: ${label}`, () => {
    function vault(): string {
      return `due${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    }

    function expired(vaultName: string, name: string, dueAt: number, version = 'v1'): DueItem {
      return {
        vault: vaultName,
        slot: `secrets#${name}#expired`,
        dueAt,
        work: { kind: 'expiry', moment: 'Expired', collection: 'secrets', name, version, exp: dueAt },
      };
    }

    async function dueOf(s: DueStore, vaultName: string, until: number) {
      const all = [];
      for (let shard = 0; shard < DUE_SHARDS; shard++) all.push(...(await s.due(shard, until, 1000)));
      return all
        .filter((key) => key.vault === vaultName)
        .sort((a, b) => a.slot.localeCompare(b.slot))
        .map(({ vault, slot }) => ({ vault, slot }));
    }

    it('finds what is due by shard and time, not what is due later', async () => {
      const s = store();
      const v = vault();
      await s.replace(v, 'secrets#a#', [expired(v, 'a', at(1000))]);
      await s.replace(v, 'secrets#b#', [expired(v, 'b', at(2000))]);
      expect(await dueOf(s, v, at(1500))).toEqual([{ vault: v, slot: 'secrets#a#expired' }]);
      expect(await dueOf(s, v, at(2000))).toHaveLength(2);
      const shard = shardOf(v, 'secrets#a#expired');
      expect((await s.due(shard, at(1500), 1000)).filter((k) => k.vault === v)).toEqual([{ vault: v, slot: 'secrets#a#expired', dueAt: at(1000) }]);
      expect((await s.due((shard + 1) % DUE_SHARDS, at(1500), 1000)).filter((k) => k.vault === v)).toEqual([]);
      expect(await s.get(v, 'secrets#a#expired')).toMatchObject({ vault: v, dueAt: at(1000), done: false, work: { kind: 'expiry', name: 'a' } });
    });

    it('replaces an object\u2019s items: new work written, the same work kept, other slots removed', async () => {
      const s = store();
      const v = vault();
      const near: DueItem = { ...expired(v, 'a', at(500)), slot: 'secrets#a#nearexpiry' };
      await s.replace(v, 'secrets#a#', [expired(v, 'a', at(1000)), near]);
      const first = (await s.get(v, 'secrets#a#expired'))!;
      expect(await s.complete(first)).toBe(true);
      // The same work again (the stream recomputing): done stays done.
      await s.replace(v, 'secrets#a#', [expired(v, 'a', at(1000))]);
      expect(await s.get(v, 'secrets#a#expired')).toMatchObject({ done: true });
      expect(await s.get(v, 'secrets#a#nearexpiry')).toBeUndefined();
      expect(await dueOf(s, v, at(5000))).toEqual([]);
      // New work in the slot (a new version): due again.
      await s.replace(v, 'secrets#a#', [expired(v, 'a', at(3000), 'v2')]);
      expect(await s.get(v, 'secrets#a#expired')).toMatchObject({ done: false, dueAt: at(3000), work: { version: 'v2' } });
      expect(await dueOf(s, v, at(5000))).toEqual([{ vault: v, slot: 'secrets#a#expired' }]);
      // Nothing due: the object's items are gone, another object's stay.
      await s.replace(v, 'secrets#b#', [expired(v, 'b', at(4000))]);
      await s.replace(v, 'secrets#a#', []);
      expect(await s.get(v, 'secrets#a#expired')).toBeUndefined();
      expect(await dueOf(s, v, at(5000))).toEqual([{ vault: v, slot: 'secrets#b#expired' }]);
    });

    it('lets one run claim an item until its lease passes, and none once the slot holds other work', async () => {
      const s = store();
      const v = vault();
      await s.replace(v, 'secrets#a#', [expired(v, 'a', at(1000))]);
      const item = (await s.get(v, 'secrets#a#expired'))!;
      const results = await Promise.all([s.claim(item, 100, 160), s.claim(item, 100, 160)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await s.claim(item, 150, 210)).toBe(false);
      expect(await s.claim(item, 161, 221)).toBe(true);
      await s.replace(v, 'secrets#a#', [expired(v, 'a', at(1000), 'v2')]);
      expect(await s.claim(item, 500, 560)).toBe(false);
      expect(await s.complete(item)).toBe(false);
      expect(await s.defer(item, at(9000))).toBe(false);
      expect(await s.get(v, 'secrets#a#expired')).toMatchObject({ done: false, work: { version: 'v2' } });
    });

    it('defers an item (releasing its lease) and completes it out of the due index', async () => {
      const s = store();
      const v = vault();
      await s.replace(v, 'secrets#a#', [expired(v, 'a', at(1000))]);
      const item = (await s.get(v, 'secrets#a#expired'))!;
      expect(await s.claim(item, 100, 10_000)).toBe(true);
      expect(await s.defer(item, at(7000))).toBe(true);
      expect(await dueOf(s, v, at(5000))).toEqual([]);
      expect(await dueOf(s, v, at(7000))).toHaveLength(1);
      // The lease went with the deferral: another run may take it.
      expect(await s.claim(item, 101, 161)).toBe(true);
      expect(await s.complete(item)).toBe(true);
      expect(await dueOf(s, v, at(99_999))).toEqual([]);
      expect(await s.claim(item, 10_001, 10_061)).toBe(false);
    });

    it('pages a shard in time order, each due item once', async () => {
      const s = store();
      const v = vault();
      const names = Array.from({ length: 24 }, (_, i) => `n${i}`);
      for (const [i, name] of names.entries()) await s.replace(v, `secrets#${name}#`, [expired(v, name, at(100 + (i % 5)))]);
      const seen: string[] = [];
      for (let shard = 0; shard < DUE_SHARDS; shard++) {
        let after: DueKey | undefined;
        let last = 0;
        do {
          // Other vaults' items may share the shard (a shared table): paged through, not counted.
          const page = await s.due(shard, at(200), 3, after);
          for (const key of page) {
            expect(key.dueAt).toBeGreaterThanOrEqual(last);
            last = key.dueAt;
            if (key.vault === v) seen.push(key.slot);
          }
          after = page.length === 3 ? page.at(-1) : undefined;
        } while (after);
      }
      expect(seen.sort()).toEqual(names.map((name) => `secrets#${name}#expired`).sort());
    });
  });
}
