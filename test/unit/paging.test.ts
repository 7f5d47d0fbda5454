import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BadParameter } from '../../lib/core/errors.ts';
import { openSkipToken, parseMaxResults, sealSkipToken } from '../../lib/http/paging.ts';

describe('paging tokens', () => {
  const key = randomBytes(32);

  it('round-trips the store position for the same listing', () => {
    const token = sealSkipToken(key, 'secrets', 'my-secret');
    expect(openSkipToken(key, 'secrets', token)).toBe('my-secret');
  });

  it('refuses a token signed with another vault key, for another listing, or altered', () => {
    const token = sealSkipToken(key, 'secrets', 'my-secret');
    expect(() => openSkipToken(randomBytes(32), 'secrets', token)).toThrow(BadParameter);
    expect(() => openSkipToken(key, 'deletedsecrets', token)).toThrow(BadParameter);
    const [body, signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ l: 'secrets', c: 'zzz' })).toString('base64url');
    expect(() => openSkipToken(key, 'secrets', `${forged}.${signature}`)).toThrow(BadParameter);
    expect(() => openSkipToken(key, 'secrets', `${body}`)).toThrow(BadParameter);
    expect(() => openSkipToken(key, 'secrets', 'garbage')).toThrow(BadParameter);
  });

  it('accepts maxresults 1 to 25 and defaults to 25', () => {
    expect(parseMaxResults(undefined)).toBe(25);
    expect(parseMaxResults('1')).toBe(1);
    expect(parseMaxResults('25')).toBe(25);
    for (const bad of ['0', '26', '-1', '2.5', 'ten']) expect(() => parseMaxResults(bad)).toThrow(BadParameter);
  });
});
