import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { managedHsmDataRoutes, managedHsmPoolRoutes, type Route, routes } from '../../lib/http/routes.ts';
import { ownPermissionsOf, POOL_PARTITIONS, permissionsFor } from '../../infra/permissions.ts';
import {
  BACKUP_BUCKET,
  CLOUDHSM_PKCS11_LIBRARY,
  CLOUDHSM_TOKEN_LABEL,
  CLUSTER,
  finishPoolTemplate,
  generatePoolStackConfig,
  MAIN_STACK_EXPORTS,
  POOL_API,
  POOL_SERVICE,
  POOL_SWEEP_RATE,
  POOL_SWEEP_TIMEOUT_SECONDS,
  poolStackRoutes,
  poolSweep,
  poolSweepPermissions,
  poolUnmatchedRequests,
  rebaseOnMainStack,
} from '../../infra/pool-stack.ts';
import { API_INVOKE_ROLE, apiInvokeRole, apiPaths, deployedEnvironment, functionKey } from '../../infra/serverless-config.ts';
import { BUNDLE_BUDGET_BYTES, bundleFunctions, NATIVE_ADDONS, projectRoot } from '../../scripts/bundle.ts';
import { functionOfRoute, identityStatements, list, referenced, resourcesOfType, type Statement, type Template } from './template.ts';
import { type PackagedStack, packageStack, runFile } from './packaging.ts';

/**
 * The managed HSM pools' own stack (infra/pool-stack.ts, docs/adr/0023-pool-stack.md), as
 * `npm run package` builds it beside the main stack: offline, from the pools' route tables.
 */
const STAGE = 'test';
const MAIN = `coffer-${STAGE}`;
let packaged: PackagedStack | undefined;
let main: Template;
let pools: Template;
let withCloudHsm: Template;
let cloudHsmOut: string | undefined;

const readTemplate = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as Template;

beforeAll(async () => {
  packaged = await packageStack('pools', STAGE);
  main = packaged.template;
  pools = await readTemplate(join(packaged.out, 'pools', 'stack', 'cloudformation-template-update-stack.json'));
  // And with the optional CloudHSM part, as `npm run package -- --cloudhsm` builds it.
  cloudHsmOut = await mkdtemp(join(tmpdir(), 'coffer-package-cloudhsm-'));
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_') || key.startsWith('COFFER_')) delete env[key];
  await runFile(
    process.execPath,
    ['--import', 'tsx', 'scripts/package.ts', '--stage', STAGE, '--region', 'eu-west-1', '--out', cloudHsmOut, '--cloudhsm'],
    { cwd: projectRoot, env, maxBuffer: 16 * 1024 * 1024 },
  );
  withCloudHsm = await readTemplate(join(cloudHsmOut, 'pools', 'stack', 'cloudformation-template-update-stack.json'));
}, 240_000);

afterAll(async () => {
  await packaged?.remove();
  if (cloudHsmOut) await rm(cloudHsmOut, { recursive: true, force: true });
});

const lambda = (template: Template, route: Route) => template.Resources[`${functionKey(route)}LambdaFunction`];
/** The pool domain's root a data-plane handler is defined on: `hsm-keys` for `#lib/runtime/hsm-keys` (lib/runtime/hsm-*.ts). */
async function poolRootOf(route: Route): Promise<string> {
  const source = await readFile(join(projectRoot, 'functions', `${route.handler}.ts`), 'utf8');
  return /from '#lib\/runtime\/(hsm-[a-z-]+)'/.exec(source)?.[1] ?? `no pool root in functions/${route.handler}.ts`;
}
/** The pool domains whose functions never reach the pool's HSM. */
const ROOTS_WITHOUT_HSM = new Set(['hsm-rbac', 'hsm-settings']);
/** The pools' API's `$default` function (lib/runtime/pool-gateway.ts). */
const DEFAULT_FUNCTION = `${poolUnmatchedRequests.key}LambdaFunction`;
/** The sweep of deleted pools (functions/hsm/purge-deleted-managed-hsms.ts), on a rate rule. */
const SWEEP_FUNCTION = `${poolSweep.key}LambdaFunction`;
/** A role's statements, by the role's logical id. */
const statementsOfRole = (template: Template, roleId: string) =>
  identityStatements(template)
    .filter((s) => s.owner === roleId)
    .map((s) => s.statement);
const importOf = (name: string) => ({ 'Fn::ImportValue': `${MAIN}-${name}` });

/** The statements of a function's role. */
const statementsOf = (template: Template, route: Route) => {
  const roleId = referenced(lambda(template, route)!.Properties!.Role)!;
  return identityStatements(template)
    .filter((s) => s.owner === roleId)
    .map((s) => s.statement);
};

/** Every `Fn::ImportValue` in a template. */
function importsOf(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) importsOf(item, found);
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'Fn::ImportValue') found.push(child as string);
      else importsOf(child, found);
    }
  }
  return found;
}

describe("the pools' stack: its functions follow the pools' route tables", () => {
  it('deploys every row of managedHsmPoolRoutes and managedHsmDataRoutes, and the main stack none of them', () => {
    expect(poolStackRoutes).toEqual([...managedHsmPoolRoutes, ...managedHsmDataRoutes]);
    for (const route of poolStackRoutes) {
      expect(lambda(pools, route), route.operation).toBeDefined();
      expect(lambda(main, route), route.operation).toBeUndefined();
    }
    // And the pools' API's `$default` function, and the sweep of deleted pools.
    expect(
      resourcesOfType(pools, 'AWS::Lambda::Function')
        .map(([id]) => id)
        .sort(),
    ).toEqual([...poolStackRoutes.map((route) => `${functionKey(route)}LambdaFunction`), DEFAULT_FUNCTION, SWEEP_FUNCTION].sort());
  });

  it("gives each function the main stack's settings, on x86_64 for the native addon, with its own bundle", async () => {
    const reference = main.Resources.GetVaultLambdaFunction!.Properties!;
    for (const route of poolStackRoutes) {
      const fn = lambda(pools, route)!.Properties!;
      expect(fn, route.operation).toMatchObject({
        Runtime: reference.Runtime,
        MemorySize: reference.MemorySize,
        Timeout: reference.Timeout,
        Handler: 'index.handler',
        Architectures: ['x86_64'],
        FunctionName: `${POOL_SERVICE}-${STAGE}-${functionKey(route)}`,
      });
      const zip = unzipSync(new Uint8Array(await readFile(join(packaged!.out, 'pools', 'artifacts', `${functionKey(route)}.zip`))));
      // The pools' management root makes and wipes each pool's token (lib/runtime/pool-management.ts), and
      // the data-plane roots but RBAC's and the settings' open the pool's HSM: those functions ship the
      // PKCS#11 addon beside their bundle, and the two that never reach an HSM their bundle alone.
      const opensHsm = route.plane === 'management' || !ROOTS_WITHOUT_HSM.has(await poolRootOf(route));
      expect(Object.keys(zip).sort(), route.operation).toEqual(
        [
          'index.mjs',
          ...(opensHsm
            ? ['node_modules/pkcs11js/build/Release/pkcs11.node', 'node_modules/pkcs11js/index.js', 'node_modules/pkcs11js/package.json']
            : []),
        ].sort(),
      );
      // Each pool domain has its own root (lib/runtime/hsm*.ts), so each function is within the budget every function has.
      expect(zip['index.mjs']!.length, route.operation).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
    }
    // The `$default` function opens no pool: its bundle alone.
    const unmatched = unzipSync(new Uint8Array(await readFile(join(packaged!.out, 'pools', 'artifacts', `${poolUnmatchedRequests.key}.zip`))));
    expect(Object.keys(unmatched)).toEqual(['index.mjs']);
    expect(pools.Resources[DEFAULT_FUNCTION]!.Properties).toMatchObject({
      Architectures: ['x86_64'],
      FunctionName: `${POOL_SERVICE}-${STAGE}-${poolUnmatchedRequests.key}`,
      LoggingConfig: { LogGroup: importOf('OperationsLogGroup'), LogFormat: 'JSON', SystemLogLevel: 'WARN', ApplicationLogLevel: 'INFO' },
    });
  });

  it("bundles into each data-plane function its own pool domain's code, none of the others'", async () => {
    // Each pool domain's root (lib/runtime/hsm-*.ts) and what only it brings; the HSM adapter is every root's that opens the pool's HSM.
    const hsm = 'lib/pkcs11/pkcs11-hsm-keys.ts';
    const ownCode: Record<string, string[]> = {
      'hsm-keys': ['lib/keys/life-cycle.ts', hsm],
      'hsm-key-crypto': ['lib/keys/operate.ts', hsm],
      'hsm-backups': ['lib/hsm/pool-backup.ts', hsm],
      'hsm-security-domain': ['lib/hsm/pool-security-domain.ts', hsm],
      'hsm-rbac': ['lib/hsm/rbac-management.ts'],
      'hsm-settings': ['lib/hsm/settings.ts'],
    };
    const everyDomain = [...new Set(Object.values(ownCode).flat())];
    const metafile = JSON.parse(await readFile(join(packaged!.out, 'pools', 'bundles', 'metafile.json'), 'utf8')) as {
      outputs: Record<string, { inputs: Record<string, unknown> }>;
    };
    const roots = new Set<string>();
    for (const route of managedHsmDataRoutes) {
      const root = await poolRootOf(route);
      expect(ownCode, `${route.operation}'s root`).toHaveProperty([root]);
      roots.add(root);
      const output = Object.entries(metafile.outputs).find(([file]) => file.endsWith(`/bundles/${functionKey(route)}/index.mjs`))?.[1];
      const inputs = Object.keys(output!.inputs);
      const own = ownCode[root]!;
      expect(everyDomain.filter((file) => inputs.includes(file)).sort(), route.operation).toEqual([...own].sort());
    }
    expect([...roots].sort()).toEqual(Object.keys(ownCode).sort());
  });

  it("routes the management rows on the main stack's HTTP API, the data-plane rows and a $default route on the pools' own", () => {
    const routeKeys = (rows: readonly Route[]) =>
      rows.flatMap((route) => apiPaths(route).map((path) => `${route.method} ${path} -> ${functionKey(route)}LambdaFunction`));
    const on = (api: unknown) =>
      resourcesOfType(pools, 'AWS::ApiGatewayV2::Route')
        .filter(([, r]) => JSON.stringify(r.Properties!.ApiId) === JSON.stringify(api))
        .map(([, r]) => `${r.Properties!.RouteKey} -> ${functionOfRoute(pools, r)}`)
        .sort();
    expect(on(importOf('HttpApi'))).toEqual(routeKeys(managedHsmPoolRoutes).sort());
    expect(on({ Ref: POOL_API })).toEqual([...routeKeys(managedHsmDataRoutes), `$default -> ${DEFAULT_FUNCTION}`].sort());
    // One API of its own, with its stage; every integration on one of the two APIs.
    expect(resourcesOfType(pools, 'AWS::ApiGatewayV2::Api').map(([id]) => id)).toEqual([POOL_API]);
    expect(resourcesOfType(pools, 'AWS::ApiGatewayV2::Stage')).toHaveLength(1);
    for (const [id, resource] of resourcesOfType(pools, 'AWS::ApiGatewayV2::Integration')) {
      expect([JSON.stringify(importOf('HttpApi')), JSON.stringify({ Ref: POOL_API })], id).toContain(JSON.stringify(resource.Properties!.ApiId));
    }
    // None of the main API's is a route key the main stack has.
    const mainKeys = new Set(resourcesOfType(main, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties!.RouteKey));
    for (const [, route] of resourcesOfType(pools, 'AWS::ApiGatewayV2::Route').filter(
      ([, r]) => JSON.stringify(r.Properties!.ApiId) === JSON.stringify(importOf('HttpApi')),
    ))
      expect(mainKeys.has(route.Properties!.RouteKey)).toBe(false);
  });

  it("has the $default function hand what it matches to exactly the pools' data-plane functions, named as this stack names them", () => {
    const fn = pools.Resources[DEFAULT_FUNCTION]!.Properties!;
    expect(fn.Environment.Variables.COFFER_POOL_STACK).toBe(`${POOL_SERVICE}-${STAGE}`);
    const statements = statementsOfRole(pools, referenced(fn.Role)!);
    const invoke = statements.find((s) => s.Sid === 'InvokePoolOperations')!;
    expect(
      list(invoke.Resource as unknown[])
        .map(referenced)
        .sort(),
    ).toEqual(managedHsmDataRoutes.map((route) => `${functionKey(route)}LambdaFunction`).sort());
    // It reads pools' records, writes nothing, and holds no key.
    const actions = statements.flatMap((s) => list(s.Action)).sort();
    expect(actions).toEqual(['dynamodb:GetItem', 'lambda:InvokeFunction', 'logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(statements.find((s) => s.Sid === 'PoolRecordReads')!.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': Object.values(POOL_PARTITIONS) },
    });
    // Outside the cluster's VPC even with CloudHSM: it reaches no HSM.
    expect(withCloudHsm.Resources[DEFAULT_FUNCTION]!.Properties!.VpcConfig).toBeUndefined();
  });

  it("has API Gateway invoke them through the pools' own invoke role, assumable only for the main stack's API and the pools' own", () => {
    // The one permission left is EventBridge's, for the sweep's rule (below): API Gateway's are the invoke role's.
    expect(resourcesOfType(pools, 'AWS::Lambda::Permission').map(([, p]) => p.Properties!.Principal)).toEqual(['events.amazonaws.com']);
    const integrations = resourcesOfType(pools, 'AWS::ApiGatewayV2::Integration');
    for (const [id, integration] of integrations)
      expect(integration.Properties!.CredentialsArn, id).toEqual({ 'Fn::GetAtt': [API_INVOKE_ROLE, 'Arn'] });
    const role = pools.Resources[API_INVOKE_ROLE]!;
    expect(role.Properties!.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'apigateway.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: {
            'aws:SourceArn': [
              {
                'Fn::Sub': [
                  'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${MainHttpApi}/*',
                  { MainHttpApi: importOf('HttpApi') },
                ],
              },
              { 'Fn::Sub': `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${${POOL_API}}/*` },
            ],
          },
        },
      },
    ]);
    const [invoke] = identityStatements(pools).filter((s) => s.owner === API_INVOKE_ROLE);
    expect(
      list(invoke!.statement.Resource as unknown[])
        .map(referenced)
        .sort(),
    ).toEqual([...poolStackRoutes.map((route) => `${functionKey(route)}LambdaFunction`), DEFAULT_FUNCTION].sort());
  });
});

describe("the pools' stack: attached to the main stack", () => {
  it('imports only what the main stack exports, and the main stack exports it under the names imported', () => {
    const imported = [...new Set(importsOf(pools))].sort();
    expect(imported.length).toBeGreaterThan(0);
    const exported = Object.values(main.Outputs ?? {})
      .map((output) => (output as { Export?: { Name: unknown } }).Export?.Name)
      .filter((name): name is { 'Fn::Sub': string } => typeof name === 'object' && name !== null && 'Fn::Sub' in name)
      .map((name) => name['Fn::Sub'].replace('${AWS::StackName}', MAIN));
    for (const name of imported) expect(exported, name).toContain(name);
    expect(exported.sort()).toEqual(MAIN_STACK_EXPORTS.map((reference) => `${MAIN}-${reference.replace('.', '')}`).sort());
  });

  it("configures every function as the main stack's, with the main stack's tables, keys and bus and the stage's SSM parameters", () => {
    const expected = deployedEnvironment();
    for (const route of poolStackRoutes) {
      const variables = lambda(pools, route)!.Properties!.Environment.Variables as Record<string, unknown>;
      expect(Object.keys(variables).sort(), route.operation).toEqual(Object.keys(expected).sort());
      expect(variables, route.operation).toMatchObject({
        COFFER_OBJECTS_TABLE: importOf('ObjectsTable'),
        COFFER_AUDIT_TABLE: importOf('AuditTable'),
        COFFER_BACKUP_KEY_ID: importOf('BackupKeyArn'),
        COFFER_EVENT_BUS: importOf('EventBus'),
        COFFER_VAULT_DOMAIN: { Ref: 'VaultDomain' },
        COFFER_TRUSTED_ISSUERS: { Ref: 'TrustedIssuers' },
        // The KMS keys and tags its functions meet are the deployment's: the main stack's name.
        COFFER_DEPLOYMENT: MAIN,
      });
    }
    for (const name of ['VaultDomain', 'TrustedIssuers', 'Subscriptions', 'TenantAdministrators']) {
      expect(pools.Parameters?.[name]).toEqual(main.Parameters?.[name]);
    }
  });

  it("logs to the main stack's operations' log group, so the one audit subscription delivers the pools' records", () => {
    expect(resourcesOfType(pools, 'AWS::Logs::LogGroup')).toEqual([]);
    expect(resourcesOfType(pools, 'AWS::Logs::SubscriptionFilter')).toEqual([]);
    for (const route of poolStackRoutes) {
      expect(lambda(pools, route)!.Properties!.LoggingConfig, route.operation).toEqual({
        LogGroup: importOf('OperationsLogGroup'),
        LogFormat: 'JSON',
        SystemLogLevel: 'WARN',
        ApplicationLogLevel: 'INFO',
      });
    }
    const logs = identityStatements(pools).filter((s) => s.statement.Sid === 'OwnLogs');
    expect(logs.length).toBeGreaterThan(0);
    for (const { statement } of logs) {
      expect(statement.Resource).toEqual([
        { 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${MAIN}-operations:*` },
      ]);
    }
  });

  it("leaves the main stack's resource budget as it was, and the pools' stack the same spare margin", () => {
    // The main stack's own test keeps it within 460; none of the pools' resources is in it.
    expect(Object.keys(main.Resources).length).toBeLessThanOrEqual(460);
    expect(Object.keys(main.Resources).filter((id) => /ManagedHsm/.test(id))).toEqual([]);
    expect(Object.keys(pools.Resources).length).toBeLessThanOrEqual(460);
    expect(Object.keys(withCloudHsm.Resources).length).toBeLessThanOrEqual(460);
  });
});

describe("the pools' stack: least privilege from managedHsmPoolPermissions and managedHsmDataPermissions", () => {
  it('gives each function exactly the DynamoDB actions its entry and its plane grant, on the main tables, and nothing else', () => {
    for (const route of poolStackRoutes) {
      const statements = statementsOf(pools, route);
      const expected = permissionsFor(route.operation);
      const on = (target: string) =>
        statements
          .filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource) === JSON.stringify(importOf(target)))
          .flatMap((s) => list(s.Action).map((a) => a.replace('dynamodb:', '')))
          .sort();
      expect(on('ObjectsTableArn'), route.operation).toEqual([...expected.objects].sort());
      expect(on('AuditTableArn'), route.operation).toEqual([...expected.audit].sort());
      // The entry's own actions are all there (the baseline adds the plane's reads).
      const own = ownPermissionsOf(route.operation)!;
      expect(on('ObjectsTableArn'), route.operation).toEqual(expect.arrayContaining([...own.objects]));
      // Its management writes land on control-plane records only; a pool's data plane reads and writes pools' records only.
      for (const statement of statements.filter((s) => ['ControlPlaneRecords', 'PoolRecordReads', 'PoolRecordWrites'].includes(s.Sid ?? ''))) {
        expect(Object.keys(statement.Condition ?? {}), route.operation).toEqual(['ForAllValues:StringLike']);
      }
      if (route.plane === 'managedHsm') {
        expect(
          statements.filter((s) => s.Effect === 'Allow' && s.Sid !== 'OwnLogs').every((s) => s.Condition),
          route.operation,
        ).toBe(true);
      }
      // No S3, no VPC, no statement that grants nothing; KMS only for a pool's data plane, on the backup key under a pool's contexts.
      const actions = statements.flatMap((s) => list(s.Action));
      expect(
        actions.filter((a) => !/^(dynamodb|logs|kms):/.test(a)),
        route.operation,
      ).toEqual([]);
      const kms = statements.filter((s) => list(s.Action).some((a) => a.startsWith('kms:')));
      expect(
        kms.map((s) => s.Sid),
        route.operation,
      ).toEqual([...(own.poolToken?.length ? ['PoolTokenSecrets'] : []), ...(own.poolObjects?.length ? ['PoolObjectSealing'] : [])]);
      for (const statement of kms) expect(statement.Resource, route.operation).toEqual(importOf('BackupKeyArn'));
      expect(
        statements.filter((s) => list(s.Action).length === 0),
        route.operation,
      ).toEqual([]);
    }
  });

  it('shares a role only between operations whose entries are identical', () => {
    const byRole = new Map<string, string[]>();
    for (const route of poolStackRoutes) {
      const role = referenced(lambda(pools, route)!.Properties!.Role)!;
      byRole.set(role, [...(byRole.get(role) ?? []), route.operation]);
    }
    for (const operations of byRole.values()) {
      const grants = operations.map((operation) => JSON.stringify(permissionsFor(operation)));
      expect(new Set(grants).size, operations.join(', ')).toBe(1);
    }
  });
});

describe("the pools' stack with CloudHSM (--cloudhsm)", () => {
  it('is off by default: no cluster, no VPC, no layer, no bucket', () => {
    expect(pools.Resources[CLUSTER]).toBeUndefined();
    expect(pools.Resources[BACKUP_BUCKET]).toBeUndefined();
    for (const route of poolStackRoutes) {
      const fn = lambda(pools, route)!.Properties!;
      expect(fn.VpcConfig, route.operation).toBeUndefined();
      expect(fn.Layers, route.operation).toBeUndefined();
    }
    expect(Object.keys(pools.Parameters ?? {}).filter((name) => /CloudHsm|Pkcs11|PoolBackup/.test(name))).toEqual([]);
  });

  it("creates the stage's cluster (kept when the stack goes) unless given an existing one, in the stage's subnets", () => {
    const cluster = withCloudHsm.Resources[CLUSTER]!;
    expect(cluster).toMatchObject({
      Type: 'AWS::CloudHSM::Cluster',
      Condition: 'CreatesCloudHsmCluster',
      DeletionPolicy: 'Retain',
      Properties: { HsmType: 'hsm2m.medium', Mode: 'FIPS', SubnetIds: { Ref: 'CloudHsmSubnetIds' } },
    });
    expect((withCloudHsm as { Conditions?: Record<string, unknown> }).Conditions?.CreatesCloudHsmCluster).toEqual({
      'Fn::Equals': [{ Ref: 'CloudHsmClusterId' }, 'create'],
    });
    for (const name of ['CloudHsmClusterId', 'CloudHsmSecurityGroupId', 'CloudHsmSubnetIds', 'Pkcs11LayerArn', 'PoolBackupPrefix']) {
      expect(withCloudHsm.Parameters?.[name]?.Type, name).toMatch(/^AWS::SSM::Parameter::Value</);
      expect(withCloudHsm.Parameters?.[name]?.Default, name).toMatch(new RegExp(`^/coffer/${STAGE}/cloudhsm/`));
    }
  });

  it("runs every pool function in the cluster's subnets and security group, with the PKCS#11 layer and the library's path", () => {
    const securityGroup = { 'Fn::If': ['CreatesCloudHsmCluster', { 'Fn::GetAtt': [CLUSTER, 'SecurityGroup'] }, { Ref: 'CloudHsmSecurityGroupId' }] };
    for (const route of poolStackRoutes) {
      const fn = lambda(withCloudHsm, route)!.Properties!;
      expect(fn.VpcConfig, route.operation).toEqual({ SecurityGroupIds: [securityGroup], SubnetIds: { Ref: 'CloudHsmSubnetIds' } });
      expect(fn.Layers, route.operation).toEqual([{ Ref: 'Pkcs11LayerArn' }]);
      expect(fn.Environment.Variables, route.operation).toMatchObject({
        COFFER_PKCS11_LIBRARY: CLOUDHSM_PKCS11_LIBRARY,
        // The crypto user's credentials are a SecureString the function reads: never in the template.
        COFFER_PKCS11_PIN_PARAMETER: `/coffer/${STAGE}/cloudhsm/crypto-user`,
        COFFER_PKCS11_TOKEN_LABEL: CLOUDHSM_TOKEN_LABEL,
        COFFER_POOL_BACKUP_BUCKET: { Ref: BACKUP_BUCKET },
      });
      const statements = statementsOf(withCloudHsm, route);
      expect(statements.find((s) => s.Sid === 'CryptoUserPin')).toEqual({
        Sid: 'CryptoUserPin',
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/coffer/${STAGE}/cloudhsm/crypto-user` },
      });
      // Lambda's network interfaces in the VPC: the only actions on "*", none of them DynamoDB, KMS or S3.
      const everywhere = statements.filter((s) => list(s.Resource).includes('*'));
      expect(everywhere.map((s) => s.Sid)).toEqual(['VpcNetworkInterfaces']);
      expect(list(everywhere[0]!.Action).every((a) => a.startsWith('ec2:'))).toBe(true);
    }
  });

  it('has the backup bucket encrypted under the backup key, versioned, closed to the public, TLS only, and kept', () => {
    const bucket = withCloudHsm.Resources[BACKUP_BUCKET]!;
    expect(bucket).toMatchObject({ Type: 'AWS::S3::Bucket', DeletionPolicy: 'Retain' });
    expect(bucket.Properties!.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: importOf('BackupKeyArn') }, BucketKeyEnabled: true },
    ]);
    expect(bucket.Properties!.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties!.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const [, policy] = resourcesOfType(withCloudHsm, 'AWS::S3::BucketPolicy').find(([, p]) => referenced(p.Properties?.Bucket) === BACKUP_BUCKET)!;
    expect(policy.Properties!.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
  });

  it('lets only the operations whose entry asks for the backups read or write them, under the prefix only', () => {
    // Only the roles of the rows whose entry asks for the backups (full backup and restore) touch the bucket, each with what it asks.
    const s3 = identityStatements(withCloudHsm).filter(({ statement }) => list(statement.Action).some((a) => a.startsWith('s3:')));
    const asking = managedHsmDataRoutes.filter((route) => (ownPermissionsOf(route.operation)?.poolBackups ?? []).length > 0);
    expect(asking.map((route) => route.operation).sort()).toEqual(
      ['HsmFullBackup', 'HsmFullRestore', 'HsmPreFullRestore', 'HsmSelectiveKeyRestore'].sort(),
    );
    const askedActions = (operation: string) => (ownPermissionsOf(operation)!.poolBackups ?? []).map((action) => `s3:${action}`).sort();
    const grantedActions = new Map<string, string[]>();
    for (const { owner, statement } of s3) grantedActions.set(owner, [...(grantedActions.get(owner) ?? []), ...list(statement.Action)].sort());
    // Operations with identical grants share a role (the full and the selective restore do): one role per distinct entry.
    const distinct = new Map(asking.map((route) => [JSON.stringify(permissionsFor(route.operation)), askedActions(route.operation)]));
    expect(grantedActions.size).toBe(distinct.size);
    expect([...grantedActions.values()].sort()).toEqual([...distinct.values()].sort());
    // A row that asks (the data plane's backup and restore, to come) gets exactly that, under the prefix.
    const backup = poolStackRoutes[0]!;
    const config = generatePoolStackConfig({
      artifactFor: (key) => `${key}.zip`,
      cloudHsm: true,
      table: [backup],
      permissionsOf: () => ({ poolBackups: ['PutObject', 'GetObject', 'ListBucket'] }),
    });
    const role = config.resources.Resources[config.functions[functionKey(backup)]!.role] as {
      Properties: { Policies: { PolicyDocument: { Statement: Statement[] } }[] };
    };
    const statements = role.Properties.Policies[0]!.PolicyDocument.Statement;
    expect(statements.find((s) => s.Sid === 'PoolBackupObjects')).toEqual({
      Sid: 'PoolBackupObjects',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:GetObject'],
      Resource: { 'Fn::Sub': `\${${BACKUP_BUCKET}.Arn}/\${PoolBackupPrefix}*` },
    });
    expect(statements.find((s) => s.Sid === 'PoolBackupListing')).toMatchObject({
      Action: 's3:ListBucket',
      Resource: { 'Fn::GetAtt': [BACKUP_BUCKET, 'Arn'] },
      Condition: { StringLike: { 's3:prefix': { 'Fn::Sub': '${PoolBackupPrefix}*' } } },
    });
    expect(statements.find((s) => s.Sid === 'PoolBackupEncryption')).toMatchObject({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: { 'Fn::ImportValue': 'coffer-${sls:stage}-BackupKeyArn' },
      Condition: { ArnLike: { 'kms:EncryptionContext:aws:s3:arn': { 'Fn::GetAtt': [BACKUP_BUCKET, 'Arn'] } } },
    });
  });
});

describe("the pools' stack: the sweep of deleted pools on a rate rule (docs/adr/0020)", () => {
  const sweep = () => pools.Resources[SWEEP_FUNCTION]!.Properties!;
  const sweepStatements = (template: Template) => statementsOfRole(template, referenced(template.Resources[SWEEP_FUNCTION]!.Properties!.Role)!);

  it('runs it as the main stack runs its scheduler: every minute, no retry, within the rate, logging to the operations log group', async () => {
    expect(POOL_SWEEP_RATE).toBe(main.Resources.RunScheduledWorkEventsRuleSchedule1!.Properties!.ScheduleExpression);
    expect(sweep()).toMatchObject({
      Handler: 'index.handler',
      Architectures: ['x86_64'],
      FunctionName: `${POOL_SERVICE}-${STAGE}-${poolSweep.key}`,
      Timeout: POOL_SWEEP_TIMEOUT_SECONDS,
      LoggingConfig: { LogGroup: importOf('OperationsLogGroup'), LogFormat: 'JSON', SystemLogLevel: 'WARN', ApplicationLogLevel: 'INFO' },
    });
    // A run ends before the next one starts.
    expect(POOL_SWEEP_TIMEOUT_SECONDS).toBeLessThan(60);
    expect(Object.keys(sweep().Environment.Variables).sort()).toEqual(Object.keys(deployedEnvironment()).sort());
    expect(sweep().Environment.Variables).toMatchObject({ COFFER_OBJECTS_TABLE: importOf('ObjectsTable'), COFFER_DEPLOYMENT: MAIN });
    const rules = resourcesOfType(pools, 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const [ruleId, rule] = rules[0]!;
    expect(rule.Properties).toMatchObject({
      ScheduleExpression: POOL_SWEEP_RATE,
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': [SWEEP_FUNCTION, 'Arn'] } }],
    });
    // EventBridge may invoke it for this rule only.
    const permissions = resourcesOfType(pools, 'AWS::Lambda::Permission');
    expect(permissions).toHaveLength(1);
    expect(permissions[0]![1].Properties).toEqual({
      FunctionName: { 'Fn::GetAtt': [SWEEP_FUNCTION, 'Arn'] },
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
    const retries = resourcesOfType(pools, 'AWS::Lambda::EventInvokeConfig').filter(
      ([, r]) => referenced(r.Properties!.FunctionName) === SWEEP_FUNCTION,
    );
    expect(retries.map(([, r]) => r.Properties!.MaximumRetryAttempts)).toEqual([0]);
    // Its bundle opens pool tokens (the purge wipes them): it ships the PKCS#11 addon, within the budget.
    const zip = unzipSync(new Uint8Array(await readFile(join(packaged!.out, 'pools', 'artifacts', `${poolSweep.key}.zip`))));
    expect(Object.keys(zip).sort()).toEqual(['index.mjs', ...NATIVE_ADDONS.pkcs11js!.map((file) => `node_modules/pkcs11js/${file}`)].sort());
    expect(zip['index.mjs']!.length).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
  });

  it("gives it a role of its own with exactly what the sweep calls: the due index, reads and removals of pools' records, the token's PINs", () => {
    const statements = sweepStatements(pools);
    const roleId = referenced(sweep().Role)!;
    expect(poolStackRoutes.map((route) => referenced(lambda(pools, route)!.Properties!.Role))).not.toContain(roleId);
    const objectsTable = importOf('ObjectsTableArn');
    expect(statements).toEqual([
      {
        Sid: 'OwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [{ 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${MAIN}-operations:*` }],
      },
      {
        Sid: 'PoolTokenSecrets',
        Effect: 'Allow',
        Action: poolSweepPermissions.poolToken.map((a) => `kms:${a}`),
        Resource: importOf('BackupKeyArn'),
        Condition: { StringEquals: { 'kms:EncryptionContext:coffer:purpose': 'pool-token' }, Null: { 'kms:EncryptionContext:coffer:pool': 'false' } },
      },
      {
        Sid: 'DueIndex',
        Effect: 'Allow',
        Action: ['dynamodb:Query'],
        Resource: { 'Fn::Sub': ['${MainObjectsTableArn}/index/dueIndex', { MainObjectsTableArn: objectsTable }] },
      },
      {
        Sid: 'PoolRecordReads',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Resource: objectsTable,
        Condition: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': [POOL_PARTITIONS.record, POOL_PARTITIONS.rbac, POOL_PARTITIONS.settings, POOL_PARTITIONS.jobs],
          },
        },
      },
      {
        Sid: 'PoolRemovals',
        Effect: 'Allow',
        Action: ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem'],
        Resource: objectsTable,
        Condition: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': [
              POOL_PARTITIONS.record,
              'MHSMSUB#*',
              POOL_PARTITIONS.rbac,
              POOL_PARTITIONS.settings,
              POOL_PARTITIONS.jobs,
              'HOST#*',
            ],
          },
        },
      },
    ]);
    // It writes no record (no PutItem, UpdateItem) and no audit item: its audit records go to its log stream.
    const actions = statements.flatMap((s) => list(s.Action));
    expect(actions.filter((a) => /dynamodb:(PutItem|UpdateItem|ConditionCheckItem)/.test(a))).toEqual([]);
    expect(statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(importOf('AuditTableArn')))).toEqual([]);
  });

  it("with CloudHSM runs in the cluster's VPC with the PKCS#11 layer and the crypto user's parameter, and reaches no backup", () => {
    const fn = withCloudHsm.Resources[SWEEP_FUNCTION]!.Properties!;
    const securityGroup = { 'Fn::If': ['CreatesCloudHsmCluster', { 'Fn::GetAtt': [CLUSTER, 'SecurityGroup'] }, { Ref: 'CloudHsmSecurityGroupId' }] };
    expect(fn.VpcConfig).toEqual({ SecurityGroupIds: [securityGroup], SubnetIds: { Ref: 'CloudHsmSubnetIds' } });
    expect(fn.Layers).toEqual([{ Ref: 'Pkcs11LayerArn' }]);
    expect(fn.Environment.Variables).toMatchObject({
      COFFER_PKCS11_LIBRARY: CLOUDHSM_PKCS11_LIBRARY,
      COFFER_PKCS11_PIN_PARAMETER: `/coffer/${STAGE}/cloudhsm/crypto-user`,
      COFFER_PKCS11_TOKEN_LABEL: CLOUDHSM_TOKEN_LABEL,
    });
    const statements = sweepStatements(withCloudHsm);
    expect(statements.map((s) => s.Sid)).toEqual([...sweepStatements(pools).map((s) => s.Sid), 'VpcNetworkInterfaces', 'CryptoUserPin']);
    expect(statements.flatMap((s) => list(s.Action)).filter((a) => a.startsWith('s3:'))).toEqual([]);
  });
});

describe("the pools' stack's generation", () => {
  it('refuses a row that is on no plane it attaches, and a route key the main stack has', () => {
    const vaultRow = routes.find((route) => route.plane === 'data')!;
    expect(() => generatePoolStackConfig({ artifactFor: (key) => key, table: [{ ...vaultRow, operation: 'GetManagedHsmThing' }] })).toThrow(
      /attaches data-plane rows to no API/,
    );
    const management = routes.find((route) => route.plane === 'management')!;
    expect(() =>
      generatePoolStackConfig({ artifactFor: (key) => key, table: [{ ...poolStackRoutes[0]!, path: management.path, method: management.method }] }),
    ).toThrow(/conflicts with/);
  });

  it('refuses a reference to the main stack that the main stack does not export', () => {
    expect(() => rebaseOnMainStack({ Ref: 'AlarmTopic' })).toThrow(/MAIN_STACK_EXPORTS/);
    expect(() => rebaseOnMainStack({ 'Fn::Sub': '${StorageKey.Arn}/x' })).toThrow(/StorageKey\.Arn/);
    expect(rebaseOnMainStack({ 'Fn::Sub': '${ObjectsTable.Arn}/index/*' })).toEqual({
      'Fn::Sub': ['${MainObjectsTableArn}/index/*', { MainObjectsTableArn: { 'Fn::ImportValue': 'coffer-${sls:stage}-ObjectsTableArn' } }],
    });
    expect(rebaseOnMainStack({ Ref: 'Mine' }, { local: new Set(['Mine']) })).toEqual({ Ref: 'Mine' });
  });
});

describe("the pools' data plane (plane managedHsm): an HTTP API of the pools' stack's own", () => {
  // Pool data-plane rows as they come (their paths are the vaults': one API could not route both), on
  // operations the permissions map knows, so the main stack's generator can give them roles.
  const dataRows = [
    { ...managedHsmDataRoutes.find((r) => r.operation === 'GetHsmKey')! },
    { ...managedHsmDataRoutes.find((r) => r.operation === 'GetHsmSettings')! },
  ] as Route[];
  const config = generatePoolStackConfig({ artifactFor: (key) => `${key}.zip`, table: [...managedHsmPoolRoutes.slice(2), ...dataRows] });
  const resources = config.resources.Resources as Record<string, { Type: string; Properties: Record<string, any>; DependsOn?: string }>;

  it("routes them on the pools' API, the management rows on the main API, never both", () => {
    expect(resources[POOL_API]).toMatchObject({
      Type: 'AWS::ApiGatewayV2::Api',
      Properties: { ProtocolType: 'HTTP', DisableExecuteApiEndpoint: true },
    });
    const keys = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r) => {
        expect(r.Properties.ApiId).toEqual({ Ref: POOL_API });
        const integration = resources[r.Properties.Target['Fn::Join'][1][1].Ref]!;
        return `${r.Properties.RouteKey} -> ${referenced(integration.Properties.IntegrationUri)}`;
      });
    const expected = dataRows.flatMap((route) => apiPaths(route).map((path) => `${route.method} ${path} -> ${functionKey(route)}LambdaFunction`));
    expect(keys.sort()).toEqual([...expected, `$default -> ${DEFAULT_FUNCTION}`].sort());
    for (const route of dataRows) expect(config.functions[functionKey(route)]!.events, route.operation).toEqual([]);
    for (const route of managedHsmPoolRoutes.slice(2))
      expect(config.functions[functionKey(route)]!.events.length, route.operation).toBeGreaterThan(0);
  });

  it('answers on *.managedhsm.<vault domain> with its own certificate, throttled like the main stage', () => {
    const domain = Object.entries(resources).find(([, r]) => r.Type === 'AWS::ApiGatewayV2::DomainName')!;
    expect(domain[1].Properties.DomainName).toEqual({ 'Fn::Sub': '*.managedhsm.${VaultDomain}' });
    expect(domain[1].Properties.DomainNameConfigurations[0].CertificateArn).toEqual({ Ref: 'ManagedHsmCertificateArn' });
    expect(config.resources.Parameters.ManagedHsmCertificateArn).toMatchObject({
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: '/coffer/${sls:stage}/managedhsm-certificate-arn',
    });
    const mapping = Object.values(resources).find((r) => r.Type === 'AWS::ApiGatewayV2::ApiMapping')!;
    expect(mapping.Properties).toEqual({ ApiId: { Ref: POOL_API }, DomainName: { Ref: domain[0] }, Stage: '$default' });
    const stage = Object.values(resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Stage')!;
    expect(stage.Properties.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: '${param:throttleRatePerSecond}',
      ThrottlingBurstLimit: '${param:throttleBurst}',
    });
  });

  it('has API Gateway invoke them through the invoke role, assumable for both APIs and no other', () => {
    // The functions serverless compiles from the config, beside the generated resources.
    const compiled = Object.fromEntries(
      Object.keys(config.functions).map((key) => [`${key}LambdaFunction`, { Type: 'AWS::Lambda::Function', Properties: {} }]),
    );
    const finished = finishPoolTemplate(apiInvokeRole({ ...resources, ...compiled }), STAGE) as typeof resources;
    expect(Object.values(finished).filter((r) => r.Type === 'AWS::Lambda::Permission')).toEqual([]);
    for (const r of Object.values(finished).filter((r) => r.Type === 'AWS::ApiGatewayV2::Integration')) {
      expect(r.Properties.CredentialsArn).toEqual({ 'Fn::GetAtt': [API_INVOKE_ROLE, 'Arn'] });
    }
    // Without serverless's main-API integrations here, only the pools' API may have it assumed.
    expect(finished[API_INVOKE_ROLE]!.Properties.AssumeRolePolicyDocument.Statement[0].Condition.ArnLike['aws:SourceArn']).toEqual({
      'Fn::Sub': `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${${POOL_API}}/*`,
    });
    const invoked = finished[API_INVOKE_ROLE]!.Properties.Policies[0].PolicyDocument.Statement[0].Resource.map(referenced).sort();
    expect(invoked).toEqual([...dataRows.map((route) => `${functionKey(route)}LambdaFunction`), DEFAULT_FUNCTION].sort());
  });

  it('refuses two data-plane route keys API Gateway could not tell apart', () => {
    expect(() =>
      generatePoolStackConfig({ artifactFor: (key) => key, table: [dataRows[1]!, { ...dataRows[1]!, operation: 'GetManagedHsm' }] }),
    ).toThrow(/conflicts with/);
  });
});

describe('a pool function that imports pkcs11js', () => {
  it("ships the addon's package beside its bundle, where Node loads it from the unzipped function", async () => {
    const out = await mkdtemp(join(tmpdir(), 'coffer-addon-'));
    try {
      // A function whose code path is the PKCS#11 adapter's, bundled as the pools' functions are.
      const route = { ...poolStackRoutes[0]!, operation: 'Pkcs11Probe', handler: '../lib/pkcs11/pkcs11-hsm-keys' } as Route;
      const [bundled] = await bundleFunctions([route], out, [], { unmatched: false, nativeAddons: true });
      const zip = unzipSync(new Uint8Array(await readFile(bundled!.artifact)));
      expect(Object.keys(zip).sort()).toEqual(['index.mjs', ...NATIVE_ADDONS.pkcs11js!.map((file) => `node_modules/pkcs11js/${file}`)].sort());
      // The bundle leaves pkcs11js to Node rather than inlining its loader of the .node file.
      expect(new TextDecoder().decode(zip['index.mjs'])).toMatch(/from"pkcs11js"|require\("pkcs11js"\)/);
      // As Lambda runs it: unzipped into a directory of its own, a fresh Node, no project around it.
      const task = join(out, 'task');
      for (const [path, bytes] of Object.entries(zip)) {
        await mkdir(dirname(join(task, path)), { recursive: true });
        await writeFile(join(task, path), bytes);
      }
      const probe = "const m = await import('./index.mjs'); process.stdout.write(typeof m.Pkcs11PoolHsm);";
      const { stdout } = await runFile(process.execPath, ['--input-type=module', '-e', probe], { cwd: task, env: { PATH: process.env.PATH ?? '' } });
      expect(stdout).toBe('function');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
