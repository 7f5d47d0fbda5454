import { describe, expect, it } from 'vitest';
import { apiVersion } from '../../../lib/http/middleware/api-version.ts';
import { KEY_VAULT_API_VERSIONS } from '../../../lib/http/api-version.ts';
import { type OperationName, routeFor } from '../../../lib/http/routes.ts';
import { request, runMiddleware } from './stubs.ts';

const check = (operation: OperationName, version: string | undefined) =>
  runMiddleware(
    [apiVersion(KEY_VAULT_API_VERSIONS, 'data')],
    request('POST', `/keys/k/rotate${version === undefined ? '' : `?api-version=${version}`}`),
    {
      operation,
    },
  );

describe('api-version middleware', () => {
  it('requires a version it knows', async () => {
    await expect(check('GetSecret', undefined)).rejects.toMatchObject({
      status: 400,
      code: 'BadParameter',
      message: "The 'api-version' query parameter is required.",
    });
    await expect(check('GetSecret', '9.9')).rejects.toMatchObject({
      status: 400,
      message: 'The specified version (9.9) is not recognized. Consider using the latest supported version (7.6).',
    });
    await expect(check('GetSecret', '7.0')).resolves.toBeDefined();
  });

  it('refuses an operation the requested version does not have yet, with a precise message', async () => {
    for (const operation of ['RotateKey', 'GetKeyRotationPolicy', 'UpdateKeyRotationPolicy', 'GetRandomBytes'] as const) {
      const refused = check(operation, '7.2');
      await expect(refused).rejects.toMatchObject({
        status: 400,
        code: 'BadParameter',
        message: `The operation '${operation}' is not supported in api-version 7.2: it requires api-version 7.3 or later.`,
      });
      for (const version of ['7.3', '7.6', '2025-07-01']) await expect(check(operation, version)).resolves.toBeDefined();
    }
    await expect(check('RotateKey', '2016-10-01')).rejects.toMatchObject({ status: 400 });
  });

  it('checks against the versions of the plane it is given', async () => {
    const plane = { supported: ['2023-01-01', '2024-01-01'], latest: '2024-01-01' };
    const match = { route: routeFor('GetSecrets'), pathParameters: {} };
    const event = request('GET', '/x?api-version=7.6', { match });
    await expect(runMiddleware([apiVersion(plane, 'data')], event)).rejects.toMatchObject({
      message: 'The specified version (7.6) is not recognized. Consider using the latest supported version (2024-01-01).',
    });
    await expect(runMiddleware([apiVersion(plane, 'data')], request('GET', '/x?api-version=2023-01-01', { match }))).resolves.toBeDefined();
  });

  it("answers ARM's codes on the management plane", async () => {
    const plane = { supported: ['2023-01-01', '2024-01-01'], latest: '2024-01-01' };
    const match = { route: routeFor('GetVault'), pathParameters: {} };
    await expect(runMiddleware([apiVersion(plane, 'management')], request('GET', '/x', { match }))).rejects.toMatchObject({
      status: 400,
      code: 'MissingApiVersionParameter',
    });
    await expect(runMiddleware([apiVersion(plane, 'management')], request('GET', '/x?api-version=7.6', { match }))).rejects.toMatchObject({
      status: 400,
      code: 'InvalidApiVersionParameter',
      message: "The api-version '7.6' is invalid. The supported versions are '2024-01-01,2023-01-01'.",
    });
    await expect(runMiddleware([apiVersion(plane, 'management')], request('GET', '/x?api-version=2024-01-01', { match }))).resolves.toBeDefined();
  });
});
