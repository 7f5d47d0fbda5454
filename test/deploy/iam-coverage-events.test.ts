import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscriptionEvent } from '../../dev/audit-delivery.ts';
import { functionEnvironment } from '../../dev/stack.ts';
import { handler as deliverAuditRecords } from '../../functions/audit/deliver-audit-records.ts';
import { auditLine } from '../../lib/audit/log-stream.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { eventPermissions } from '../../infra/permissions.ts';
import { auditItems } from '../support/audit.ts';
import { localStack } from '../support/local.ts';

/**
 * What iam-coverage.test.ts does for the operations, for the functions no route reaches
 * (infra/event-functions.ts): each runs in-process against the local stack, every AWS request it
 * makes is recorded, and each must be granted by `eventPermissions`, every grant used.
 */
const calls: string[] = [];
const restore: (() => void)[] = [];
const savedEnv = { ...process.env };

/**
 * Every AWS request, seen where it leaves the process (whichever client sends it): the action from
 * its X-Amz-Target header, the tables from its JSON body.
 */
function recordRequests(module: typeof http | typeof https): void {
  const original = module.request;
  module.request = function recordingRequest(this: unknown, ...args: unknown[]) {
    const options = (typeof args[1] === 'object' && args[1] ? args[1] : args[0]) as { headers?: Record<string, unknown> } | undefined;
    const headers = Object.fromEntries(Object.entries(options?.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
    const request = (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    const target = headers['x-amz-target'];
    if (!target) return request;
    const [service, action] = target.split('.') as [string, string];
    const chunks: Buffer[] = [];
    const write = request.write.bind(request);
    const end = request.end.bind(request);
    request.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (chunk) chunks.push(Buffer.from(chunk as string));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof request.write;
    request.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk as string));
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { TableName?: string; RequestItems?: Record<string, unknown> };
      const info = localStack();
      const tables = [body.TableName, ...Object.keys(body.RequestItems ?? {})].filter((t): t is string => Boolean(t));
      const named = (table: string) => (table === info.tables.audit ? 'audit' : table === info.tables.objects ? 'objects' : table);
      if (service.startsWith('DynamoDB')) for (const table of tables) calls.push(`${named(table)}:${action}`);
      else calls.push(`${service}:${action}`);
      return (end as (...a: unknown[]) => http.ClientRequest)(chunk, ...rest);
    }) as typeof request.end;
    return request;
  } as typeof module.request;
  restore.push(() => {
    module.request = original;
  });
}

beforeAll(() => {
  Object.assign(process.env, functionEnvironment(localStack()));
  resetConfig();
  recordRequests(http);
  recordRequests(https);
});

afterAll(() => {
  for (const undo of restore) undo();
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  resetConfig();
});

describe('DeliverAuditRecords calls only what infra/permissions.ts grants it, and uses every grant', () => {
  it('writes a batch of records', async () => {
    const time = new Date().toISOString();
    const records = Array.from({ length: 30 }, () => ({
      time,
      vault: 'iam-coverage',
      requestId: randomUUID(),
      operationName: 'SecretGet',
      category: 'AuditEvent' as const,
      resultType: 'Success' as const,
      resultSignature: 'OK',
      httpStatusCode: 200,
      durationMs: 1,
      requestUri: 'https://iam-coverage.vault.localhost/secrets/x',
    }));
    const event = subscriptionEvent(records.map((record, i) => ({ id: String(i), timestamp: Date.now(), message: auditLine(record).trimEnd() })));
    const outcome = await deliverAuditRecords(event);
    const made = calls.splice(0);
    expect(outcome.delivered).toBe(records.length);
    expect(await auditItems(records[0]!.requestId)).toHaveLength(1);

    const granted = eventPermissions.DeliverAuditRecords.audit.map((action) => `audit:${action}`);
    expect(made.length).toBeGreaterThan(0);
    expect(made.filter((call) => !granted.includes(call as never))).toEqual([]);
    expect(granted.filter((grant) => !made.includes(grant))).toEqual([]);
  });
});
