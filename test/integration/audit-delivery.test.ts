import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AuditDelivery, startAuditDelivery } from '../../dev/audit-delivery.ts';
import { localClient } from '../../dev/dynamodb.ts';
import { functionEnvironment } from '../../dev/stack.ts';
import { handler as deliverAuditRecords } from '../../functions/audit/deliver-audit-records.ts';
import type { AuditRecord } from '../../lib/audit/audit.ts';
import { fileAuditLog } from '../../lib/audit/log-stream.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { auditItems, storedRecords, waitForAuditItems } from '../support/audit.ts';
import { localStack, raw, uniqueName } from '../support/local.ts';
import { createLocalVault } from '../support/vaults.ts';

/**
 * Audit records on their way from the functions' log stream to the audit table: the local stack's
 * subscription (dev/audit-delivery.ts) and the production delivery function, against DynamoDB
 * Local, with the delivery failing on purpose. Whatever fails, every record arrives, and once.
 */
const V = 'api-version=7.6';
let dir: string;
let running: AuditDelivery | undefined;
const savedEnv = { ...process.env };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffer-audit-delivery-'));
  Object.assign(process.env, functionEnvironment(localStack()));
  resetConfig();
});

afterEach(async () => {
  await running?.stop();
  running = undefined;
  Object.assign(process.env, functionEnvironment(localStack()));
  resetConfig();
});

afterAll(async () => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  resetConfig();
  await rm(dir, { recursive: true, force: true });
});

/** Records of one made-up vault, written to a log stream file as a function writes them, between other log lines. */
async function logRecords(logFile: string, count: number): Promise<{ vault: string; records: AuditRecord[] }> {
  const vault = uniqueName('delivery');
  const time = new Date().toISOString();
  const records: AuditRecord[] = Array.from({ length: count }, (_, i) => ({
    time,
    vault,
    requestId: randomUUID(),
    operationName: 'SecretGet',
    category: 'AuditEvent',
    resultType: 'Success',
    resultSignature: 'OK',
    httpStatusCode: 200,
    durationMs: i,
    requestUri: `https://${vault}.vault.localhost/secrets/s${i}`,
  }));
  const log = fileAuditLog(logFile);
  for (const record of records) {
    await log.append(`${JSON.stringify({ level: 'INFO', message: 'request', service: 'coffer' })}\n`);
    await log.append(`${JSON.stringify({ cofferAudit: 1, record })}\n`);
  }
  return { vault, records };
}

/** The request ids the audit table holds for the vault, one entry per record stored (a pack holds several). */
async function storedRequestIds(vault: string, time: string): Promise<string[]> {
  const info = localStack();
  const dynamo = localClient(info.endpoints.dynamodb);
  try {
    const { Items = [] } = await dynamo.send(
      new QueryCommand({
        TableName: info.tables.audit,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `${vault}#${time.slice(0, 10)}` } },
        ConsistentRead: true,
      }),
    );
    return Items.flatMap(storedRecords).map((record) => record.requestId);
  } finally {
    dynamo.destroy();
  }
}

/** Polls the table, a bounded time, until it holds `count` records of the vault. */
async function storedOnceDelivered(vault: string, time: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ids = await storedRequestIds(vault, time);
    if (ids.length >= count || Date.now() > deadline) return ids;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The table the delivery function writes to, for the next invocations. */
function pointDeliveryAt(table: string): void {
  process.env.COFFER_AUDIT_TABLE = table;
  resetConfig();
}

async function deliver(logFile: string, stateFile: string, handler: (event: CloudWatchLogsEvent) => Promise<unknown>) {
  const warnings: string[] = [];
  running = await startAuditDelivery({
    logFile,
    stateFile,
    deliver: handler,
    batchSize: 7,
    pollMs: 20,
    retryDelayMs: () => 20,
    warn: (message) => warnings.push(message),
  });
  return warnings;
}

describe('audit delivery from the log stream', () => {
  it('retries while the audit table is unavailable, then stores every record exactly once', async () => {
    const logFile = join(dir, 'unavailable.log');
    const { vault, records } = await logRecords(logFile, 20);
    let invocations = 0;
    const warnings = await deliver(logFile, join(dir, 'unavailable.json'), (event) => {
      invocations++;
      // The first three invocations find no table; the real handler fails on it.
      pointDeliveryAt(invocations <= 3 ? 'no-such-audit-table' : localStack().tables.audit);
      return deliverAuditRecords(event);
    });
    const stored = await storedOnceDelivered(vault, records[0]!.time, records.length);
    expect(stored.sort()).toEqual(records.map((r) => r.requestId).sort());
    expect(warnings.length).toBe(3);
    expect(warnings[0]).toMatch(/failed, retrying/);
    // Three batches (seven, seven and six records), the first of them tried four times.
    expect(invocations).toBe(3 + 3);
  });

  it('stores a batch once when its delivery failed after writing it and is delivered again', async () => {
    const logFile = join(dir, 'rewritten.log');
    const { vault, records } = await logRecords(logFile, 5);
    let invocations = 0;
    let succeeded: () => void = () => undefined;
    const success = new Promise<void>((resolve) => {
      succeeded = resolve;
    });
    await deliver(logFile, join(dir, 'rewritten.json'), async (event) => {
      invocations++;
      const outcome = await deliverAuditRecords(event);
      // As a timeout after the writes would: the invocation fails, and the batch comes again.
      if (invocations <= 2) throw new Error('the delivery function timed out');
      succeeded();
      return outcome;
    });
    await success;
    // Written three times, stored once: every record, each once.
    expect(invocations).toBe(3);
    expect((await storedRequestIds(vault, records[0]!.time)).sort()).toEqual(records.map((r) => r.requestId).sort());
  });

  it('delivers after a restart what a failing delivery left, and what it had delivered not again', async () => {
    const logFile = join(dir, 'restart.log');
    const stateFile = join(dir, 'restart.json');
    const first = await logRecords(logFile, 3);
    let delivered = 0;
    await deliver(logFile, stateFile, async (event) => {
      delivered++;
      return deliverAuditRecords(event);
    });
    expect(await storedOnceDelivered(first.vault, first.records[0]!.time, 3)).toHaveLength(3);
    await running!.stop();
    running = undefined;
    const second = await logRecords(logFile, 4);
    // A delivery that never succeeds, stopped: the records stay in the log.
    await deliver(logFile, stateFile, async () => {
      throw new Error('audit store unreachable');
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await running!.stop();
    running = undefined;
    expect(await storedRequestIds(second.vault, second.records[0]!.time)).toEqual([]);
    const invoked: number[] = [];
    await deliver(logFile, stateFile, async (event) => {
      invoked.push(1);
      return deliverAuditRecords(event);
    });
    const stored = await storedOnceDelivered(second.vault, second.records[0]!.time, 4);
    expect(stored.sort()).toEqual(second.records.map((r) => r.requestId).sort());
    // The first run's records were not sent again: one invocation, for the four new ones.
    expect(invoked).toHaveLength(1);
    expect(delivered).toBe(1);
  });
});

describe('audit through the local gateway', () => {
  it("delivers a request's record to the audit table after the response, from the gateway's log", async () => {
    const response = await raw('GET', `/secrets?${V}`);
    expect(response.status).toBe(200);
    const requestId = response.headers['x-ms-request-id'] as string;
    const items = await waitForAuditItems(requestId);
    expect(items).toHaveLength(1);
    expect(items[0]!.operationName?.S).toBe('SecretList');
    const lines = readFileSync(localStack().gatewayLog, 'utf8')
      .split('\n')
      .filter((line) => line.includes(requestId) && line.startsWith('{"cofferAudit":1'));
    expect(lines).toHaveLength(1);
  });

  it("writes a strict vault's record to the audit table before the response, and not to the log stream", async () => {
    const strict = await createLocalVault('strictgw', { strictAudit: true });
    const name = uniqueName('strict');
    const set = await raw('PUT', `/secrets/${name}?${V}`, { body: { value: 'strictly-audited' }, host: strict.host });
    expect(set.status).toBe(200);
    const requestId = set.headers['x-ms-request-id'] as string;
    // No waiting: the record was in the table when the response left.
    const items = await auditItems(requestId);
    expect(items).toHaveLength(1);
    expect(items[0]!.vault?.S).toBe(strict.name);
    expect(items[0]!.operationName?.S).toBe('SecretSet');
    expect(JSON.stringify(items[0])).not.toContain('strictly-audited');
    expect(requestId).toMatch(/\S/);
    const auditLines = readFileSync(localStack().gatewayLog, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{"cofferAudit":1'));
    expect(auditLines.length).toBeGreaterThan(0);
    expect(auditLines.filter((line) => line.includes(requestId))).toEqual([]);
  });
});
