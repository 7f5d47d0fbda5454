import { describe, expect, it } from 'vitest';
import { pathParameters } from '../../../lib/http/middleware/path.ts';
import { request, runMiddleware } from './stubs.ts';

describe('path middleware', () => {
  it('gives the handler the name and the version, an empty version meaning the latest', async () => {
    const latest = await runMiddleware([pathParameters()], request('GET', '/secrets/db/'), { operation: 'GetSecret' });
    expect(latest.state.params).toEqual({ name: 'db', version: undefined });
    const named = await runMiddleware([pathParameters()], request('GET', '/keys/k/0123456789abcdef0123456789abcdef'), { operation: 'GetKey' });
    expect(named.state.params).toEqual({ name: 'k', version: '0123456789abcdef0123456789abcdef' });
    const vaultWide = await runMiddleware([pathParameters()], request('GET', '/secrets'), { operation: 'GetSecrets' });
    expect(vaultWide.state.params).toEqual({});
  });

  it("refuses a bad name with the domain's message for its kind", async () => {
    await expect(runMiddleware([pathParameters()], request('PUT', '/secrets/bad_name'), { operation: 'SetSecret' })).rejects.toMatchObject({
      status: 400,
      code: 'BadParameter',
      message: "The secret name 'bad_name' is invalid: names are 1 to 127 characters of 0-9, a-z, A-Z and '-'.",
    });
    await expect(
      runMiddleware([pathParameters()], request('POST', `/keys/${'k'.repeat(128)}/create`), { operation: 'CreateKey' }),
    ).rejects.toMatchObject({
      message: `The key name '${'k'.repeat(128)}' is invalid: names are 1 to 127 characters of 0-9, a-z, A-Z and '-'.`,
    });
  });
});
