import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { lambdaContext, lambdaEvent } from '../../../dev/lambda-event.ts';
import { type AuditRecord, auditPartition, auditRecordSchema } from '../../../lib/audit/audit.ts';
import { auditLine, type LoggedAuditHandling, parseAuditLine } from '../../../lib/audit/log-stream.ts';
import { auditEventList } from '../../../lib/audit/wire.ts';
import { Unauthorized } from '../../../lib/core/errors.ts';
import { keyVaultHeaders, respond } from '../../../lib/http/middleware/respond.ts';
import type { Event, Middleware, RequestContext, RequestState, Result } from '../../../lib/http/request.ts';
import { routeFor } from '../../../lib/http/routes.ts';
import type { PipelineServices } from '../../../lib/http/services.ts';
import type { Vault } from '../../../lib/vaults/vault.ts';

/** The audit record the respond middleware builds for each request, from what the pipeline learnt about it. */
const route = routeFor('GetSecret');
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiJvaWQtMSJ9.c2lnbmF0dXJl';
const vault = {
  name: 'vault1',
  tenantId: 'tenant-v',
  subscriptionId: '00000000-0000-0000-0000-0000000000aa',
  resourceGroup: 'Group-1',
} as Vault;
const VAULT_ID = '/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/Group-1/providers/Microsoft.KeyVault/vaults/vault1';

async function recordOf(
  state: Partial<RequestState>,
  outcome: () => Promise<Result> = async () => ({ statusCode: 200, body: '{}' }),
): Promise<AuditRecord> {
  return (await writtenOf(state, outcome)).record;
}

/** The record and how the pipeline handed it to the audit sink. */
async function writtenOf(
  state: Partial<RequestState>,
  outcome: () => Promise<Result> = async () => ({ statusCode: 200, body: '{}' }),
): Promise<{ record: AuditRecord; handling: LoggedAuditHandling }> {
  const records: AuditRecord[] = [];
  const handlings: LoggedAuditHandling[] = [];
  const services = {
    region: 'test-region',
    audit: {
      write: async (record: AuditRecord, handling: LoggedAuditHandling) => {
        records.push(record);
        handlings.push(handling);
      },
    },
    logger: { getLevelName: () => 'INFO', debug: () => undefined, error: () => undefined },
  } as unknown as PipelineServices;
  const seed: Middleware = {
    before: (request) => {
      request.context.coffer = { requestId: 'req-1', startedAt: Date.now(), route, ...state };
    },
  };
  const event = lambdaEvent({
    method: 'GET',
    url: 'https://vault1.vault.test/secrets/db?api-version=7.6',
    headers: { authorization: `Bearer ${TOKEN}`, 'x-ms-client-request-id': 'corr-7', 'user-agent': 'azsdk-js/1' },
    sourceIp: '127.0.0.9',
  });
  await middy<Event, Result, Error, RequestContext>()
    .use(respond(route, () => services, keyVaultHeaders))
    .use(seed)
    .handler(outcome)(event, lambdaContext('GetSecret') as RequestContext);
  expect(records).toHaveLength(1);
  return { record: records[0]!, handling: handlings[0]! };
}

describe('the audit record of a request', () => {
  it("names the vault's tenant and resource id, the caller and the client request id, and nothing of the token", async () => {
    const principal = { tenantId: 'tenant-c', objectId: 'oid-1', appId: 'app-1', upn: 'u@test', issuer: 'https://issuer.test' };
    const record = await recordOf({ vault, principal });
    expect(record).toMatchObject({
      vault: 'vault1',
      tenantId: 'tenant-v',
      resourceId: VAULT_ID,
      correlationId: 'corr-7',
      callerIpAddress: '127.0.0.9',
      clientInfo: 'azsdk-js/1',
      identity: { oid: 'oid-1', appid: 'app-1', upn: 'u@test', tid: 'tenant-c' },
      requestUri: 'https://vault1.vault.test/secrets/db',
    });
    expect(auditRecordSchema.safeParse(record).success).toBe(true);
    expect(JSON.stringify(record)).not.toContain(TOKEN.split('.')[1]);
  });

  it('is audited for a refused request too, before the principal is known', async () => {
    const record = await recordOf({ vault }, async () => {
      throw new Unauthorized('AKV10000: Request is missing a Bearer or PoP token.');
    });
    expect(record).toMatchObject({ vault: 'vault1', tenantId: 'tenant-v', resourceId: VAULT_ID, httpStatusCode: 401, resultType: 'Failure' });
    expect(record.identity).toBeUndefined();
  });

  it("takes a management request's tenant and resource id, and files a request about no vault under its subscription", async () => {
    const resourceId = '/subscriptions/ABC-1/resourceGroups/g/providers/Microsoft.Authorization/roleAssignments/r1';
    const record = await recordOf({ tenantId: 'tenant-m', resourceId });
    expect(record).toMatchObject({ vault: 'subscriptions/abc-1', tenantId: 'tenant-m', resourceId });
    // The pipeline's resource id wins over the vault's.
    expect(await recordOf({ vault, resourceId: `${VAULT_ID}/accessPolicies/add` })).toMatchObject({
      vault: 'vault1',
      resourceId: `${VAULT_ID}/accessPolicies/add`,
      tenantId: 'tenant-v',
    });
  });

  it("files a successful request about a vault not yet live (its creation) under that vault, a refused one under the caller's subscription", async () => {
    const resourceId = '/subscriptions/SUB-2/resourceGroups/g/providers/Microsoft.KeyVault/vaults/newvault';
    const created = await recordOf({ tenantId: 'tenant-m', resourceId, auditVault: 'newvault' }, async () => ({ statusCode: 201, body: '{}' }));
    expect(created).toMatchObject({ vault: 'newvault', resourceId, tenantId: 'tenant-m', httpStatusCode: 201 });
    const refused = await recordOf({ tenantId: 'tenant-m', resourceId, auditVault: 'newvault' }, async () => {
      throw new Unauthorized('AKV10000: Request is missing a Bearer or PoP token.');
    });
    expect(refused).toMatchObject({ vault: 'subscriptions/sub-2', resourceId, httpStatusCode: 401 });
  });

  it('files a request that resolved nothing as unresolved, with no tenant or resource', async () => {
    const record = await recordOf({});
    expect(record.vault).toBe('_unresolved');
    expect(record.tenantId).toBeUndefined();
    expect(record.resourceId).toBeUndefined();
  });

  it('keeps its tenant and resource id through the log stream to the delivery', async () => {
    const record = await recordOf({ vault });
    expect(parseAuditLine(auditLine(record).trimEnd())).toEqual({ kind: 'record', record });
  });
});

describe("the resource id in a request's audit line", () => {
  /** The record as the delivery reads it from its line, as the pipeline's sink writes it. */
  function delivered({ record, handling }: { record: AuditRecord; handling: LoggedAuditHandling }): AuditRecord {
    const parsed = parseAuditLine(auditLine(record, handling.vaultResourceId).trimEnd());
    if (parsed.kind !== 'record') throw new Error(`the line of ${JSON.stringify(record)} did not read back`);
    return parsed.record;
  }
  /** The audit API's answer for vault1's records, as lib/audit/query.ts hands them to the wire. */
  const onTheWire = (record: AuditRecord) => auditEventList({ resourceId: VAULT_ID, records: [record] }, 'https://m.test/a').value;

  it("is left out when it is the partition's vault's own, and the audit API answers the same for the record", async () => {
    const principal = { tenantId: 'tenant-c', objectId: 'oid-1', appId: 'app-1', issuer: 'https://issuer.test' };
    for (const written of [
      await writtenOf({ vault, principal }),
      await writtenOf({ vault }, async () => {
        throw new Unauthorized('AKV10000: Request is missing a Bearer or PoP token.');
      }),
      // A management request about the vault whose path spells the vault's resource id as it is.
      await writtenOf({ vault, tenantId: 'tenant-m', resourceId: VAULT_ID }),
    ]) {
      expect(written.handling.vaultResourceId).toBe(VAULT_ID);
      expect(written.record.resourceId).toBe(VAULT_ID);
      expect(auditLine(written.record, written.handling.vaultResourceId)).not.toContain(VAULT_ID);
      expect(delivered(written)).toEqual({ ...written.record, resourceId: undefined });
      expect(onTheWire(delivered(written))).toEqual(onTheWire(written.record));
    }
  });

  it('is kept, exactly, wherever it is not: other spellings, what lies under the vault, subscriptions, pools, vaults being created', async () => {
    const differently = [
      VAULT_ID.replace('/resourceGroups/Group-1/', '/resourcegroups/group-1/'),
      VAULT_ID.replace('/vaults/vault1', '/vaults/VAULT1'),
      `${VAULT_ID}/accessPolicies/add`,
    ];
    for (const resourceId of differently) {
      const written = await writtenOf({ vault, tenantId: 'tenant-m', resourceId });
      expect(written.record).toMatchObject({ vault: 'vault1', resourceId });
      expect(delivered(written)).toEqual(written.record);
    }
    const elsewhere = [
      // A subscription's record, a pool's, a vault's creation (not live yet), and a vault of old with no resource group.
      await writtenOf({ tenantId: 'tenant-m', resourceId: '/subscriptions/abc-1' }),
      await writtenOf({
        auditPartition: 'managedhsms/pool1',
        resourceId: '/subscriptions/abc-1/resourceGroups/g/providers/Microsoft.KeyVault/managedHSMs/pool1',
      }),
      await writtenOf({
        tenantId: 'tenant-m',
        resourceId: '/subscriptions/sub-2/resourceGroups/g/providers/Microsoft.KeyVault/vaults/newvault',
        auditVault: 'newvault',
      }),
      await writtenOf({ vault: { ...vault, resourceGroup: '' } }),
    ];
    expect(elsewhere.map(({ record }) => record.vault)).toEqual(['subscriptions/abc-1', 'managedhsms/pool1', 'newvault', 'vault1']);
    for (const written of elsewhere) {
      expect(written.handling.vaultResourceId).toBeUndefined();
      expect(delivered(written)).toEqual(written.record);
    }
  });
});

describe('audit partitions', () => {
  it('are the vault, else the subscription of the resource id, else unresolved; never a vault name for a subscription', () => {
    expect(auditPartition('vault1', '/subscriptions/s/resourceGroups/g')).toBe('vault1');
    expect(auditPartition(undefined, '/Subscriptions/S-1/resourceGroups/g')).toBe('subscriptions/s-1');
    expect(auditPartition(undefined, '/subscriptions/s-1')).toBe('subscriptions/s-1');
    expect(auditPartition(undefined, '/providers/Microsoft.KeyVault/operations')).toBe('_unresolved');
    expect(auditPartition(undefined, undefined)).toBe('_unresolved');
  });
});
