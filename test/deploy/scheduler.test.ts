import { describe, expect, it } from 'vitest';
import { runScheduledWork, SCHEDULER_RATE, SCHEDULER_TIMEOUT_SECONDS } from '../../infra/event-functions.ts';
import { CONTROL_PLANE_PARTITIONS, DUE_ITEM_PARTITIONS, SCHEDULE_SOURCE_PARTITIONS } from '../../infra/permissions.ts';
import { generateConfig, OPERATIONS_LOG_GROUP } from '../../infra/serverless-config.ts';
import { LEASE_SECONDS, RUN_SECONDS } from '../../lib/events/scheduler.ts';
import { routes } from '../../lib/http/routes.ts';
import type { Statement } from './template.ts';

/** The scheduler's and the stream function's scheduled-work wiring, in the generated configuration. */
const generated = generateConfig(routes, { artifactFor: (key) => `${key}.zip` });

function statementsOf(role: string): Statement[] {
  const resource = generated.resources.Resources[role] as { Properties: { Policies: { PolicyDocument: { Statement: Statement[] } }[] } };
  return resource.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement);
}

describe('the scheduler function', () => {
  const fn = generated.functions[runScheduledWork.key]!;

  it('runs once a minute on a rate rule, with no retry, and ends within the lease it holds on each item', () => {
    expect(fn.events).toEqual([{ schedule: { rate: [SCHEDULER_RATE], enabled: true } }]);
    expect(SCHEDULER_RATE).toBe('rate(1 minute)');
    expect(fn.maximumRetryAttempts).toBe(0);
    expect(fn.timeout).toBe(SCHEDULER_TIMEOUT_SECONDS);
    expect(SCHEDULER_TIMEOUT_SECONDS).toBeLessThan(LEASE_SECONDS);
    // A run starts no work in its last minute: an item begun then has that long to finish.
    expect(SCHEDULER_TIMEOUT_SECONDS - RUN_SECONDS).toBeGreaterThanOrEqual(60);
  });

  it("logs to the operations' log group, whose subscription delivers its audit records", () => {
    expect(fn.disableLogs).toBe(true);
    expect(generated.resources.extensions[`${runScheduledWork.key}LambdaFunction`]).toEqual({
      Properties: {
        LoggingConfig: { LogGroup: { Ref: OPERATIONS_LOG_GROUP }, LogFormat: 'JSON', SystemLogLevel: 'WARN', ApplicationLogLevel: 'INFO' },
      },
    });
  });

  it('has a role of its own: the due index, the bus, and the grants of the work it does, nothing of another deployment', () => {
    expect(fn.role).toBe(`${runScheduledWork.key}Role`);
    const roles = new Set(Object.values(generated.functions).map((f) => f.role));
    expect([...roles].filter((role) => role === fn.role)).toHaveLength(1);
    const statements = statementsOf(fn.role);
    expect(statements.find((s) => s.Sid === 'DueIndex')).toEqual({
      Sid: 'DueIndex',
      Effect: 'Allow',
      Action: ['dynamodb:Query'],
      Resource: { 'Fn::Sub': '${ObjectsTable.Arn}/index/dueIndex' },
    });
    expect(statements.find((s) => s.Sid === 'EventBus')).toEqual({
      Sid: 'EventBus',
      Effect: 'Allow',
      Action: ['events:PutEvents'],
      Resource: { 'Fn::GetAtt': ['EventBus', 'Arn'] },
    });
    const actions = statements.filter((s) => s.Effect === 'Allow').flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    // Rotation seals new key material with the vault's key; purging a vault schedules its keys' deletion.
    expect(actions).toEqual(expect.arrayContaining(['kms:GenerateDataKey', 'kms:Decrypt', 'kms:ScheduleKeyDeletion', 'dynamodb:UpdateItem']));
    // Nothing a scheduler never does: no backups, no audit reads, no wildcard; KMS keys (an HSM key's
    // rotation makes one) only under a condition on this deployment's tags.
    expect(statements.some((s) => s.Sid === 'BackupKey')).toBe(false);
    for (const s of statements.filter((s) => JSON.stringify(s.Action).includes('kms:CreateKey'))) expect(s.Condition, s.Sid).toBeDefined();
    expect(actions.some((a) => a === '*' || a.endsWith(':*'))).toBe(false);
    // A resource `*` only where KMS has no other (CreateKey), and then under a condition.
    for (const s of statements.filter((s) => s.Resource === '*')) expect(s.Condition, s.Sid).toBeDefined();
  });
});

describe('the stream function keeping the schedule', () => {
  const statements = statementsOf(generated.functions.PublishEvents!.role);

  it('reads only the partitions the schedule is derived from, and writes due items only', () => {
    expect(statements.find((s) => s.Sid === 'ScheduleSources')).toMatchObject({
      Effect: 'Allow',
      Action: ['dynamodb:GetItem'],
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...SCHEDULE_SOURCE_PARTITIONS] } },
    });
    expect(statements.find((s) => s.Sid === 'DueItems')).toMatchObject({
      Effect: 'Allow',
      Action: ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['*#schedule'] } },
    });
    expect(DUE_ITEM_PARTITIONS).toEqual(['*#schedule']);
  });

  it('may never write a control-plane record, not even the record of a vault named "schedule"', () => {
    expect(statements.find((s) => s.Sid === 'NoControlPlaneWrites')).toMatchObject({
      Effect: 'Deny',
      Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
      Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [...CONTROL_PLANE_PARTITIONS] } },
    });
    const writes = statements.filter((s) => s.Effect === 'Allow').flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(writes.filter((a) => /dynamodb:(PutItem|DeleteItem|UpdateItem|BatchWriteItem)/.test(a))).toEqual([
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
    ]);
  });
});
