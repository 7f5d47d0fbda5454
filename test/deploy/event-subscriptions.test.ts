import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../lib/http/routes.ts';
import { identityStatements, list, referenced, resourcesOfType, type Statement, type Template } from './template.ts';
import { type PackagedStack, packageStack } from './packaging.ts';

/**
 * Event subscriptions in the packaged stack (`npm run package`, offline): every function calls
 * webhooks on public addresses only; EventBridge delivers with a role that may invoke this stack's
 * subscription destinations and nothing else, and dead-letters into a queue only those rules may
 * send to; the event-subscription operations manage rules and destinations under this stack's
 * prefixes only, and pass the delivery role to EventBridge only.
 */
let template: Template;

let packaged: PackagedStack | undefined;

beforeAll(async () => {
  packaged = await packageStack('subscriptions');
  ({ template } = packaged);
}, 180_000);

afterAll(async () => {
  await packaged?.remove();
});

const sub = (text: string) => ({ 'Fn::Sub': text });
const RULES = sub('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/${AWS::StackName}/es-*');
const DESTINATIONS = sub('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:api-destination/${AWS::StackName}-es-*');
const CONNECTIONS = sub('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:connection/${AWS::StackName}-es-*');

function roleOf(operation: string): string {
  const fn = template.Resources[`${operation}LambdaFunction`];
  const role = referenced(fn?.Properties?.Role);
  if (!role) throw new Error(`no role for ${operation}`);
  return role;
}

function statementsOf(role: string): Statement[] {
  return identityStatements(template)
    .filter((s) => s.owner === role)
    .map((s) => s.statement);
}

const actionsOf = (statements: Statement[]) => statements.flatMap((s) => list(s.Action));

describe('event subscriptions in the packaged stack', () => {
  it('every function calls https webhooks on public addresses only, with the stack delivery role and queue', () => {
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(routes.length);
    let checked = 0;
    for (const [id, fn] of functions) {
      const variables = (fn.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
      // The reference rotator is not a Coffer function: it reads no Coffer configuration.
      if (!('COFFER_OBJECTS_TABLE' in variables)) continue;
      checked++;
      expect(variables.COFFER_WEBHOOK_ADDRESSES, id).toBe('public');
      expect(referenced(variables.COFFER_EVENT_DELIVERY_ROLE_ARN), id).toBe('EventDeliveryRole');
      expect(referenced(variables.COFFER_EVENT_DEAD_LETTER_QUEUE_ARN), id).toBe('EventDeliveryFailures');
    }
    expect(checked).toBeGreaterThanOrEqual(routes.length);
  });

  it('EventBridge delivers with a role that invokes this stack’s subscription destinations only', () => {
    const role = template.Resources.EventDeliveryRole!;
    expect(role.Type).toBe('AWS::IAM::Role');
    const trust = list(role.Properties!.AssumeRolePolicyDocument.Statement) as Statement[];
    expect(trust).toHaveLength(1);
    expect(trust[0]).toMatchObject({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' });
    expect(trust[0]!.Condition?.ArnLike?.['aws:SourceArn']).toEqual(RULES);
    const statements = statementsOf('EventDeliveryRole');
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'events:InvokeApiDestination',
        Resource: sub('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:api-destination/${AWS::StackName}-es-*/*'),
      },
    ]);
  });

  it('dead-letters into an encrypted queue only the subscriptions’ rules may send to, with an alarm', () => {
    const queue = template.Resources.EventDeliveryFailures!;
    expect(queue.Type).toBe('AWS::SQS::Queue');
    expect(queue.Properties!.SqsManagedSseEnabled).toBe(true);
    const [, policy] = resourcesOfType(template, 'AWS::SQS::QueuePolicy').find(([, p]) =>
      list(p.Properties!.Queues).some((q) => referenced(q) === 'EventDeliveryFailures'),
    )!;
    const statements = list(policy.Properties!.PolicyDocument.Statement) as Statement[];
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage' });
    expect(statements[0]!.Condition?.ArnLike?.['aws:SourceArn']).toEqual(RULES);
    const alarm = resourcesOfType(template, 'AWS::CloudWatch::Alarm').find(([, a]) => JSON.stringify(a.Properties).includes('EventDeliveryFailures'));
    expect(alarm).toBeDefined();
  });

  it('the operations that realize a subscription manage this stack’s rules and destinations only, and pass the delivery role to EventBridge only', () => {
    for (const operation of ['CreateOrUpdateEventSubscription', 'UpdateEventSubscription']) {
      const statements = statementsOf(roleOf(operation));
      expect(statements.find((s) => s.Sid === 'SubscriptionRules')).toEqual({
        Sid: 'SubscriptionRules',
        Effect: 'Allow',
        Action: ['events:DeleteRule', 'events:PutRule', 'events:RemoveTargets'],
        Resource: RULES,
      });
      expect(statements.find((s) => s.Sid === 'SubscriptionTargets')).toEqual({
        Sid: 'SubscriptionTargets',
        Effect: 'Allow',
        Action: 'events:PutTargets',
        Resource: RULES,
        Condition: { ArnLike: { 'events:TargetArn': DESTINATIONS } },
      });
      expect(statements.find((s) => s.Sid === 'SubscriptionDestinations')?.Resource).toEqual([DESTINATIONS, CONNECTIONS]);
      expect(statements.find((s) => s.Sid === 'PassDeliveryRole')).toEqual({
        Sid: 'PassDeliveryRole',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': ['EventDeliveryRole', 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'events.amazonaws.com' } },
      });
    }
  });

  it('deleting one, or purging its vault, only deletes; reading never touches EventBridge', () => {
    for (const operation of ['DeleteEventSubscription', 'PurgeDeletedVault']) {
      const actions = actionsOf(statementsOf(roleOf(operation))).filter((a) => a.startsWith('events:') || a.startsWith('iam:'));
      expect(actions.sort(), operation).toEqual([
        'events:DeleteApiDestination',
        'events:DeleteConnection',
        'events:DeleteRule',
        'events:RemoveTargets',
      ]);
    }
    for (const operation of ['GetEventSubscription', 'ListEventSubscriptionsByResource', 'GetEventSubscriptionFullUrl']) {
      const actions = actionsOf(statementsOf(roleOf(operation)));
      expect(
        actions.filter((a) => a.startsWith('events:') || a.startsWith('iam:') || a.startsWith('secretsmanager:')),
        operation,
      ).toEqual([]);
    }
  });

  it('no role may pass a role but the delivery role, and no EventBridge grant is on every resource', () => {
    for (const { owner, statement } of identityStatements(template)) {
      const actions = list(statement.Action);
      if ((actions.includes('iam:PassRole') || actions.includes('iam:*')) && statement.Effect === 'Allow') {
        expect(statement.Resource, owner).toEqual({ 'Fn::GetAtt': ['EventDeliveryRole', 'Arn'] });
        expect(statement.Condition, owner).toEqual({ StringEquals: { 'iam:PassedToService': 'events.amazonaws.com' } });
      }
      if (actions.some((a) => a.startsWith('events:') && a !== 'events:PutEvents') && statement.Effect === 'Allow') {
        expect(statement.Resource, `${owner} ${statement.Sid ?? ''}`).not.toBe('*');
      }
    }
  });
});
