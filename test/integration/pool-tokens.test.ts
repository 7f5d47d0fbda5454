/**
 * A pool's own SoftHSM2 token, made through PKCS#11 (docs/adr/0022): initialised on the library's free
 * slot with PINs generated for the pool, a second one for another pool beside it, the pool's keys
 * and its domain key in it, and a pool refused a second token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPoolTokenSecrets } from '../../lib/hsm/pool-host-tokens.ts';
import { Pkcs11PoolHsm } from '../../lib/pkcs11/pkcs11-hsm-keys.ts';
import { Pkcs11PoolTokens } from '../../lib/pkcs11/pool-tokens.ts';
import { createSoftHsmToken, removeSoftHsmTokens, type SoftHsmToken } from '../support/softhsm.ts';

let existing: SoftHsmToken;

beforeAll(() => {
  // Made first: the library reads its configuration (this process's token directory) once, at its first use.
  existing = createSoftHsmToken('pool-tokens');
});

afterAll(() => {
  removeSoftHsmTokens();
});

describe("a pool's token", () => {
  it('is made per pool on a free slot, serves the pool with its PINs, and is made once', async () => {
    const tokens = new Pkcs11PoolTokens(existing.libraryPath);
    const first = newPoolTokenSecrets();
    const second = newPoolTokenSecrets();
    expect(first.pin).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(first.pin).not.toBe(second.pin);
    expect(await tokens.provision('Pool1', first)).toBe('coffer-pool1');
    expect(await tokens.provision('pool2', second)).toBe('coffer-pool2');

    const pool1 = new Pkcs11PoolHsm({ libraryPath: existing.libraryPath, tokenLabel: 'coffer-pool1', pin: first.pin, soPin: first.soPin });
    const key = await pool1.generateKey({ kty: 'oct', size: 256 });
    expect(await pool1.describeKey(key.handle)).toEqual(key);
    expect(await pool1.importDomainKey(new Uint8Array(32).fill(7))).toMatch(/^coffer-domain-/);
    // The other pool's token holds none of the first pool's keys.
    const pool2 = new Pkcs11PoolHsm({ libraryPath: existing.libraryPath, tokenLabel: 'coffer-pool2', pin: second.pin, soPin: second.soPin });
    await expect(pool2.describeKey(key.handle)).rejects.toMatchObject({ status: 404 });
    // Another pool's PIN opens no session on this one.
    const wrongPin = new Pkcs11PoolHsm({ libraryPath: existing.libraryPath, tokenLabel: 'coffer-pool1', pin: second.pin });
    await expect(wrongPin.randomBytes(8)).rejects.toMatchObject({ status: 503 });

    await expect(tokens.provision('pool1', newPoolTokenSecrets())).rejects.toMatchObject({ status: 409 });
  });
});
