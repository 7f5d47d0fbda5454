import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { BadParameter, ServiceUnavailable } from '../../../lib/core/errors.ts';
import { keyVaultHeaders, respond } from '../../../lib/http/middleware/respond.ts';
import type { Event, Middleware, RequestContext, Result } from '../../../lib/http/request.ts';
import { routeFor } from '../../../lib/http/routes.ts';
import { type Vault, vaultResourceId } from '../../../lib/vaults/vault.ts';
import { context, principal, request, type StubServices, stubServices, vault } from './stubs.ts';

const route = routeFor('GetSecret');

/** respond() around a stub handler, with the state the earlier middleware would have set. */
function run(
  services: StubServices,
  outcome: () => Promise<Result>,
  event: Event = request('GET', '/secrets/db?api-version=7.6'),
  served: Vault = vault(),
) {
  const seed: Middleware = {
    before: (req) => {
      req.context.coffer = {
        requestId: 'req-1',
        startedAt: Date.now(),
        route,
        vault: served,
        principal,
        objectId: 'https://vault1.vault.test/secrets/db/v1',
      };
    },
  };
  return middy<Event, Result, Error, RequestContext>()
    .use(respond(route, () => services, keyVaultHeaders))
    .use(seed)
    .handler(outcome)(event, context() as RequestContext);
}

describe('respond middleware', () => {
  it('adds the standard and Key Vault headers and hands one audit record to the sink', async () => {
    const services = stubServices();
    const event = request('GET', '/secrets/db?api-version=7.6', { headers: { 'x-ms-client-request-id': 'corr-1', 'user-agent': 'sdk/1' } });
    const response = await run(services, async () => ({ statusCode: 200, headers: {}, body: '{"id":"x"}' }), event);
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-cache',
      'x-ms-request-id': 'req-1',
      'x-ms-client-request-id': 'corr-1',
      'x-ms-keyvault-region': 'test-region',
      'x-ms-keyvault-service-version': '1.9.0.0',
    });
    expect(services.records).toHaveLength(1);
    expect(services.records[0]).toMatchObject({
      vault: 'vault1',
      requestId: 'req-1',
      operationName: 'SecretGet',
      operationVersion: '7.6',
      resultType: 'Success',
      resultSignature: 'OK',
      httpStatusCode: 200,
      correlationId: 'corr-1',
      identity: { oid: 'oid-1', appid: 'app-1', tid: 'tenant-1' },
      requestUri: 'https://vault1.vault.test/secrets/db',
      id: 'https://vault1.vault.test/secrets/db/v1',
      clientInfo: 'sdk/1',
    });
    expect(services.logs).toEqual([
      expect.objectContaining({ level: 'debug', message: 'request', fields: expect.objectContaining({ status: 200, operation: 'GetSecret' }) }),
    ]);
  });

  it('builds no debug line when the logger writes nothing below INFO', async () => {
    const services = stubServices();
    let asked = 0;
    services.logger.getLevelName = () => {
      asked++;
      return 'INFO';
    };
    const response = await run(services, async () => ({ statusCode: 200, headers: {}, body: '{"id":"x"}' }));
    expect(response.statusCode).toBe(200);
    expect(asked).toBe(1);
    expect(services.logs).toEqual([]);
    expect(services.records).toHaveLength(1);
  });

  it("answers a domain error in Azure's error body and audits it as a failure", async () => {
    const services = stubServices();
    const response = await run(services, async () => {
      throw new BadParameter('bad thing');
    });
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body!)).toEqual({ error: { code: 'BadParameter', message: 'bad thing' } });
    expect(services.records[0]).toMatchObject({ resultType: 'Failure', resultSignature: 'BadParameter', httpStatusCode: 400 });
    expect(services.logs.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('answers an unknown error as InternalError and logs it with its cause chain, never answering with it', async () => {
    const services = stubServices();
    const response = await run(services, async () => {
      throw new TypeError('undefined is not a function', { cause: new Error('deep cause') });
    });
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body!)).toEqual({
      error: { code: 'InternalError', message: 'The service encountered an internal error. Retry the request.' },
    });
    expect(response.body).not.toContain('undefined is not a function');
    const logged = services.logs.find((l) => l.level === 'error')!;
    expect(logged.fields.error).toMatchObject({
      name: 'InternalError',
      cause: { name: 'TypeError', message: 'undefined is not a function', cause: { message: 'deep cause' } },
    });
  });

  it('logs every 5xx with its cause, a known one too', async () => {
    const services = stubServices();
    const response = await run(services, async () => {
      throw new ServiceUnavailable('KMS is unavailable.', { cause: new Error('ThrottlingException') });
    });
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['Retry-After']).toBe('5');
    expect(JSON.stringify(JSON.parse(response.body!))).not.toContain('ThrottlingException');
    expect(services.logs.find((l) => l.level === 'error')?.fields.error).toMatchObject({
      message: 'KMS is unavailable.',
      cause: { message: 'ThrottlingException' },
    });
  });

  it('hands the record over for delivery, or as strict where the vault chose strict audit', async () => {
    const services = stubServices();
    await run(services, async () => ({ statusCode: 200, body: '{}' }));
    await run(services, async () => ({ statusCode: 200, body: '{}' }), undefined, vault({ strictAudit: false }));
    await run(services, async () => ({ statusCode: 200, body: '{}' }), undefined, vault({ strictAudit: true }));
    await run(
      services,
      async () => {
        throw new BadParameter('refused');
      },
      undefined,
      vault({ strictAudit: true }),
    );
    // Each told the resource id of the vault its partition names, which the audit line may leave out.
    const partitionVault = vaultResourceId(vault());
    expect(services.handlings).toEqual([
      { strict: false, vaultResourceId: partitionVault },
      { strict: false, vaultResourceId: partitionVault },
      { strict: true, vaultResourceId: partitionVault },
      { strict: true, vaultResourceId: partitionVault },
    ]);
    expect(services.records.map((r) => r.httpStatusCode)).toEqual([200, 200, 200, 400]);
  });

  it('turns an answer whose audit record cannot be written into a 503', async () => {
    const services = stubServices({ auditFails: true });
    const response = await run(services, async () => ({ statusCode: 200, body: '{"value":"not to be sent"}' }));
    expect(response.statusCode).toBe(503);
    expect(response.body).not.toContain('not to be sent');
    expect(JSON.parse(response.body!).error.code).toBe('ServiceUnavailable');
    const logged = services.logs.find((l) => l.message === 'audit write failed')!;
    expect(logged.fields.error).toMatchObject({ message: 'audit table unavailable', cause: { message: 'socket hang up' } });
  });
});
