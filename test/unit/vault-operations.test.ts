import { describe, expect, it } from 'vitest';
import { VaultError } from '../../lib/core/errors.ts';
import { type OperationStore, type VaultOperation, VaultOperations } from '../../lib/vaults/operations.ts';
import { operationHeaders, operationStatusBody } from '../../lib/vaults/operations-wire.ts';

const SUB = '00000000-0000-0000-0000-00000000000A';
const OTHER = '00000000-0000-0000-0000-00000000000B';
const ID = 'd3b07384-d113-4ec6-a0b6-6e8d0c6b4f0e';

/** Keyed as the table is: by lowercased subscription and id. */
class MemoryOperationStore implements OperationStore {
  items = new Map<string, VaultOperation>();
  async putOperation(operation: VaultOperation) {
    this.items.set(`${operation.subscriptionId.toLowerCase()}#${operation.id}`, structuredClone(operation));
  }
  async getOperation(subscriptionId: string, operationId: string) {
    return this.items.get(`${subscriptionId.toLowerCase()}#${operationId}`);
  }
}

function setup() {
  const store = new MemoryOperationStore();
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const operations = new VaultOperations(
    store,
    () => clock,
    () => ID,
  );
  return { store, operations, tick: (ms: number) => (clock += ms) };
}

describe('vault operations', () => {
  it('records the work as succeeded once it has run, with its start and end', async () => {
    const { store, operations, tick } = setup();
    const operation = await operations.run(SUB, 'eastus', 'purge', 'gone', async () => {
      expect(store.items.size).toBe(0);
      tick(1500);
    });
    expect(operation).toEqual({
      id: ID,
      subscriptionId: SUB,
      location: 'eastus',
      operation: 'purge',
      resourceName: 'gone',
      status: 'Succeeded',
      startTime: '2026-01-01T00:00:00.000Z',
      endTime: '2026-01-01T00:00:01.500Z',
    });
    expect([...store.items.values()]).toEqual([operation]);
  });

  it('records nothing when the work fails, and lets its error through', async () => {
    const { store, operations } = setup();
    const refused = new VaultError(409, 'Conflict', 'purge protection');
    await expect(
      operations.run(SUB, 'eastus', 'purge', 'kept', async () => {
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(store.items.size).toBe(0);
  });

  it('answers the subscription its operation, in any case of id, subscription and location', async () => {
    const { operations } = setup();
    const operation = await operations.run(SUB, 'eastus', 'purge', 'gone', async () => {});
    expect(await operations.result(SUB.toLowerCase(), 'East US', ID.toUpperCase())).toEqual(operation);
    expect(operationStatusBody(operation)).toEqual({
      id: `/subscriptions/${SUB}/providers/Microsoft.KeyVault/locations/eastus/operationResults/${ID}`,
      name: ID,
      status: 'Succeeded',
      startTime: operation.startTime,
      endTime: operation.endTime,
    });
  });

  it('is OperationNotFound for another subscription, another location, an unknown id or one that is no id', async () => {
    const { operations } = setup();
    await operations.run(SUB, 'eastus', 'purge', 'gone', async () => {});
    for (const [subscription, location, id] of [
      [OTHER, 'eastus', ID],
      [SUB, 'westeurope', ID],
      [SUB, 'eastus', 'a0b1c2d3-0000-4000-8000-000000000000'],
      [SUB, 'eastus', 'x'.repeat(2000)],
    ] as const) {
      const error = await operations.result(subscription, location, id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VaultError);
      expect(error).toMatchObject({ status: 404, code: 'OperationNotFound' });
      expect((error as Error).message.length).toBeLessThan(200);
    }
  });

  it('points Location and Azure-AsyncOperation at the operation with the request api-version', async () => {
    const { operations } = setup();
    const operation = await operations.run(SUB, 'eastus', 'purge', 'gone', async () => {});
    const url = `https://management.localhost:8443/subscriptions/${SUB}/providers/Microsoft.KeyVault/locations/eastus/operationResults/${ID}?api-version=2026-02-01`;
    expect(operationHeaders(operation, 'https://management.localhost:8443', '2026-02-01')).toEqual({
      Location: url,
      'Azure-AsyncOperation': url,
      'Retry-After': '0',
    });
  });
});
