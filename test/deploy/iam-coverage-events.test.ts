import { randomUUID } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
 * (infra/event-functions.ts): each runs in-process against the local stack, every DynamoDB and KMS
 * call it makes is recorded, and each must be granted by `eventPermissions`, every grant used.
 */
const calls: string[] = [];
const restore: (() => void)[] = [];
const savedEnv = { ...process.env };

beforeAll(() => {
  Object.assign(process.env, functionEnvironment(localStack()));
  resetConfig();
  const info = localStack();
  const dynamoSend = DynamoDBDocumentClient.prototype.send;
  DynamoDBDocumentClient.prototype.send = function recordingSend(this: unknown, command: any, ...rest: unknown[]) {
    const action = String(command.constructor.name)
      .replace(/Command$/, '')
      .replace(/^(Get|Put|Update|Delete)$/, '$1Item')
      .replace(/^BatchWrite$/, 'BatchWriteItem')
      .replace(/^BatchGet$/, 'BatchGetItem');
    for (const table of [command.input?.TableName, ...Object.keys(command.input?.RequestItems ?? {})].filter(Boolean)) {
      calls.push(`${table === info.tables.audit ? 'audit' : table === info.tables.objects ? 'objects' : table}:${action}`);
    }
    return (dynamoSend as (...args: unknown[]) => unknown).call(this, command, ...rest);
  } as typeof dynamoSend;
  const kmsSend = KMSClient.prototype.send;
  KMSClient.prototype.send = function recordingSend(this: unknown, command: any, ...rest: unknown[]) {
    calls.push(`kms:${String(command.constructor.name).replace(/Command$/, '')}`);
    return (kmsSend as (...args: unknown[]) => unknown).call(this, command, ...rest);
  } as typeof kmsSend;
  restore.push(() => {
    DynamoDBDocumentClient.prototype.send = dynamoSend;
    KMSClient.prototype.send = kmsSend;
  });
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
    expect(outcome.delivered).toBe(records.length);
    expect(await auditItems(records[0]!.requestId)).toHaveLength(1);

    const granted = eventPermissions.DeliverAuditRecords.audit.map((action) => `audit:${action}`);
    const made = calls.splice(0);
    expect(made.length).toBeGreaterThan(0);
    expect(made.filter((call) => !granted.includes(call as never))).toEqual([]);
    expect(granted.filter((grant) => !made.includes(grant))).toEqual([]);
  });
});
