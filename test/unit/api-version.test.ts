import { describe, expect, it } from 'vitest';
import { assertApiVersion } from '../../lib/http/api-version.ts';
import { BadParameter } from '../../lib/core/errors.ts';

describe('api-version', () => {
  it('accepts the numeric and dated versions SDKs send', () => {
    for (const v of ['7.0', '7.4', '7.6', '2025-07-01']) expect(assertApiVersion(v)).toBe(v);
  });

  it('requires one and names the latest when it does not know it', () => {
    expect(() => assertApiVersion(undefined)).toThrow(/required/);
    expect(() => assertApiVersion('8.0')).toThrow(BadParameter);
    expect(() => assertApiVersion('8.0')).toThrow(
      'The specified version (8.0) is not recognized. Consider using the latest supported version (7.6).',
    );
  });
});
