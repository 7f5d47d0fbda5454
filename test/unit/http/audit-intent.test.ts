import { describe, expect, it } from 'vitest';
import { auditIntent } from '../../../lib/http/middleware/audit-intent.ts';
import { principal, request, runMiddleware, stubServices, vault } from './stubs.ts';

describe('audit intent middleware', () => {
  it("stores a strict vault's change as incomplete before it is made, keyed like the final record", async () => {
    const services = stubServices();
    const strict = vault({ strictAudit: true });
    await runMiddleware([auditIntent(() => services)], request('PUT', '/secrets/db?api-version=7.6'), {
      vault: strict,
      principal,
      operation: 'SetSecret',
    });
    expect(services.records).toEqual([
      expect.objectContaining({
        vault: 'vault1',
        requestId: 'req-1',
        resultSignature: 'Incomplete',
        resultType: 'Failure',
        operationName: 'SecretSet',
      }),
    ]);
    expect(services.handlings).toEqual([{ strict: true }]);
  });

  it('writes nothing for reads, nor for vaults whose records go through the log stream', async () => {
    const services = stubServices();
    await runMiddleware([auditIntent(() => services)], request('GET', '/secrets/db?api-version=7.6'), {
      vault: vault({ strictAudit: true }),
      principal,
      operation: 'GetSecret',
    });
    await runMiddleware([auditIntent(() => services)], request('PUT', '/secrets/db?api-version=7.6'), {
      vault: vault(),
      principal,
      operation: 'SetSecret',
    });
    expect(services.records).toEqual([]);
  });

  it('fails the request with 503 before the change when the record cannot be stored', async () => {
    const services = stubServices({ auditFails: true });
    const run = runMiddleware([auditIntent(() => services)], request('PUT', '/secrets/db?api-version=7.6'), {
      vault: vault({ strictAudit: true }),
      principal,
      operation: 'SetSecret',
    });
    await expect(run).rejects.toMatchObject({ status: 503, code: 'ServiceUnavailable' });
  });
});
