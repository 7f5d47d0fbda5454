import { describe, expect, it } from 'vitest';
import { localFunctionEnvironment } from '../../dev/local-environment.ts';
import { functionEnvironment, type LocalStackInfo } from '../../dev/stack.ts';
import { deployedEnvironment } from '../../infra/serverless-config.ts';
import { type Config, loadConfig } from '../../lib/runtime/config.ts';
import { FUNCTION_VARIABLES } from '../../lib/runtime/environment.ts';

/**
 * One function environment everywhere: the local stack's gateway, the tests and benchmarks that run
 * handlers in-process, and serverless.yml give every function the same variables, and they are the
 * ones lib/runtime/config.ts reads.
 */
const stack = {
  vaultName: 'default',
  vaultDomain: 'vault.localhost',
  tenantId: '8f0c2d6e-3b6f-4f57-9a52-3c1d2b8d1e11',
  issuer: 'https://localhost:8444/8f0c2d6e-3b6f-4f57-9a52-3c1d2b8d1e11/v2.0',
  jwksUri: 'https://localhost:8444/8f0c2d6e-3b6f-4f57-9a52-3c1d2b8d1e11/discovery/v2.0/keys',
  authorityHost: 'https://localhost:8444',
  audience: 'https://vault.localhost',
  endpoints: { dynamodb: 'http://127.0.0.1:8446', kms: 'http://127.0.0.1:8445' },
  tables: { objects: 'coffer-objects', audit: 'coffer-audit' },
};
const info = stack as unknown as LocalStackInfo;

/** What the deployed template's references resolve to in a stack named coffer-test in eu-west-1. */
const stackValues: Record<string, string> = {
  ObjectsTable: 'coffer-test-ObjectsTable-1A2B3C',
  AuditTable: 'coffer-test-AuditTable-4D5E6F',
  VaultDomain: 'vault.example.com',
  TrustedIssuers: JSON.stringify([
    {
      tenantId: '0b3a2f9e-1c4d-4e5f-8a6b-7c8d9e0f1a2b',
      issuer: 'https://login.microsoftonline.com/0b3a2f9e-1c4d-4e5f-8a6b-7c8d9e0f1a2b/v2.0',
      jwksUri: 'https://login.microsoftonline.com/0b3a2f9e-1c4d-4e5f-8a6b-7c8d9e0f1a2b/discovery/v2.0/keys',
      audiences: ['https://vault.example.com'],
      authority: 'https://login.microsoftonline.com/0b3a2f9e-1c4d-4e5f-8a6b-7c8d9e0f1a2b',
    },
  ]),
  Subscriptions: JSON.stringify([
    { subscriptionId: '3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a9f', tenantId: '0b3a2f9e-1c4d-4e5f-8a6b-7c8d9e0f1a2b', displayName: 'Payments' },
  ]),
  TenantAdministrators: JSON.stringify([{ tenantId: '0b3a2f9e-1c4d-4e5f-8a6b-7c8d9e0f1a2b', objectId: '6f5e4d3c-2b1a-4098-8f7e-6d5c4b3a2910' }]),
  BackupKey: 'arn:aws:kms:eu-west-1:111122223333:key/5f1e6c1a-8d2b-4c3e-9f4a-0b1c2d3e4f5a',
  'AWS::Region': 'eu-west-1',
  'AWS::StackName': 'coffer-test',
  EventBus: 'coffer-test',
  EventDeliveryRole: 'arn:aws:iam::111122223333:role/coffer-test-EventDeliveryRole-1',
  EventDeliveryFailures: 'arn:aws:sqs:eu-west-1:111122223333:coffer-test-event-delivery-failures',
  '${param:auditRetentionDays}': '365',
};

function resolveDeployed(value: unknown): string {
  if (typeof value === 'string') return stackValues[value] ?? value;
  const substitution = (value as { 'Fn::Sub'?: string })['Fn::Sub'];
  if (typeof substitution === 'string') {
    return substitution.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      if (!(name in stackValues)) throw new Error(`unexpected reference in the deployed environment: ${name}`);
      return stackValues[name]!;
    });
  }
  const reference = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  const name = reference.Ref ?? reference['Fn::GetAtt']?.[0];
  if (!name || !(name in stackValues)) throw new Error(`unexpected value in the deployed environment: ${JSON.stringify(value)}`);
  return stackValues[name]!;
}

const cofferVariables = (environment: Record<string, unknown>) =>
  Object.keys(environment)
    .filter((name) => name.startsWith('COFFER_'))
    .sort();

/** The variables loadConfig reads from an environment, and what it makes of them. */
function readByLoadConfig(environment: Record<string, string>): { read: string[]; config: Config } {
  const read = new Set<string>();
  const recording = new Proxy(environment, {
    get(target, name) {
      if (typeof name === 'string') read.add(name);
      return target[name as string];
    },
  });
  const config = loadConfig(recording);
  return { read: [...read].sort(), config };
}

const defined = Object.values(FUNCTION_VARIABLES).sort();
const gateway = localFunctionEnvironment(stack);
const inProcess = functionEnvironment(info);
const deployed = Object.fromEntries(Object.entries(deployedEnvironment()).map(([name, value]) => [name, resolveDeployed(value)]));

describe('the function environment', () => {
  it('is the same set of variables on the local stack, in-process and in serverless.yml', () => {
    expect(cofferVariables(gateway)).toEqual(defined);
    expect(cofferVariables(inProcess)).toEqual(defined);
    expect(cofferVariables(deployedEnvironment())).toEqual(defined);
    expect(gateway.POWERTOOLS_SERVICE_NAME).toBe('coffer');
    expect(deployed.POWERTOOLS_SERVICE_NAME).toBe('coffer');
  });

  it('is exactly what loadConfig reads', () => {
    for (const environment of [gateway, inProcess, deployed]) {
      expect(readByLoadConfig(environment).read).toEqual(defined);
    }
  });

  it('is accepted by loadConfig as the local stack gives it', () => {
    const { config } = readByLoadConfig(gateway);
    expect(config).toEqual({
      objectsTable: 'coffer-objects',
      auditTable: 'coffer-audit',
      vaultDomain: 'vault.localhost',
      hostAliases: { localhost: 'default', '127.0.0.1': 'default' },
      trustedIssuers: [
        {
          tenantId: stack.tenantId,
          issuer: stack.issuer,
          jwksUri: stack.jwksUri,
          audiences: ['https://vault.localhost', 'https://vault.azure.net', 'cfa8b339-82a2-471a-a3c9-0fc0be7a4093'],
          authority: `https://localhost:8444/${stack.tenantId}`,
        },
      ],
      managementAudience: 'https://management.localhost',
      subscriptions: [],
      tenantAdministrators: [],
      vaultEndpoints: [],
      backupKeyId: 'alias/coffer-backup',
      region: 'local',
      auditRetentionDays: 365,
      // The local stack's webhooks are on loopback; a deployment's are public (infra/serverless-config.ts).
      webhookAddresses: 'loopback',
    });
    expect(readByLoadConfig(functionEnvironment(info, { jwksUri: 'http://127.0.0.1:9/keys' })).config.trustedIssuers[0]!.jwksUri).toBe(
      'http://127.0.0.1:9/keys',
    );
  });

  it("names the local subscription, its administrator (the stack's admin principal) and the vault endpoints", () => {
    const local = {
      ...info,
      subscriptionId: '3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a9f',
      objectId: '6f5e4d3c-2b1a-4098-8f7e-6d5c4b3a2910',
      vaultEndpoints: ['https://localhost:8448', 'https://localhost:8449'],
    } as LocalStackInfo;
    const { config } = readByLoadConfig(functionEnvironment(local));
    expect(config.subscriptions).toEqual([{ subscriptionId: local.subscriptionId, tenantId: stack.tenantId, displayName: 'Coffer local' }]);
    expect(config.tenantAdministrators).toEqual([{ tenantId: stack.tenantId, objectId: local.objectId }]);
    expect(config.vaultEndpoints).toEqual(local.vaultEndpoints);
  });

  it('is accepted by loadConfig as serverless.yml gives it, every value from the stack', () => {
    const { config } = readByLoadConfig(deployed);
    expect(config).toMatchObject({
      objectsTable: stackValues.ObjectsTable,
      auditTable: stackValues.AuditTable,
      vaultDomain: 'vault.example.com',
      hostAliases: {},
      managementAudience: 'https://management.vault.example.com',
      vaultEndpoints: [],
      backupKeyId: stackValues.BackupKey,
      region: 'eu-west-1',
      auditRetentionDays: 365,
      deployment: 'coffer-test',
    });
    expect(config.trustedIssuers).toEqual(JSON.parse(stackValues.TrustedIssuers!));
    expect(config.subscriptions).toEqual(JSON.parse(stackValues.Subscriptions!));
    expect(config.tenantAdministrators).toEqual(JSON.parse(stackValues.TenantAdministrators!));
  });
});
