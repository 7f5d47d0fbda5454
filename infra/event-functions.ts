import { AUDIT_LOG_FILTER_PATTERN } from '../lib/audit/log-stream.ts';
import { eventPermissions } from './permissions.ts';

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

export const eventFunctions: readonly EventFunction[] = [auditDelivery];

/** infra/audit.yml's queue of the batches the delivery gave up on. */
const AUDIT_DELIVERY_FAILURES = 'AuditDeliveryFailures';
/** Lambda's longest: a batch waits this long for a delivery that succeeds (throttled, or the store down) before it is set aside. */
const MAX_EVENT_AGE_SECONDS = 6 * 3600;

const stackArn = (service: string, resource: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resource}`,
});

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
    [`${key}Role`]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: { 'Fn::Sub': `\${AWS::StackName}: ${key}` },
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
        Policies: [
          {
            PolicyName: 'delivery',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'OwnLogs',
                  Effect: 'Allow',
                  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                  Resource: [stackArn('logs', `log-group:/aws/lambda/\${AWS::StackName}-${key}:*`)],
                },
                {
                  Sid: 'AuditRecords',
                  Effect: 'Allow',
                  Action: eventPermissions[key].audit.map((a) => `dynamodb:${a}`),
                  Resource: { 'Fn::GetAtt': ['AuditTable', 'Arn'] },
                },
                // Lambda sends a batch that failed for good with the function's own role.
                { Sid: 'FailedDeliveries', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [AUDIT_DELIVERY_FAILURES, 'Arn'] } },
              ],
            },
          },
        ],
        Tags: [{ Key: 'coffer:operations', Value: key }],
      },
    },
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
