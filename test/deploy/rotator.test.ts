import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleFunctions, ROTATOR_BUNDLE_BUDGET_BYTES } from '../../scripts/bundle.ts';
import { rotatePostgresPassword } from '../../infra/rotation-function.ts';
import { generateConfig } from '../../infra/serverless-config.ts';
import { routes } from '../../lib/http/routes.ts';
import type { Statement } from './template.ts';

/** The reference rotator (docs/rotation.md) as the deployment declares it: optional, with a role that reaches nothing of Coffer's. */
const withRotator = generateConfig(routes, { artifactFor: (key) => `${key}.zip`, rotator: true });
const without = generateConfig(routes, { artifactFor: (key) => `${key}.zip` });
const key = rotatePostgresPassword.key;
const resource = (id: string) => withRotator.resources.Resources[id] as { Type: string; Properties: Record<string, any> };

describe('the reference rotator in the deployment', () => {
  it('is there only when the deployment asks for it', () => {
    expect(without.functions[key]).toBeUndefined();
    expect(without.resources.Parameters).toBeUndefined();
    expect(Object.keys(without.resources.Resources).filter((id) => /^Rotat(ion|ePostgres)/.test(id))).toEqual([]);
    expect(withRotator.functions[key]).toMatchObject({ handler: 'index.handler', role: `${key}Role`, package: { artifact: `${key}.zip` } });
    expect(rotatePostgresPassword.handler).toBe('rotation/rotate-postgres-password');
  });

  it('has a role of its own that may write its logs, read its client secret parameter, announce and set aside its failures, nothing else', () => {
    const fn = withRotator.functions[key]!;
    expect(Object.values(withRotator.functions).filter((f) => f.role === fn.role)).toHaveLength(1);
    const statements = resource(fn.role).Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement) as Statement[];
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.sort()).toEqual(['events:PutEvents', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:SendMessage', 'ssm:GetParameter']);
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    expect(actions.some((a) => /^(dynamodb|kms):/.test(a))).toBe(false);
    // On the deployment's bus, and only under its own source: never an event that looks like Key Vault's.
    expect(statements.find((s) => s.Sid === 'FailureEvents')).toMatchObject({
      Action: 'events:PutEvents',
      Resource: { 'Fn::GetAtt': ['EventBus', 'Arn'] },
      Condition: { StringEquals: { 'events:source': 'coffer.rotation' } },
    });
    expect(statements.find((s) => s.Sid === 'ClientSecret')?.Resource).toEqual({
      'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/coffer/${sls:stage}/rotator/client-secret',
    });
    expect(statements.find((s) => s.Sid === 'OwnLogs')?.Resource).toEqual([
      { 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/\${AWS::StackName}-${key}:*` },
    ]);
    expect(statements.find((s) => s.Sid === 'FailedRotations')?.Resource).toEqual({ 'Fn::GetAtt': ['RotationFailures', 'Arn'] });
  });

  it('gets its vault, principal and identity provider from SSM parameters, and its client secret at run time, never in the template', () => {
    const fn = withRotator.functions[key]!;
    expect(fn.environment).toEqual({
      COFFER_ROTATION_VAULT_URL: { Ref: 'RotatorVaultUrl' },
      AZURE_TENANT_ID: { Ref: 'RotatorTenantId' },
      AZURE_CLIENT_ID: { Ref: 'RotatorClientId' },
      AZURE_AUTHORITY_HOST: { Ref: 'RotatorAuthorityHost' },
      COFFER_ROTATION_CLIENT_SECRET_PARAMETER: '/coffer/${sls:stage}/rotator/client-secret',
      COFFER_EVENT_BUS: { Ref: 'EventBus' },
    });
    for (const parameter of Object.values(withRotator.resources.Parameters ?? {}) as { Type: string; Default: string }[]) {
      expect(parameter.Type).toBe('AWS::SSM::Parameter::Value<String>');
      expect(parameter.Default).toMatch(/^\/coffer\/\$\{sls:stage\}\/rotator\/[a-z-]+$/);
    }
    expect(Object.keys(withRotator.resources.Parameters ?? {}).sort()).toEqual([
      'RotatorAuthorityHost',
      'RotatorClientId',
      'RotatorSecretPrefix',
      'RotatorTenantId',
      'RotatorVaultResourceId',
      'RotatorVaultUrl',
    ]);
  });

  it("runs on the bus's SecretNearExpiry of one vault's secrets with a prefix, retried, and what fails for good goes to its queue", () => {
    const rule = resource('RotatePostgresPasswordRule');
    expect(rule.Type).toBe('AWS::Events::Rule');
    expect(rule.Properties.EventBusName).toEqual({ Ref: 'EventBus' });
    expect(rule.Properties.EventPattern).toEqual({
      source: ['coffer.keyvault'],
      'detail-type': ['Microsoft.KeyVault.SecretNearExpiry'],
      resources: [{ Ref: 'RotatorVaultResourceId' }],
      detail: { subject: [{ prefix: { Ref: 'RotatorSecretPrefix' } }] },
    });
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [`${key}LambdaFunction`, 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['RotationFailures', 'Arn'] } },
      }),
    ]);
    const permission = resource(`${key}InvokedByRule`);
    expect(permission.Properties).toMatchObject({
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': ['RotatePostgresPasswordRule', 'Arn'] },
    });
    const fn = withRotator.functions[key]!;
    expect(fn.maximumRetryAttempts).toBe(2);
    expect(fn.destinations).toEqual({ onFailure: { type: 'sqs', arn: { 'Fn::GetAtt': ['RotationFailures', 'Arn'] } } });
    const queuePolicy = resource('RotationFailuresPolicy').Properties.PolicyDocument.Statement[0];
    expect(queuePolicy.Condition).toEqual({ ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['RotatePostgresPasswordRule', 'Arn'] } } });
    expect(resource('RotationFailures').Properties.SqsManagedSseEnabled).toBe(true);
    expect(resource('RotationFailuresAlarm').Properties).toMatchObject({
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['RotationFailures', 'QueueName'] } }],
      Threshold: 0,
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
  });

  it('bundles within its budget, with nothing of the vault domains, the tables or KMS', async () => {
    const out = await mkdtemp(join(tmpdir(), 'coffer-rotator-bundle-'));
    try {
      // bundleFunctions refuses a bundle that crosses the rotation family's boundary (scripts/bundle.ts).
      const [bundled] = (await bundleFunctions([], out, [rotatePostgresPassword])).filter((f) => f.key === key);
      expect(bundled?.bundleBytes).toBeGreaterThan(0);
      expect(bundled!.bundleBytes).toBeLessThan(ROTATOR_BUNDLE_BUDGET_BYTES);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
