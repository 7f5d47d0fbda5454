/**
 * The reference rotator (docs/rotation.md) as an optional function of the deployment: generated only
 * when the packaging asks for it (`generateConfig(routes, { rotator: true })`). An EventBridge rule
 * on the deployment's bus passes it the SecretNearExpiry events of one vault's secrets whose names
 * start with a prefix; it rotates each as a client of that vault, over HTTPS with its own service
 * principal, like any application.
 *
 * Its role is its own and the smallest there is: its log group, the SSM parameter holding its client
 * secret (decrypted by SSM with the account's `aws/ssm` key, so no KMS grant), and its failure
 * queue, and its failure events on the bus under its own source only. No Coffer table, no KMS key:
 * everything it reads and writes in the vault goes through the vault's API, authorized and audited there.
 */
import { KEY_VAULT_EVENT_SOURCE } from '../lib/events/events.ts';
import { ROTATION_EVENT_SOURCE } from '../lib/rotation/failure-event.ts';
import { eventFunctionRole, stackArn } from './event-functions.ts';

export const rotatePostgresPassword = {
  key: 'RotatePostgresPassword',
  handler: 'rotation/rotate-postgres-password',
  description: "RotatePostgresPassword: a PostgreSQL role's new password on its secret's SecretNearExpiry (docs/rotation.md)",
} as const;

/** The SSM parameters a deployment with the rotator has (its stage's), like infra/parameters.yml's. */
const ROTATOR_PARAMETERS = {
  RotatorVaultUrl: ['vault-url', 'The vault whose secrets the rotator rotates: https://<vault>.<VaultDomain>.'],
  RotatorVaultResourceId: ['vault-resource-id', "That vault's ARM id (the events' topic): /subscriptions/.../vaults/<vault>."],
  RotatorSecretPrefix: ['secret-prefix', 'Only the secrets whose names start with this are rotated (their SecretNearExpiry reaches the rotator).'],
  RotatorTenantId: ['tenant-id', "The rotator's service principal's tenant."],
  RotatorClientId: ['client-id', "The rotator's service principal (Key Vault Secrets Officer on the secrets it rotates)."],
  RotatorAuthorityHost: ['authority-host', "The tenant's identity provider, https://<host>."],
} as const;

/** The SecureString parameter with the service principal's client secret: read by the function at start, never in the template. */
const CLIENT_SECRET_PARAMETER = '/coffer/${sls:stage}/rotator/client-secret';
const FAILURES = 'RotationFailures';
const RULE = 'RotatePostgresPasswordRule';
const NEAR_EXPIRY = 'Microsoft.KeyVault.SecretNearExpiry';
/** A rotation is a few round trips to the vault and the database: well within this, the test connection's timeout included. */
const TIMEOUT_SECONDS = 60;

/** serverless.yml's entry for the rotator, its CloudFormation parameters and resources. */
export function rotatorConfig(artifact: string) {
  const key = rotatePostgresPassword.key;
  const parameters: Record<string, unknown> = {};
  for (const [name, [suffix, description]] of Object.entries(ROTATOR_PARAMETERS)) {
    parameters[name] = { Type: 'AWS::SSM::Parameter::Value<String>', Default: `/coffer/\${sls:stage}/rotator/${suffix}`, Description: description };
  }
  const fn = {
    handler: 'index.handler',
    description: rotatePostgresPassword.description,
    package: { artifact },
    role: `${key}Role`,
    events: [],
    timeout: TIMEOUT_SECONDS,
    // EventBridge invokes it asynchronously: Lambda retries a failed rotation twice (each run starts
    // again from the current version, so a retry never rotates twice), then the event goes to the queue.
    maximumRetryAttempts: 2,
    maximumEventAge: 6 * 3600,
    destinations: { onFailure: { type: 'sqs', arn: { 'Fn::GetAtt': [FAILURES, 'Arn'] } } },
    environment: {
      COFFER_ROTATION_VAULT_URL: { Ref: 'RotatorVaultUrl' },
      AZURE_TENANT_ID: { Ref: 'RotatorTenantId' },
      AZURE_CLIENT_ID: { Ref: 'RotatorClientId' },
      AZURE_AUTHORITY_HOST: { Ref: 'RotatorAuthorityHost' },
      COFFER_ROTATION_CLIENT_SECRET_PARAMETER: CLIENT_SECRET_PARAMETER,
      COFFER_EVENT_BUS: { Ref: 'EventBus' },
    },
  };
  const resources: Record<string, unknown> = {
    [`${key}Role`]: eventFunctionRole(key, 'rotator', [
      {
        Sid: 'OwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [stackArn('logs', `log-group:/aws/lambda/\${AWS::StackName}-${key}:*`)],
      },
      {
        Sid: 'ClientSecret',
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: stackArn('ssm', `parameter${CLIENT_SECRET_PARAMETER}`),
      },
      // Lambda sends an event whose rotation failed for good with the function's own role.
      { Sid: 'FailedRotations', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [FAILURES, 'Arn'] } },
      // Each failed attempt's event (lib/rotation/failure-event.ts), on the deployment's bus under
      // the rotator's own source only: it can never put an event that looks like Key Vault's.
      {
        Sid: 'FailureEvents',
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: { 'Fn::GetAtt': ['EventBus', 'Arn'] },
        Condition: { StringEquals: { 'events:source': ROTATION_EVENT_SOURCE } },
      },
    ]),
    // The events of rotations that failed for good (or that EventBridge could not hand to the
    // function): which secret and version, never a value. Rotate them on demand once the cause is fixed.
    [FAILURES]: {
      Type: 'AWS::SQS::Queue',
      Properties: { QueueName: { 'Fn::Sub': '${AWS::StackName}-rotation-failures' }, MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true },
    },
    // A failed rotation is the operator's to see: the previous version is still current, but its
    // expiry is coming. The same alarm topic as every other alarm (infra/alarms.yml).
    [`${FAILURES}Alarm`]: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: { 'Fn::Sub': '${AWS::StackName}-rotation-failed' },
        AlarmDescription:
          'A secret rotation failed for good: its previous version is still current; fix the cause and rotate it on demand before it expires.',
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [FAILURES, 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'AlarmTopic' }],
        OKActions: [{ Ref: 'AlarmTopic' }],
      },
    },
    [`${FAILURES}Policy`]: {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: FAILURES }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'RuleDeadLetters',
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: { 'Fn::GetAtt': [FAILURES, 'Arn'] },
              Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [RULE, 'Arn'] } } },
            },
          ],
        },
      },
    },
    [RULE]: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: 'SecretNearExpiry of the rotated secrets, to the reference rotator',
        EventBusName: { Ref: 'EventBus' },
        State: 'ENABLED',
        EventPattern: {
          source: [KEY_VAULT_EVENT_SOURCE],
          'detail-type': [NEAR_EXPIRY],
          resources: [{ Ref: 'RotatorVaultResourceId' }],
          detail: { subject: [{ prefix: { Ref: 'RotatorSecretPrefix' } }] },
        },
        Targets: [
          {
            Id: 'rotator',
            Arn: { 'Fn::GetAtt': [`${key}LambdaFunction`, 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [FAILURES, 'Arn'] } },
          },
        ],
      },
    },
    [`${key}InvokedByRule`]: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [`${key}LambdaFunction`, 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [RULE, 'Arn'] },
      },
    },
  };
  return { key, function: fn, parameters, resources };
}
