import { describe, expect, it } from 'vitest';
import { BadParameter } from '../../../lib/core/errors.ts';
import { assertObjectName, invalidObjectNameMessage, printable } from '../../../lib/core/names.ts';

describe('object names', () => {
  it.each(['a', 'A-1', '0', 'x'.repeat(127), 'with-Dashes-and-09'])('accepts %j', (name) => {
    expect(() => assertObjectName('secret', name)).not.toThrow();
  });

  it.each(['', 'x'.repeat(128), 'under_score', 'dot.ted', 'spa ce', 'slash/ed', 'ümlaut'])('refuses %j with 400 and one message', (name) => {
    let thrown: unknown;
    try {
      assertObjectName('key', name);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BadParameter);
    expect((thrown as BadParameter).status).toBe(400);
    expect((thrown as BadParameter).message).toBe(invalidObjectNameMessage('key', name));
  });

  it('the message names the kind and the name as printable text', () => {
    expect(invalidObjectNameMessage('secret', 'a_b')).toBe(
      "The secret name 'a_b' is invalid: names are 1 to 127 characters of 0-9, a-z, A-Z and '-'.",
    );
  });
});

describe('printable', () => {
  it('replaces control and non-ASCII characters', () => {
    expect(printable('line\nbreak\u0000é')).toBe('line?break??');
  });

  it('clips long values to 127 characters and an ellipsis, and keeps 130 as they are', () => {
    expect(printable('x'.repeat(130))).toBe('x'.repeat(130));
    expect(printable('x'.repeat(131))).toBe(`${'x'.repeat(127)}...`);
  });
});
