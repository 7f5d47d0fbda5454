import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type EventSubscription, type EventSubscriptionStore, settingsFromPut, subscriptionUid } from '../../lib/events/subscriptions.ts';

/**
 * What every EventSubscriptionStore must do: test/unit/events/memory-subscriptions.test.ts runs these
 * against the in-memory store, test/integration/dynamo-event-subscriptions.test.ts against DynamoDB Local.
 */
export function describeEventSubscriptionStoreContract(label: string, store: () => EventSubscriptionStore): void {
  describe(`EventSubscriptionStore contract: ${label}`, () => {
    const vault = () => `es${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const subscription = (vaultName: string, name: string): EventSubscription => {
      const topic = `/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/${vaultName}`;
      const settings = settingsFromPut(
        {
          properties: {
            destination: { endpointType: 'WebHook', properties: { endpointUrl: 'https://hooks.example/x?code=1' } },
            filter: { includedEventTypes: ['Microsoft.KeyVault.SecretExpired'], subjectBeginsWith: 'db-' },
            labels: ['l1'],
          },
        },
        Date.now(),
      );
      return {
        ...settings,
        vault: vaultName,
        topic,
        name,
        uid: subscriptionUid(topic, name),
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-02T00:00:00.000Z',
      };
    };

    it('keeps a subscription whole, found by its name in any case', async () => {
      const s = store();
      const v = vault();
      const written = subscription(v, 'Hook-One');
      await s.put(written);
      expect(await s.get(v, 'hook-one')).toEqual(written);
      expect(await s.get(vault(), 'hook-one')).toBeUndefined();
    });

    it("lists a vault's subscriptions only, and forgets a deleted one", async () => {
      const s = store();
      const v = vault();
      await s.put(subscription(v, 'a-hook'));
      await s.put(subscription(v, 'b-hook'));
      await s.put(subscription(vault(), 'c-hook'));
      expect((await s.list(v)).map((x) => x.name).sort()).toEqual(['a-hook', 'b-hook']);
      await s.delete(v, 'A-HOOK');
      expect((await s.list(v)).map((x) => x.name)).toEqual(['b-hook']);
      // Deleting what is not there is fine (a retried delete).
      await s.delete(v, 'a-hook');
    });

    it('a put replaces the subscription of that name', async () => {
      const s = store();
      const v = vault();
      await s.put(subscription(v, 'hook'));
      const changed = { ...subscription(v, 'hook'), labels: ['l2'] };
      await s.put(changed);
      expect(await s.get(v, 'hook')).toEqual(changed);
      expect(await s.list(v)).toHaveLength(1);
    });
  });
}
