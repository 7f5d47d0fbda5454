import { describe, expect, it } from 'vitest';
import { auditEventList } from '../../../lib/audit/wire.ts';
import { auditRecord } from './records.ts';

const VAULT_ID = '/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.KeyVault/vaults/vault1';

describe('audit events on the wire', () => {
  it("answers each record with Azure's AuditEvent field names", () => {
    const record = auditRecord({
      time: '2026-06-15T12:00:00.000Z',
      tenantId: 'tenant-1',
      resourceId: `${VAULT_ID}`,
      correlationId: 'corr-1',
      resultDescription: 'ForbiddenByRbac',
      identity: { oid: 'oid-1', appid: 'app-1', tid: 'tenant-1', upn: 'a@b.test' },
    });
    const answer = auditEventList({ resourceId: 'unused', records: [record] }, 'https://management.localhost/x/auditEvents');
    expect(answer).toEqual({
      value: [
        {
          time: '2026-06-15T12:00:00.000Z',
          resourceId: VAULT_ID,
          operationName: 'SecretGet',
          operationVersion: '7.6',
          category: 'AuditEvent',
          resultType: 'Success',
          resultSignature: 'OK',
          resultDescription: 'ForbiddenByRbac',
          durationMs: 3,
          callerIpAddress: '127.0.0.1',
          correlationId: 'corr-1',
          identity: { claim: { oid: 'oid-1', appid: 'app-1', tid: 'tenant-1', upn: 'a@b.test' } },
          properties: {
            id: 'https://vault1.vault.test/secrets/db/0123456789abcdef0123456789abcdef',
            requestUri: 'https://vault1.vault.test/secrets/db',
            httpStatusCode: 200,
            clientInfo: 'sdk/1',
          },
        },
      ],
      nextLink: null,
    });
    // The store's own fields stay inside.
    const json = JSON.stringify(answer);
    for (const internal of ['"vault"', '"requestId"', '"tenantId"']) expect(json).not.toContain(internal);
  });

  it('names the vault queried for a record without a resource id, and has no identity for an anonymous caller', () => {
    const record = auditRecord({
      identity: undefined,
      resourceId: undefined,
      httpStatusCode: 401,
      resultType: 'Failure',
      resultSignature: 'Unauthorized',
    });
    const [event] = auditEventList({ resourceId: VAULT_ID, records: [record] }, 'https://m.test/a').value;
    expect(event!.resourceId).toBe(VAULT_ID);
    expect(event).not.toHaveProperty('identity.claim');
    expect(JSON.parse(JSON.stringify(event))).not.toHaveProperty('identity');
  });

  it('links the next page at the same address with its query', () => {
    const answer = auditEventList(
      {
        resourceId: VAULT_ID,
        records: [],
        next: { 'api-version': '2026-02-01', startTime: '2026-06-01T00:00:00.000Z', $top: '5', $skiptoken: 'a.b' },
      },
      'https://management.localhost:8444/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v/auditEvents',
    );
    const link = new URL(answer.nextLink!);
    expect(`${link.origin}${link.pathname}`).toBe(
      'https://management.localhost:8444/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v/auditEvents',
    );
    expect(Object.fromEntries(link.searchParams)).toEqual({
      'api-version': '2026-02-01',
      startTime: '2026-06-01T00:00:00.000Z',
      $top: '5',
      $skiptoken: 'a.b',
    });
  });
});
