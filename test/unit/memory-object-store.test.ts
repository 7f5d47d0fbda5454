import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lib/objects/memory-store.ts';
import { ConcurrentUpdate } from '../../lib/objects/store.ts';
import { describeCurrentReadContract } from '../contract/current-reads.contract.ts';
import { describeObjectStoreContract } from '../contract/object-store.contract.ts';

describeObjectStoreContract('in memory', () => new MemoryObjectStore());
describeCurrentReadContract('in memory', () => new MemoryObjectStore());

describe('MemoryObjectStore', () => {
  it('gives up with ConcurrentUpdate when other writers keep changing the version under an update', async () => {
    const store = new MemoryObjectStore();
    const version = {
      name: 'busy',
      version: 'v1',
      attributes: { enabled: true, created: 1, updated: 1 },
      meta: new Uint8Array([1]),
      plain: {},
    };
    await store.addVersion('vault', 'secrets', version);
    let attempts = 0;
    const update = store.updateVersion('vault', 'secrets', 'busy', 'v1', async (current) => {
      attempts += 1;
      // Another writer bumps the head while this update is computing, every time.
      await store.addVersion('vault', 'secrets', { ...version, version: `v1-${attempts}-other` });
      return { attributes: { ...current.attributes, updated: current.attributes.updated + 1 }, meta: current.meta, plain: current.plain };
    });
    await expect(update).rejects.toBeInstanceOf(ConcurrentUpdate);
    expect(attempts).toBe(25);
  });
});
