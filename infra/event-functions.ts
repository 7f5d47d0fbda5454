import { AUDIT_LOG_FILTER_PATTERN } from '../lib/audit/log-stream.ts';
import { dueIndex } from '../lib/aws/tables.ts';
import { CONTROL_PLANE_PARTITIONS, DUE_ITEM_PARTITIONS, eventPermissions, grantsOfAll, SCHEDULE_SOURCE_PARTITIONS } from './permissions.ts';

/**
 * The functions no route reaches: they run on events. Each has its handler under functions/, its own
 * role from `eventPermissions` (infra/permissions.ts) and its triggers, generated here beside the
 * operations' functions (infra/serverless-config.ts) and bundled with them (scripts/bundle.ts).
 *
 * The audit delivery (docs/adr/0009-audit-through-the-log-stream.md): the operations' log group has
 * a subscription filter that passes the audit lines to DeliverAuditRecords, which CloudWatch Logs
 * invokes asynchronously. A failed invocation is retried by Lambda twice, and a batch that still
 * fails, or waited longer than `MAX_EVENT_AGE_SECONDS`, goes to the AuditDeliveryFailures queue
 * (infra/audit.yml), whose alarm tells the operator to redrive it: no record is dropped.
 *
 * The event publisher (issue #14): the objects table's stream (NEW_AND_OLD_IMAGES, infra/storage.yml)
 * feeds PublishEvents through an event source mapping, which turns committed writes into Key Vault's
 * events on the deployment's bus (infra/events.yml). Lambda retries a batch that failed, from the
 * first record the function reports as failed, halving a batch that keeps failing, and after
 * `STREAM_RETRY_ATTEMPTS` (or `MAX_RECORD_AGE_SECONDS`) sends a description of the records it gave
 * up on to the EventPublishFailures queue, whose alarm tells the operator to redrive them: no event is
 * silently dropped.
 */
export interface EventFunction {
  key: keyof typeof eventPermissions;
  /** Under functions/, without `.ts`. */
  handler: string;
  description: string;
}

export const auditDelivery = {
  key: 'DeliverAuditRecords',
  handler: 'audit/deliver-audit-records',
  description: "DeliverAuditRecords: the operations' audit records, from their log groups into the audit table",
} as const satisfies EventFunction;

export const publishEvents = {
  key: 'PublishEvents',
  handler: 'events/publish-events',
  description: "PublishEvents: Key Vault's events, from the objects table's stream to the EventBridge bus",
} as const satisfies EventFunction;

export const runScheduledWork = {
  key: 'RunScheduledWork',
  handler: 'events/run-scheduled-work',
  description: 'RunScheduledWork: every minute, the rotations, expiry events, renewals and purges that fell due',
} as const satisfies EventFunction;

export const eventFunctions: readonly EventFunction[] = [auditDelivery, publishEvents, runScheduledWork];

/** infra/audit.yml's queue of the batches the delivery gave up on. */
const AUDIT_DELIVERY_FAILURES = 'AuditDeliveryFailures';
/** Lambda's longest: a batch waits this long for a delivery that succeeds (throttled, or the store down) before it is set aside. */
const MAX_EVENT_AGE_SECONDS = 6 * 3600;

export const stackArn = (service: string, resource: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resource}`,
});

/** A function's own log group (serverless creates `/aws/lambda/<stack>-<key>` for it). */
const ownLogs = (key: string) => ({
  Sid: 'OwnLogs',
  Effect: 'Allow',
  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  Resource: [stackArn('logs', `log-group:/aws/lambda/\${AWS::StackName}-${key}:*`)],
});

/** An event function's role: Lambda assumes it, with these statements only. */
export function eventFunctionRole(key: string, policyName: string, statements: Record<string, unknown>[]) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: { 'Fn::Sub': `\${AWS::StackName}: ${key}` },
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [{ PolicyName: policyName, PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
      Tags: [{ Key: 'coffer:operations', Value: key }],
    },
  };
}

/** serverless.yml's entry for the delivery function, beyond what every function has. */
export function auditDeliveryFunction() {
  return {
    handler: 'index.handler',
    description: auditDelivery.description,
    role: `${auditDelivery.key}Role`,
    events: [],
    // A batch is at most a few hundred records, 25 per request: well within this, retries included.
    timeout: 60,
    maximumRetryAttempts: 2,
    maximumEventAge: MAX_EVENT_AGE_SECONDS,
    destinations: { onFailure: { type: 'sqs', arn: { 'Fn::GetAtt': [AUDIT_DELIVERY_FAILURES, 'Arn'] } } },
  };
}

/** The delivery's role, the permission CloudWatch Logs invokes it with, and the subscription filter on the operations' log group. */
export function auditDeliveryResources(operationsLogGroup: string): Record<string, unknown> {
  const key = auditDelivery.key;
  const resources: Record<string, unknown> = {
    [`${key}Role`]: eventFunctionRole(key, 'delivery', [
      ownLogs(key),
      {
        Sid: 'AuditRecords',
        Effect: 'Allow',
        Action: eventPermissions[key].audit.map((a) => `dynamodb:${a}`),
        Resource: { 'Fn::GetAtt': ['AuditTable', 'Arn'] },
      },
      // Lambda sends a batch that failed for good with the function's own role.
      { Sid: 'FailedDeliveries', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [AUDIT_DELIVERY_FAILURES, 'Arn'] } },
    ]),
    // For the stack's functions' log groups only, and only a subscription filter (which the deployment
    // creates) can use it.
    AuditDeliveryInvokedByLogs: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [`${key}LambdaFunction`, 'Arn'] },
        Principal: 'logs.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
        SourceArn: stackArn('logs', 'log-group:/aws/lambda/${AWS::StackName}-*:*'),
      },
    },
  };
  resources.OperationsAuditSubscription = {
    Type: 'AWS::Logs::SubscriptionFilter',
    DependsOn: ['AuditDeliveryInvokedByLogs'],
    Properties: {
      FilterName: 'coffer-audit',
      LogGroupName: { Ref: operationsLogGroup },
      FilterPattern: AUDIT_LOG_FILTER_PATTERN,
      DestinationArn: { 'Fn::GetAtt': [`${key}LambdaFunction`, 'Arn'] },
    },
  };
  return resources;
}

/** infra/events.yml's queue of the stream records the publisher gave up on. */
export const EVENT_PUBLISH_FAILURES = 'EventPublishFailures';
/** The objects table's stream (infra/storage.yml): the publisher's trigger, and all of the stream it may read. */
const OBJECTS_STREAM = { 'Fn::GetAtt': ['ObjectsTable', 'StreamArn'] };
/**
 * Lambda's retries of a batch whose records keep failing (bisecting it each time, so a poison record
 * ends up alone): PutEvents failing for minutes (throttling, an outage) is retried through, and a
 * record that fails ten times is set aside instead of holding up its shard for the stream's 24 hours.
 */
export const STREAM_RETRY_ATTEMPTS = 10;
/**
 * A record still unpublished after six hours (the function throttled or failing throughout) is set
 * aside to the queue: well within the stream's 24-hour retention, so the records it describes can
 * still be read from the stream for the redrive (docs/deploy.md).
 */
export const MAX_RECORD_AGE_SECONDS = 6 * 3600;
/** Up to 100 records per invocation: their vault records, then PutEvents requests of ten. */
export const STREAM_BATCH_SIZE = 100;
/** The vault records in the objects table (lib/aws/dynamo/layout.ts vaultKey), as a `dynamodb:LeadingKeys` pattern. */
export const VAULT_RECORD_PARTITIONS = ['VAULT#*'] as const;

/** serverless.yml's `stream` event (osls compiles it into an AWS::Lambda::EventSourceMapping). */
export interface StreamEvent {
  stream: {
    type: 'dynamodb';
    arn: unknown;
    batchSize: number;
    startingPosition: 'LATEST' | 'TRIM_HORIZON';
    maximumRetryAttempts: number;
    bisectBatchOnFunctionError: boolean;
    functionResponseType: 'ReportBatchItemFailures';
    maximumRecordAgeInSeconds: number;
    destinations: { onFailure: { type: 'sqs'; arn: unknown } };
  };
}

/** serverless.yml's entry for the publisher, beyond what every function has. */
export function publishEventsFunction() {
  const events: StreamEvent[] = [
    {
      stream: {
        type: 'dynamodb',
        arn: OBJECTS_STREAM,
        batchSize: STREAM_BATCH_SIZE,
        // TRIM_HORIZON, not LATEST: the mapping is created after the stream, in the same deployment
        // or (after a replacement) later, and LATEST would skip the writes committed in between. From
        // the oldest record the stream keeps, at worst up to 24 hours of events are published again,
        // with the ids they had (lib/events): consumers de-duplicate those, but could never get back
        // an event that was never published.
        startingPosition: 'TRIM_HORIZON',
        maximumRetryAttempts: STREAM_RETRY_ATTEMPTS,
        bisectBatchOnFunctionError: true,
        // The handler answers the first record it could not publish (lib/runtime/events.ts): Lambda
        // retries from there, not the records before it.
        functionResponseType: 'ReportBatchItemFailures',
        maximumRecordAgeInSeconds: MAX_RECORD_AGE_SECONDS,
        destinations: { onFailure: { type: 'sqs', arn: { 'Fn::GetAtt': [EVENT_PUBLISH_FAILURES, 'Arn'] } } },
      },
    },
  ];
  return {
    handler: 'index.handler',
    description: publishEvents.description,
    role: `${publishEvents.key}Role`,
    events,
    // 100 records: a GetItem per vault among them and ten PutEvents requests, each retried by the
    // client a few times: seconds. A timeout is a failed batch, which Lambda retries.
    timeout: 60,
  };
}

/** The publisher's role: read its stream, the vault records, publish on the bus, set records aside, its logs. */
export function publishEventsResources(): Record<string, unknown> {
  const key = publishEvents.key;
  const granted = eventPermissions[key];
  return {
    [`${key}Role`]: eventFunctionRole(key, 'publisher', [
      ownLogs(key),
      // Lambda's poller reads the stream with the function's role; the objects table's stream only.
      {
        Sid: 'ObjectsStream',
        Effect: 'Allow',
        Action: granted.objectsStream.map((a) => `dynamodb:${a}`),
        Resource: OBJECTS_STREAM,
      },
      // Vault records only (an event names its vault's resource id): the objects and versions the
      // stream carries are in its images, and nothing else in the table is read.
      {
        Sid: 'VaultRecords',
        Effect: 'Allow',
        Action: granted.vaultRecords.map((a) => `dynamodb:${a}`),
        Resource: { 'Fn::GetAtt': ['ObjectsTable', 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...VAULT_RECORD_PARTITIONS] } },
      },
      {
        Sid: 'EventBus',
        Effect: 'Allow',
        Action: granted.eventBus.map((a) => `events:${a}`),
        Resource: { 'Fn::GetAtt': ['EventBus', 'Arn'] },
      },
      // The schedule is derived from the changed object's head, deleted head and scheduled attachment.
      {
        Sid: 'ScheduleSources',
        Effect: 'Allow',
        Action: granted.scheduleSources.map((a) => `dynamodb:${a}`),
        Resource: { 'Fn::GetAtt': ['ObjectsTable', 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...SCHEDULE_SOURCE_PARTITIONS] } },
      },
      {
        Sid: 'DueItems',
        Effect: 'Allow',
        Action: granted.dueItems.map((a) => `dynamodb:${a}`),
        Resource: { 'Fn::GetAtt': ['ObjectsTable', 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...DUE_ITEM_PARTITIONS] } },
      },
      // A vault named `schedule` has the record `VAULT#schedule`, which the pattern above matches: never a write there.
      {
        Sid: 'NoControlPlaneWrites',
        Effect: 'Deny',
        Action: granted.dueItems.filter((a) => a !== 'Query').map((a) => `dynamodb:${a}`),
        Resource: { 'Fn::GetAtt': ['ObjectsTable', 'Arn'] },
        Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [...CONTROL_PLANE_PARTITIONS] } },
      },
      // Lambda sends the description of the records it gave up on with the function's own role.
      { Sid: 'FailedRecords', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [EVENT_PUBLISH_FAILURES, 'Arn'] } },
    ]),
  };
}

/** serverless.yml's `schedule` event (osls compiles it into an AWS::Events::Rule on the default bus, and the permission to invoke). */
export interface ScheduleEvent {
  schedule: { rate: string[]; enabled: boolean };
}

/** The scheduler's rate: due work waits at most this long (plus the run) after it fell due. */
export const SCHEDULER_RATE = 'rate(1 minute)';
/**
 * A run does at most 400 items (lib/events/scheduler.ts) and must end well inside the lease it holds
 * on each (LEASE_SECONDS, 300 s), so no second run takes an item it is still working on.
 */
export const SCHEDULER_TIMEOUT_SECONDS = 120;

/**
 * serverless.yml's entry for the scheduler: on an EventBridge rate rule, once a minute. A failed or
 * missed run needs no retry (the next one finds the same due items), so Lambda retries none. It logs
 * to the operations' log group like every operation, so its audit records are delivered with theirs.
 */
export function runScheduledWorkFunction() {
  return {
    handler: 'index.handler',
    description: runScheduledWork.description,
    role: `${runScheduledWork.key}Role`,
    events: [{ schedule: { rate: [SCHEDULER_RATE], enabled: true } }] satisfies ScheduleEvent[],
    timeout: SCHEDULER_TIMEOUT_SECONDS,
    maximumRetryAttempts: 0,
    disableLogs: true,
  };
}

/**
 * The scheduler's grants: those of the operations whose work it does (infra/permissions.ts), plus the
 * due index and the bus. Built by the operations' role builder (infra/serverless-config.ts), which
 * gives it the operations' log group; these are the statements beyond.
 */
export function runScheduledWorkGrants() {
  return grantsOfAll(eventPermissions.RunScheduledWork.operations);
}

export function runScheduledWorkStatements(): Record<string, unknown>[] {
  const granted = eventPermissions.RunScheduledWork;
  return [
    {
      Sid: 'DueIndex',
      Effect: 'Allow',
      Action: granted.dueIndex.map((a) => `dynamodb:${a}`),
      Resource: { 'Fn::Sub': `\${ObjectsTable.Arn}/index/${dueIndex.name}` },
    },
    {
      Sid: 'EventBus',
      Effect: 'Allow',
      Action: granted.eventBus.map((a) => `events:${a}`),
      Resource: { 'Fn::GetAtt': ['EventBus', 'Arn'] },
    },
  ];
}
