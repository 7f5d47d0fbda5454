import { describe, expect, it } from 'vitest';
import type { DataKeyProvider } from '../../lib/crypto/envelope.ts';
import { sealSkipToken } from '../../lib/http/paging.ts';
import { VaultDirectory } from '../../lib/vaults/directory.ts';
import type { Vault, VaultStore } from '../../lib/vaults/vault.ts';

/**
 * The paging keys the directory hands out stay what they are while a request uses them: two requests
 * that both miss the cache both set it, and the cache zero-fills the entry the second one replaces.
 * (Found as a route fuzz snapshot whose nextLinks, read twice, had two signatures for one cursor.)
 */
const KEY = Buffer.alloc(32, 7);

function directory() {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const keys: DataKeyProvider = {
    generateDataKey: async () => {
      throw new Error('not used');
    },
    // Both callers wait here, so both miss the cache before either sets it.
    decryptDataKey: async () => {
      await gate;
      return Buffer.from(KEY);
    },
  };
  const vaults = new VaultDirectory({} as VaultStore, keys, 'vault.localhost', {});
  return { vaults, release };
}

describe('the vault directory’s paging keys', () => {
  it('are not zero-filled under a request when two requests that missed the cache both set it', async () => {
    const { vaults, release } = directory();
    const vault = { name: 'v', pagingKeyCiphertext: new Uint8Array([1]) } as unknown as Vault;
    const first = vaults.pagingKey(vault);
    const second = vaults.pagingKey(vault);
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.equals(KEY)).toBe(true);
    expect(b.equals(KEY)).toBe(true);
    // A third request reads the cache: the same key, so the first two's tokens open with it.
    const c = await vaults.pagingKey(vault);
    expect(sealSkipToken(a, 'secrets', 'x')).toBe(sealSkipToken(c, 'secrets', 'x'));
  });

  it('hands out copies: a caller that scrubs its key after use leaves the cache intact', async () => {
    const { vaults, release } = directory();
    release();
    const vault = { name: 'v', pagingKeyCiphertext: new Uint8Array([1]) } as unknown as Vault;
    (await vaults.pagingKey(vault)).fill(0);
    expect((await vaults.pagingKey(vault)).equals(KEY)).toBe(true);
  });
});
