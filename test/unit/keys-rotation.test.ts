import { describe, expect, it } from 'vitest';
import { BadParameter } from '../../lib/core/errors.ts';
import { expiryFromPolicy, validateRotationPolicy } from '../../lib/keys/rotation.ts';
import type { RotationPolicyInput } from '../../lib/keys/schemas.ts';

const now = 1_700_000_000;
const times = { created: now, updated: now };

describe('rotation policy durations', () => {
  it('are bounded like dates: each field that would end past 9999-12-31 is refused by name', () => {
    for (const [input, field] of [
      [{ attributes: { expiryTime: 'P1000000Y' } }, 'expiryTime'],
      [{ lifetimeActions: [{ trigger: { timeAfterCreate: `P${'9'.repeat(400)}D` }, action: { type: 'Rotate' } }] }, 'timeAfterCreate'],
      [
        { attributes: { expiryTime: 'P1Y' }, lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P1000000Y' }, action: { type: 'Notify' } }] },
        'timeBeforeExpiry',
      ],
    ] as [RotationPolicyInput, string][]) {
      expect(() => validateRotationPolicy(input, times)).toThrow(BadParameter);
      expect(() => validateRotationPolicy(input, times)).toThrow(new RegExp(`^${field} .* too long`));
    }
    expect(validateRotationPolicy({ attributes: { expiryTime: 'P7000Y' } }, times).attributes.expiryTime).toBe('P7000Y');
  });

  it('never give a rotated version an exp past the latest date, even from a policy stored before the bound', () => {
    const stored = { lifetimeActions: [], attributes: { expiryTime: 'P1000000Y' } };
    expect(expiryFromPolicy(stored, now)).toBe(253402300799);
    expect(expiryFromPolicy({ lifetimeActions: [], attributes: { expiryTime: 'P1Y' } }, now)).toBe(now + 365 * 86_400);
  });
});
