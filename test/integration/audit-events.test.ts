import { beforeAll, describe, expect, it } from 'vitest';
import { adminSecretCredential, localStack, raw, unprivilegedCredential } from '../support/local.ts';
import { createLocalVault } from '../support/vaults.ts';

/**
 * `GET {vault resource id}/auditEvents` through the local gateway's management host: records of the
 * vault's own requests, with Azure's AuditEvent names, filtered and paged by nextLink, the query
 * itself audited, and bad input answered with a 400 that names the parameter.
 */
const API = 'api-version=2026-02-01';
const SECRET_VALUE = 'audit-events-secret-value';
const info = localStack();
let vaultId: string;
let host: string;
let ownerToken: string;

interface AuditEvent {
  time: string;
  resourceId: string;
  operationName: string;
  resultType: string;
  correlationId?: string;
  identity?: { claim: { oid?: string; tid?: string } };
  properties: { id?: string; requestUri: string; httpStatusCode: number; clientInfo?: string };
}

interface Answer {
  status: number;
  body: { value: AuditEvent[]; nextLink: string | null; error?: { code: string; message: string } };
  text: string;
}

/** A management request, as an ARM client sends one: `url` is a path on the management host or a whole nextLink. */
async function get(url: string, token: string | null = ownerToken, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(new URL(url, info.managementUrl), { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, text };
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const value = await read();
    if (done(value) || attempt === 80) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const events = (query: string) => get(`${vaultId}/auditEvents?${API}&${query}`);

beforeAll(async () => {
  const vault = await createLocalVault('auditev');
  host = vault.host;
  vaultId = `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.KeyVault/vaults/${vault.name}`;
  ownerToken = (await adminSecretCredential(info).getToken(info.managementScope))!.token;
  const headers = { 'x-ms-client-request-id': 'corr-audit-set' };
  expect((await raw('PUT', '/secrets/s1?api-version=7.6', { host, body: { value: SECRET_VALUE }, headers })).status).toBe(200);
  expect((await raw('GET', '/secrets/s1?api-version=7.6', { host })).status).toBe(200);
  expect((await raw('GET', '/secrets/s2?api-version=7.6', { host, token: null })).status).toBe(401);
  // The records reach the store through the delivery a moment after their answers.
  await until(
    () => events('operationName=SecretGet'),
    (answer) => answer.body.value?.length >= 2,
  );
});

describe('GET {vault}/auditEvents', () => {
  it("answers the vault's records newest first, with Azure's AuditEvent names and no value", async () => {
    const answer = await events('');
    expect(answer.status).toBe(200);
    const mine = answer.body.value.filter((e) => e.operationName.startsWith('Secret'));
    expect(mine.map((e) => [e.operationName, e.properties.httpStatusCode])).toEqual([
      ['SecretGet', 401],
      ['SecretGet', 200],
      ['SecretSet', 200],
    ]);
    const times = answer.body.value.map((e) => e.time);
    expect(times).toEqual([...times].sort().reverse());
    const set = mine[2]!;
    expect(set).toMatchObject({
      resourceId: vaultId,
      resultType: 'Success',
      correlationId: 'corr-audit-set',
      identity: { claim: { oid: info.objectId, tid: info.tenantId } },
      properties: { requestUri: expect.stringMatching(/\/secrets\/s1$/), id: expect.stringContaining('/secrets/s1/') },
    });
    expect(mine[0]).toMatchObject({ resultType: 'Failure', resourceId: vaultId });
    expect(mine[0]!.identity).toBeUndefined();
    expect(answer.text).not.toContain(SECRET_VALUE);
    expect(answer.body.nextLink).toBeNull();
  });

  it('filters by operation, principal, object and window', async () => {
    const sets = await events('operationName=SecretSet');
    expect(sets.body.value.map((e) => e.operationName)).toEqual(['SecretSet']);
    const byOwner = await events(`principalId=${info.objectId}&operationName=SecretGet`);
    expect(byOwner.body.value.map((e) => e.properties.httpStatusCode)).toEqual([200]);
    const s1 = (await events('operationName=SecretGet')).body.value.find((e) => e.properties.httpStatusCode === 200)!.properties.id!;
    const byObject = await events(`objectId=${encodeURIComponent(s1.slice(0, s1.lastIndexOf('/')))}`);
    expect(byObject.body.value.map((e) => e.operationName).sort()).toEqual(['SecretGet', 'SecretSet']);
    // A window that has not begun has no records yet.
    const at = (ms: number) => encodeURIComponent(new Date(Date.now() + ms).toISOString());
    const later = await events(`startTime=${at(60_000)}&endTime=${at(120_000)}`);
    expect(later.status).toBe(200);
    expect(later.body).toEqual({ value: [], nextLink: null });
  });

  it('pages by $top through nextLinks the client follows verbatim, each record once', async () => {
    const window = `startTime=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}&endTime=${encodeURIComponent(new Date().toISOString())}`;
    const whole = (await events(`${window}&operationName=SecretGet`)).body.value;
    const paged: AuditEvent[] = [];
    let next: string | null = `${vaultId}/auditEvents?${API}&${window}&operationName=SecretGet&$top=1`;
    let pages = 0;
    while (next && pages++ < 10) {
      const page = await get(next);
      expect(page.status).toBe(200);
      expect(page.body.value.length).toBeLessThanOrEqual(1);
      paged.push(...page.body.value);
      next = page.body.nextLink;
      if (next) expect(new URL(next).origin).toBe(new URL(info.managementUrl).origin);
    }
    expect(paged).toEqual(whole);
    expect(whole).toHaveLength(2);
  });

  it('audits reading the audit records, refused reads included', async () => {
    expect((await get(`${vaultId}/auditEvents?${API}&$top=1`, ownerToken, { 'x-ms-client-request-id': 'corr-audit-read' })).status).toBe(200);
    expect((await get(`${vaultId}/auditEvents?${API}&$top=0`, ownerToken, { 'x-ms-client-request-id': 'corr-audit-bad' })).status).toBe(400);
    const reads = await until(
      () => events('operationName=VaultAuditEventsList'),
      (answer) => ['corr-audit-read', 'corr-audit-bad'].every((id) => answer.body.value.some((e) => e.correlationId === id)),
    );
    const read = reads.body.value.find((e) => e.correlationId === 'corr-audit-read')!;
    expect(read).toMatchObject({ resultType: 'Success', resourceId: vaultId, properties: { httpStatusCode: 200 } });
    expect(read.properties.requestUri).toMatch(/\/auditEvents$/);
    expect(reads.body.value.find((e) => e.correlationId === 'corr-audit-bad')).toMatchObject({
      resultType: 'Failure',
      properties: { httpStatusCode: 400 },
    });
  });

  it('refuses bad parameters and altered tokens with a 400 naming the parameter, in ARM’s error shape', async () => {
    for (const [query, named] of [
      ['startTime=yesterday', "'startTime'"],
      ['endTime=2026-02-30T00:00:00Z', "'endTime'"],
      ['startTime=2026-06-02T00:00:00Z&endTime=2026-06-01T00:00:00Z', "'startTime'"],
      ['$top=1001', "'$top'"],
      ['$skiptoken=forged.token', "'$skiptoken'"],
    ]) {
      const answer = await events(query!);
      expect(answer.status, query).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'BadParameter', message: expect.stringContaining(named!) });
    }
    const first = await events('$top=1');
    const link = new URL(first.body.nextLink!);
    link.searchParams.set('operationName', 'SecretSet');
    expect((await get(link.toString())).status).toBe(400);
  });

  it('answers 401 without a token, 403 to a principal with no role on the vault, and 404 for a vault outside the resource group', async () => {
    expect((await get(`${vaultId}/auditEvents?${API}`, null)).status).toBe(401);
    const stranger = (await unprivilegedCredential(info).getToken(info.managementScope))!.token;
    const refused = await get(`${vaultId}/auditEvents?${API}`, stranger);
    expect(refused.status).toBe(403);
    expect(refused.text).not.toContain('SecretSet');
    const elsewhere = vaultId.replace(`/resourceGroups/${info.resourceGroup}/`, '/resourceGroups/no-such-group/');
    expect((await get(`${elsewhere}/auditEvents?${API}`)).status).toBe(404);
  });
});
