import { describe, expect, it } from 'vitest';
import { EnvelopeCipher } from '../../lib/crypto/envelope.ts';
import type { PoolHsm } from '../../lib/hsm/hsm-keys.ts';
import type { PoolTokenSecrets } from '../../lib/hsm/pool-host-tokens.ts';
import { PoolTokens } from '../../lib/hsm/pool-tokens.ts';
import { CountingDataKeys } from '../support/data-keys.ts';

/**
 * Each pool's token PINs (docs/adr/0022): generated per pool, handed to the provisioner, kept only
 * sealed (bound to the pool: another pool's record cannot open them), opened once per container at
 * the pool HSM's first call and again after an opening that failed, and handed to the wipe at purge.
 */
function harness() {
  const dataKeys = new CountingDataKeys();
  const provisioned: { pool: string; secrets: PoolTokenSecrets }[] = [];
  const removed: { pool: string; secrets: PoolTokenSecrets }[] = [];
  const opened: { label: string; secrets: PoolTokenSecrets }[] = [];
  let failOpen = false;
  const tokens = new PoolTokens({
    provisioner: {
      provision: async (pool, secrets) => {
        provisioned.push({ pool, secrets });
        return `coffer-${pool}`;
      },
      remove: async (pool, secrets) => {
        removed.push({ pool, secrets });
      },
    },
    cipher: new EnvelopeCipher(dataKeys),
    keyId: 'alias/backup',
    open: (label, secrets) => {
      if (failOpen) throw new Error('HSM unreachable');
      opened.push({ label, secrets });
      return { randomBytes: async (count: number) => Buffer.alloc(count, 7) } as unknown as PoolHsm;
    },
  });
  return { tokens, provisioned, removed, opened, dataKeys, setFailOpen: (value: boolean) => (failOpen = value) };
}

describe("a pool's token PINs", () => {
  it('are sealed in the record, opened once for the pool, and never readable from another pool', async () => {
    const { tokens, provisioned, opened, dataKeys } = harness();
    const token = await tokens.provision({ name: 'pool1' });
    const [{ secrets }] = provisioned as [{ pool: string; secrets: PoolTokenSecrets }];
    expect(token.label).toBe('coffer-pool1');
    expect(token.sealedSecrets).not.toContain(secrets.pin);
    expect(Buffer.from(token.sealedSecrets, 'base64url').toString('latin1')).not.toContain(secrets.pin);
    expect(Buffer.from(token.sealedSecrets, 'base64url').toString('latin1')).not.toContain(secrets.soPin);

    const hsm = tokens.hsmOf({ name: 'pool1', token });
    expect(await hsm.randomBytes(4)).toEqual(Buffer.alloc(4, 7));
    await hsm.randomBytes(2);
    expect(tokens.hsmOf({ name: 'pool1', token })).toBe(hsm);
    expect(opened).toEqual([{ label: 'coffer-pool1', secrets }]);
    expect(dataKeys.generated).toBe(1);

    // The seal is bound to its pool: the same blob in another pool's record opens nothing.
    await expect(tokens.hsmOf({ name: 'pool2', token: { ...token } }).randomBytes(1)).rejects.toThrow();
    expect(() => tokens.hsmOf({ name: 'pool3' })).toThrow(expect.objectContaining({ status: 503 }));
  });

  it('are opened again after an opening that failed, and handed to the wipe', async () => {
    const { tokens, provisioned, removed, setFailOpen } = harness();
    const token = await tokens.provision({ name: 'pool1' });
    setFailOpen(true);
    const hsm = tokens.hsmOf({ name: 'pool1', token });
    await expect(hsm.randomBytes(1)).rejects.toThrow('HSM unreachable');
    setFailOpen(false);
    expect(await hsm.randomBytes(1)).toEqual(Buffer.alloc(1, 7));

    await tokens.remove({ name: 'pool1', token });
    expect(removed).toEqual([{ pool: 'pool1', secrets: provisioned[0]!.secrets }]);
    await tokens.remove({ name: 'pool2' });
    expect(removed).toHaveLength(1);
  });
});
