import { readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Route, routes } from '../../lib/http/routes.ts';
import { objectsTable, tables } from '../../lib/aws/tables.ts';
import { AUDIT_LOG_FILTER_PATTERN } from '../../lib/audit/log-stream.ts';
import {
  auditDelivery,
  EVENT_PUBLISH_FAILURES,
  eventFunctions,
  MAX_RECORD_AGE_SECONDS,
  publishEvents,
  runScheduledWork,
  STREAM_BATCH_SIZE,
  STREAM_RETRY_ATTEMPTS,
  VAULT_RECORD_PARTITIONS,
} from '../../infra/event-functions.ts';
import {
  CONTROL_PLANE_PARTITIONS,
  DUE_ITEM_PARTITIONS,
  eventPermissions,
  OBJECTS_READ_ACTIONS,
  permissionsFor,
  SCHEDULE_SOURCE_PARTITIONS,
} from '../../infra/permissions.ts';
import {
  API_INVOKE_ROLE,
  apiPaths,
  deployedEnvironment,
  functionKey,
  OPERATIONS_LOG_GROUP,
  unmatchedRequests,
} from '../../infra/serverless-config.ts';
import { BUNDLE_BUDGET_BYTES, bundleBudgetOf, projectRoot } from '../../scripts/bundle.ts';
import { functionOfRoute, identityStatements, list, referenced, resourcesOfType, type Statement, type Template } from './template.ts';
import { type PackagedStack, packageStack, runFile } from './packaging.ts';

/**
 * Runs `npm run package`'s script once, offline and without AWS credentials, and checks the
 * CloudFormation template it produced: what the stack would be if deployed now.
 */
/** The statements of the event-subscription grants (infra/serverless-config.ts), checked in test/deploy/event-subscriptions.test.ts. */
const SUBSCRIPTION_SIDS = [
  'SubscriptionRules',
  'SubscriptionDestinations',
  'SubscriptionConnectionSecrets',
  'SubscriptionTargets',
  'PassDeliveryRole',
];

const run = runFile;
const STAGE = 'test';
let out: string;
let template: Template;

let packaged: PackagedStack | undefined;

beforeAll(async () => {
  // Whatever credentials the machine has must not be needed.
  packaged = await packageStack('main', STAGE);
  ({ out, template } = packaged);
}, 180_000);

afterAll(async () => {
  await packaged?.remove();
});

const lambda = (route: Route) => template.Resources[`${functionKey(route)}LambdaFunction`];

describe('functions and routes follow the route table', () => {
  it('gives every operation its own function on Node 24 arm64, running its handler bundle', async () => {
    for (const route of routes) {
      const fn = lambda(route);
      expect(fn, route.operation).toBeDefined();
      expect(fn!.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
      const zip = unzipSync(new Uint8Array(await readFile(join(out, 'artifacts', `${functionKey(route)}.zip`))));
      expect(Object.keys(zip)).toEqual(['index.mjs']);
    }
    // And the functions no route reaches and the $default route's, checked below.
    expect(resourcesOfType(template, 'AWS::Lambda::Function')).toHaveLength(routes.length + eventFunctions.length + 1);
  });

  it('routes every method and path of the table, and only those, to its operation function', () => {
    const expected = routes.flatMap((route) => apiPaths(route).map((path) => `${route.method} ${path} -> ${functionKey(route)}LambdaFunction`));
    // And what none of them matches, to the function that routes it by the table or refuses it (below).
    expected.push(`$default -> ${unmatchedRequests.key}LambdaFunction`);
    const actual = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(
      ([, route]) => `${route.Properties!.RouteKey} -> ${functionOfRoute(template, route)}`,
    );
    expect(actual.sort()).toEqual(expected.sort());
  });

  it('reaches an optional-tail operation with the tail present, absent, or empty after a trailing slash', () => {
    const keys = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties!.RouteKey as string);
    const getSecret = routes.find((r) => r.operation === 'GetSecret')!;
    expect(getSecret.optionalTail).toBe(true);
    expect(keys).toContain('GET /secrets/{name}');
    // The greedy variable takes `/secrets/x/<version>` and the empty remainder of `/secrets/x/`.
    expect(keys).toContain('GET /secrets/{name}/{version+}');
    // The literal sibling stays its own route, which API Gateway prefers over the greedy one.
    expect(keys).toContain('GET /secrets/{name}/versions');
  });

  it('configures every function with what lib/runtime/config.ts requires, from the stack and not from literals', () => {
    for (const route of routes) {
      const variables = lambda(route)!.Properties!.Environment.Variables as Record<string, unknown>;
      expect(referenced(variables.COFFER_OBJECTS_TABLE)).toBe('ObjectsTable');
      expect(referenced(variables.COFFER_AUDIT_TABLE)).toBe('AuditTable');
      expect(referenced(variables.COFFER_VAULT_DOMAIN)).toBe('VaultDomain');
      expect(referenced(variables.COFFER_TRUSTED_ISSUERS)).toBe('TrustedIssuers');
      expect(referenced(variables.COFFER_BACKUP_KEY_ID)).toBe('BackupKey');
      expect(referenced(variables.COFFER_REGION)).toBe('AWS::Region');
      expect(Number(variables.COFFER_AUDIT_RETENTION_DAYS)).toBeGreaterThan(0);
    }
  });

  it('gives every function the variables of lib/runtime/environment.ts, the ones the local stack gives, and no others', () => {
    const expected = deployedEnvironment();
    for (const route of routes) {
      const variables = lambda(route)!.Properties!.Environment.Variables as Record<string, unknown>;
      expect(Object.keys(variables).sort(), route.operation).toEqual(Object.keys(expected).sort());
      for (const [name, value] of Object.entries(expected)) {
        // serverless resolves its own `${param:...}` variables; everything else reaches the template as generated.
        if (typeof value === 'string' && value.startsWith('${')) continue;
        expect(variables[name], `${route.operation} ${name}`).toEqual(value);
      }
    }
  });

  it('takes the deployment-specific values from SSM parameters named after the stage', () => {
    for (const name of ['VaultDomain', 'CertificateArn', 'HostedZoneId', 'TrustedIssuers', 'Subscriptions', 'TenantAdministrators']) {
      expect(template.Parameters?.[name]).toMatchObject({ Type: 'AWS::SSM::Parameter::Value<String>' });
      expect(template.Parameters?.[name]?.Default).toMatch(new RegExp(`^/coffer/${STAGE}/`));
    }
  });

  it('serves vaults on a wildcard custom domain, the management plane on its own, and disables the execute-api endpoint', () => {
    const domains = resourcesOfType(template, 'AWS::ApiGatewayV2::DomainName');
    expect(domains.map(([, d]) => d.Properties?.DomainName)).toEqual([{ 'Fn::Sub': '*.${VaultDomain}' }, { 'Fn::Sub': 'management.${VaultDomain}' }]);
    // Both with the one certificate (the wildcard covers management.<domain>), both mapped to the one API.
    for (const [, domain] of domains) expect(referenced(domain.Properties!.DomainNameConfigurations[0].CertificateArn)).toBe('CertificateArn');
    const mappings = resourcesOfType(template, 'AWS::ApiGatewayV2::ApiMapping').map(([, m]) => m.Properties!);
    expect(mappings.map((m) => referenced(m.DomainName)).sort()).toEqual(domains.map(([id]) => id).sort());
    for (const mapping of mappings) expect(referenced(mapping.ApiId)).toBe('HttpApi');
    // The management audience is the management host's URL.
    expect(deployedEnvironment().COFFER_MANAGEMENT_AUDIENCE).toEqual({ 'Fn::Sub': 'https://management.${VaultDomain}' });
    const apis = resourcesOfType(template, 'AWS::ApiGatewayV2::Api');
    expect(apis.map(([, a]) => a.Properties?.DisableExecuteApiEndpoint)).toEqual([true]);
  });
});

describe('the audit delivery', () => {
  const delivery = () => template.Resources[`${auditDelivery.key}LambdaFunction`];
  const deliveryRole = () => referenced(delivery()!.Properties!.Role)!;

  it('is a function of its own, configured like the others, with its bundle', async () => {
    expect(delivery()!.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
    const variables = delivery()!.Properties!.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(variables).sort()).toEqual(Object.keys(deployedEnvironment()).sort());
    expect(referenced(variables.COFFER_AUDIT_TABLE)).toBe('AuditTable');
    const zip = unzipSync(new Uint8Array(await readFile(join(out, 'artifacts', `${auditDelivery.key}.zip`))));
    expect(Object.keys(zip)).toEqual(['index.mjs']);
    // As Lambda loads it: a fresh Node, no configuration.
    const probe = 'const m = await import(process.argv[1]); process.stdout.write(typeof m.handler);';
    const bundle = pathToFileURL(join(out, 'bundles', auditDelivery.key, 'index.mjs')).href;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe, bundle], { env: { PATH: process.env.PATH ?? '' } });
    expect(stdout).toBe('function');
  });

  it("is subscribed to the operations' log group with the audit filter, and CloudWatch Logs of this stack may invoke it", () => {
    const filters = resourcesOfType(template, 'AWS::Logs::SubscriptionFilter').map(([, f]) => f.Properties!);
    expect(filters.map((f) => referenced(f.LogGroupName))).toEqual([OPERATIONS_LOG_GROUP]);
    // Every operation logs there, and has no log group of its own.
    for (const route of routes) {
      expect(referenced(lambda(route)!.Properties!.LoggingConfig?.LogGroup), route.operation).toBe(OPERATIONS_LOG_GROUP);
      // JSON at system level WARN: no START/END/REPORT lines; application lines (the audit line among them) at INFO pass.
      expect(lambda(route)!.Properties!.LoggingConfig, route.operation).toMatchObject({
        LogFormat: 'JSON',
        SystemLogLevel: 'WARN',
        ApplicationLogLevel: 'INFO',
      });
      expect(template.Resources[`${functionKey(route)}LogGroup`], route.operation).toBeUndefined();
    }
    for (const filter of filters) {
      expect(filter.FilterPattern).toBe(AUDIT_LOG_FILTER_PATTERN);
      expect(referenced(filter.DestinationArn)).toBe(`${auditDelivery.key}LambdaFunction`);
    }
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission')
      .map(([, p]) => p.Properties!)
      .filter((p) => referenced(p.FunctionName) === `${auditDelivery.key}LambdaFunction`);
    expect(permissions).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [`${auditDelivery.key}LambdaFunction`, 'Arn'] },
        Principal: 'logs.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
        SourceArn: { 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/${AWS::StackName}-*:*' },
      },
    ]);
  });

  it('is retried by Lambda and sets aside, never drops, a batch that keeps failing', () => {
    const [[, config] = ['', undefined]] = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').filter(
      ([, c]) => referenced(c.Properties?.FunctionName) === `${auditDelivery.key}LambdaFunction`,
    );
    expect(config?.Properties).toMatchObject({ MaximumRetryAttempts: 2, Qualifier: '$LATEST' });
    expect(referenced(config?.Properties?.DestinationConfig?.OnFailure?.Destination)).toBe('AuditDeliveryFailures');
    expect(template.Resources.AuditDeliveryFailures?.Type).toBe('AWS::SQS::Queue');
    const watched = resourcesOfType(template, 'AWS::CloudWatch::Alarm').filter(([, a]) =>
      (a.Properties!.Dimensions as { Value: unknown }[] | undefined)?.some((d) => JSON.stringify(d.Value).includes('AuditDeliveryFailures')),
    );
    expect(watched).toHaveLength(1);
  });

  it('may write audit records in batches, send what failed for good to its queue and write its own logs: nothing else', () => {
    const statements = identityStatements(template).filter((s) => s.owner === deliveryRole());
    expect(statements.every((s) => s.statement.Effect === 'Allow')).toBe(true);
    const granted = statements.flatMap(({ statement }) =>
      list(statement.Action).map((action) => `${action} on ${referenced(statement.Resource) ?? JSON.stringify(statement.Resource)}`),
    );
    const ownLogs = JSON.stringify([
      { 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/\${AWS::StackName}-${auditDelivery.key}:*` },
    ]);
    expect(granted.sort()).toEqual(
      [
        ...eventPermissions[auditDelivery.key].audit.map((a) => `dynamodb:${a} on AuditTable`),
        'sqs:SendMessage on AuditDeliveryFailures',
        `logs:CreateLogStream on ${ownLogs}`,
        `logs:PutLogEvents on ${ownLogs}`,
      ].sort(),
    );
    // No operation shares it.
    for (const route of routes) expect(referenced(lambda(route)!.Properties!.Role), route.operation).not.toBe(deliveryRole());
  });
});

describe('the event publisher', () => {
  const publisher = () => template.Resources[`${publishEvents.key}LambdaFunction`];
  const publisherRole = () => referenced(publisher()!.Properties!.Role)!;
  const objectsStream = { 'Fn::GetAtt': [objectsTable.logicalName, 'StreamArn'] };

  it('is a function of its own, configured like the others and with the bus, with a small bundle that loads', async () => {
    expect(publisher()!.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', Timeout: 60 });
    const variables = publisher()!.Properties!.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(variables).sort()).toEqual(Object.keys(deployedEnvironment()).sort());
    // The bus's Ref is its name, which is what PutEvents takes (every function is told it; only this one may publish).
    expect(variables.COFFER_EVENT_BUS).toEqual({ Ref: 'EventBus' });
    expect(template.Resources.EventBus?.Type).toBe('AWS::Events::EventBus');
    const bundle = join(out, 'bundles', publishEvents.key, 'index.mjs');
    expect((await stat(bundle)).size).toBeLessThan(BUNDLE_BUDGET_BYTES / 2);
    const metafile = JSON.parse(await readFile(join(out, 'bundles', 'metafile.json'), 'utf8')) as { outputs: Record<string, { inputs: object }> };
    const inputs = Object.keys(metafile.outputs[`${relative(projectRoot, bundle)}`]?.inputs ?? {});
    expect(inputs).toContain('lib/runtime/events.ts');
    // Nothing of the request pipeline, the vault domains' crypto or KMS.
    expect(
      inputs.filter((input) =>
        /^lib\/(http|secrets|keys|certificates|crypto)\/|^lib\/aws\/(api\/)?kms|node_modules\/(@middy|jose|pkijs|asn1js)\//.test(input),
      ),
    ).toEqual([]);
    const probe = 'const m = await import(process.argv[1]); process.stdout.write(typeof m.handler);';
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe, pathToFileURL(bundle).href], {
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(stdout).toBe('function');
  });

  it("reads the objects table's stream in batches, retried from the first failed record, halved, and set aside to its queue", () => {
    const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    const [[, mapping] = ['', undefined]] = mappings;
    expect(mapping?.Properties).toEqual({
      BatchSize: STREAM_BATCH_SIZE,
      Enabled: true,
      EventSourceArn: objectsStream,
      FunctionName: { 'Fn::GetAtt': [`${publishEvents.key}LambdaFunction`, 'Arn'] },
      StartingPosition: 'TRIM_HORIZON',
      MaximumRetryAttempts: STREAM_RETRY_ATTEMPTS,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRecordAgeInSeconds: MAX_RECORD_AGE_SECONDS,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [EVENT_PUBLISH_FAILURES, 'Arn'] } } },
    });
    expect([STREAM_BATCH_SIZE, STREAM_RETRY_ATTEMPTS]).toEqual([100, 10]);
    // Set aside well before the stream's 24 hours drop a record, so the redrive can still read it.
    expect(MAX_RECORD_AGE_SECONDS).toBeLessThanOrEqual(12 * 3600);
    expect(template.Resources[EVENT_PUBLISH_FAILURES]?.Type).toBe('AWS::SQS::Queue');
    // Retries are the stream's: the function has no asynchronous invoke config of its own.
    const invokeConfigs = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').filter(
      ([, c]) => referenced(c.Properties?.FunctionName) === `${publishEvents.key}LambdaFunction`,
    );
    expect(invokeConfigs).toEqual([]);
  });

  it('alarms when records wait in its failures queue, and when publishing lags', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!);
    const onQueue = alarms.filter((a) =>
      (a.Dimensions as { Value: unknown }[] | undefined)?.some((d) => referenced(d.Value) === EVENT_PUBLISH_FAILURES),
    );
    expect(onQueue).toHaveLength(1);
    expect(onQueue[0]).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(list(onQueue[0]!.AlarmActions).map(referenced)).toEqual(['AlarmTopic']);
    const lag = alarms.filter((a) =>
      (a.Dimensions as { Value: unknown }[] | undefined)?.some((d) => referenced(d.Value) === `${publishEvents.key}LambdaFunction`),
    );
    expect(lag.map((a) => a.MetricName)).toEqual(['IteratorAge']);
  });

  it('may read its stream and vault records, publish on the bus, keep due items, set records aside and write its own logs: nothing else', () => {
    const all = identityStatements(template).filter((s) => s.owner === publisherRole());
    // One Deny: no write of a due item may land on a control-plane record (a vault named `schedule`).
    const denies = all.filter((s) => s.statement.Effect === 'Deny').map((s) => s.statement);
    expect(denies).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [...CONTROL_PLANE_PARTITIONS] } },
      }),
    ]);
    const statements = all.filter((s) => s.statement.Effect === 'Allow');
    const granted = statements.flatMap(({ statement }) =>
      list(statement.Action).map((action) => `${action} on ${JSON.stringify(statement.Resource)}`),
    );
    const on = (resource: unknown) => JSON.stringify(resource);
    const ownLogs = on([
      { 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/\${AWS::StackName}-${publishEvents.key}:*` },
    ]);
    const table = on({ 'Fn::GetAtt': [objectsTable.logicalName, 'Arn'] });
    expect(granted.sort()).toEqual(
      [
        ...['DescribeStream', 'GetRecords', 'GetShardIterator', 'ListStreams'].map((a) => `dynamodb:${a} on ${on(objectsStream)}`),
        `dynamodb:GetItem on ${table}`,
        `dynamodb:GetItem on ${table}`,
        `dynamodb:Query on ${table}`,
        `dynamodb:PutItem on ${table}`,
        `dynamodb:DeleteItem on ${table}`,
        `events:PutEvents on ${on({ 'Fn::GetAtt': ['EventBus', 'Arn'] })}`,
        `sqs:SendMessage on ${on({ 'Fn::GetAtt': [EVENT_PUBLISH_FAILURES, 'Arn'] })}`,
        `logs:CreateLogStream on ${ownLogs}`,
        `logs:PutLogEvents on ${ownLogs}`,
      ].sort(),
    );
    const permitted = eventPermissions[publishEvents.key];
    expect(granted.map((g) => g.split(' on ')[0]).sort()).toEqual(
      [
        ...permitted.objectsStream.map((a) => `dynamodb:${a}`),
        ...permitted.vaultRecords.map((a) => `dynamodb:${a}`),
        ...permitted.scheduleSources.map((a) => `dynamodb:${a}`),
        ...permitted.dueItems.map((a) => `dynamodb:${a}`),
        ...permitted.eventBus.map((a) => `events:${a}`),
        'sqs:SendMessage',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ].sort(),
    );
    // Of the table: vault records, the partitions the schedule is derived from, and due items.
    const onTable = statements.map((s) => s.statement).filter((s) => on(s.Resource) === table);
    expect(onTable.map((s) => s.Condition)).toEqual([
      { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['VAULT#*'] } },
      { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...SCHEDULE_SOURCE_PARTITIONS] } },
      { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...DUE_ITEM_PARTITIONS] } },
    ]);
    expect([...VAULT_RECORD_PARTITIONS]).toEqual(['VAULT#*']);
    // No operation shares it; only the scheduler also publishes (its expiry events), and no other role reads the stream.
    for (const route of routes) expect(referenced(lambda(route)!.Properties!.Role), route.operation).not.toBe(publisherRole());
    const elsewhere = identityStatements(template).filter(
      (s) =>
        s.owner !== publisherRole() &&
        !(s.owner === `${runScheduledWork.key}Role` && s.statement.Sid === 'EventBus') &&
        // Event subscriptions' rules and destinations, and EventBridge's delivery role (test/deploy/event-subscriptions.test.ts).
        !SUBSCRIPTION_SIDS.includes(s.statement.Sid ?? '') &&
        s.owner !== 'EventDeliveryRole' &&
        list(s.statement.Action).some((a) => a.startsWith('events:') || a === 'dynamodb:GetRecords'),
    );
    expect(elsewhere).toEqual([]);
  });
});

describe("API Gateway's $default route", () => {
  const fn = () => template.Resources[`${unmatchedRequests.key}LambdaFunction`]!;

  it('reaches the function that routes by the route table what no route key matched, logging (and auditing) with the operations', () => {
    const routesOfDefault = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties?.RouteKey === '$default');
    expect(routesOfDefault).toHaveLength(1);
    expect(functionOfRoute(template, routesOfDefault[0]![1])).toBe(`${unmatchedRequests.key}LambdaFunction`);
    expect(referenced(fn().Properties!.LoggingConfig?.LogGroup)).toBe(OPERATIONS_LOG_GROUP);
    // It waits for the operation it forwards to: longer than an operation may run.
    expect(fn().Properties!.Timeout).toBeGreaterThan(10);
    const variables = fn().Properties!.Environment.Variables as Record<string, unknown>;
    expect(variables.COFFER_DEPLOYMENT).toEqual({ Ref: 'AWS::StackName' });
  });

  it('may invoke exactly the operation functions of this stage, read vault records and write strict audit records: nothing else', () => {
    const role = referenced(fn().Properties!.Role)!;
    const statements = identityStatements(template)
      .filter((s) => s.owner === role)
      .map((s) => s.statement);
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(Object.keys(bySid).sort()).toEqual(['AuditRecords', 'InvokeOperations', 'OwnLogs', 'VaultObjects']);
    expect(bySid.VaultObjects).toMatchObject({ Effect: 'Allow', Action: ['dynamodb:GetItem'] });
    expect(referenced(bySid.VaultObjects!.Resource)).toBe('ObjectsTable');
    expect(bySid.AuditRecords).toMatchObject({ Effect: 'Allow', Action: ['dynamodb:PutItem'] });
    expect(bySid.InvokeOperations).toMatchObject({ Effect: 'Allow', Action: 'lambda:InvokeFunction' });
    const invoked = list(bySid.InvokeOperations!.Resource as unknown[])
      .map(referenced)
      .sort();
    expect(invoked).toEqual(routes.map((route) => `${functionKey(route)}LambdaFunction`).sort());
  });
});

describe('throttling (docs/adr/0016-throttling-and-limits.md)', () => {
  const stage = () => template.Resources.HttpApiStage!;

  it("caps the whole stage, as a deployment's spending ceiling above what the documented per-vault limits send", () => {
    expect(stage().Properties!.DefaultRouteSettings).toEqual({ DetailedMetricsEnabled: false, ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 });
  });

  it('gives what no route key matched a tenth of the stage, set once its route exists', () => {
    const defaults = stage().Properties!.DefaultRouteSettings;
    const unmatched = stage().Properties!.RouteSettings?.$default;
    expect(unmatched).toEqual({ DetailedMetricsEnabled: false, ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
    expect(unmatched.ThrottlingRateLimit).toBeLessThanOrEqual(defaults.ThrottlingRateLimit / 10);
    expect(unmatched.ThrottlingBurstLimit).toBeLessThanOrEqual(defaults.ThrottlingBurstLimit / 10);
    // Only the $default route has settings of its own: an operation's route throttled by API Gateway
    // would answer its bare 429, which the Azure SDKs do not retry.
    expect(Object.keys(stage().Properties!.RouteSettings)).toEqual(['$default']);
    expect(list(stage().DependsOn)).toContain('HttpApiRouteDefault');
    expect(template.Resources.HttpApiRouteDefault?.Properties?.RouteKey).toBe('$default');
  });

  it("reserves concurrency for the $default function only, so requests no route matched cannot take the operations' share", () => {
    expect(template.Resources[`${unmatchedRequests.key}LambdaFunction`]!.Properties!.ReservedConcurrentExecutions).toBe(20);
    for (const route of routes) expect(lambda(route)!.Properties!.ReservedConcurrentExecutions, route.operation).toBeUndefined();
  });
});

describe('stack limits', () => {
  it('stays within CloudFormation’s 500 resources per stack', () => {
    const count = Object.keys(template.Resources).length;
    expect(count).toBeLessThanOrEqual(500);
  });

  it('leaves room for 40 more resources (the event, scheduler and rotator functions coming)', () => {
    expect(Object.keys(template.Resources).length).toBeLessThanOrEqual(460);
  });

  it('has API Gateway invoke the operations through one role, not a resource policy statement per function', () => {
    const gatewayPermissions = resourcesOfType(template, 'AWS::Lambda::Permission').filter(
      ([, p]) => p.Properties?.Principal === 'apigateway.amazonaws.com',
    );
    expect(gatewayPermissions).toEqual([]);
    const integrations = resourcesOfType(template, 'AWS::ApiGatewayV2::Integration');
    expect(integrations.length).toBeGreaterThanOrEqual(routes.length);
    for (const [id, integration] of integrations)
      expect(integration.Properties?.CredentialsArn, id).toEqual({ 'Fn::GetAtt': [API_INVOKE_ROLE, 'Arn'] });
    const role = template.Resources[API_INVOKE_ROLE]!;
    expect(role.Type).toBe('AWS::IAM::Role');
    // Only API Gateway, only for this stack's API in this account, may assume it.
    expect(role.Properties!.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'apigateway.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*' } },
        },
      },
    ]);
    // It may invoke exactly the functions the routes integrate, nothing else.
    const statements = identityStatements(template).filter((s) => s.owner === API_INVOKE_ROLE);
    expect(statements).toHaveLength(1);
    const statement = statements[0]!.statement;
    expect(statement).toMatchObject({ Effect: 'Allow', Action: 'lambda:InvokeFunction' });
    const invoked = list(statement.Resource as unknown[])
      .map(referenced)
      .sort();
    const integrated = [...new Set(integrations.map(([, i]) => referenced(i.Properties?.IntegrationUri)))].sort();
    expect(invoked).toEqual(integrated);
    expect(integrated).toEqual(expect.arrayContaining(routes.map((route) => `${functionKey(route)}LambdaFunction`)));
  });
});

describe('least privilege', () => {
  const serviceWide = /^(\*|dynamodb:\*|kms:\*)$/i;
  /**
   * KMS actions for which IAM defines no resource, so a grant can only name "*": creating a key
   * (bound instead by the tags and key spec the request must carry) and generating random bytes.
   */
  const resourceless = new Set(['kms:CreateKey', 'kms:GenerateRandom']);

  it('never grants a * action, nor a * resource on DynamoDB or KMS beyond the actions that have no resource', () => {
    const statements = identityStatements(template);
    expect(statements.length).toBeGreaterThan(0);
    for (const { owner, statement } of statements) {
      const where = `${owner} ${statement.Sid}`;
      const actions = list(statement.Action);
      expect(
        actions.filter((a) => serviceWide.test(a)),
        where,
      ).toEqual([]);
      if (statement.Effect !== 'Allow' || !actions.some((a) => /^(dynamodb|kms):/i.test(a))) continue;
      for (const resource of list(statement.Resource)) {
        if (resource === '*') {
          expect(
            actions.filter((a) => !resourceless.has(a)),
            where,
          ).toEqual([]);
          if (actions.includes('kms:CreateKey')) {
            expect(statement.Condition?.StringEquals?.['aws:RequestTag/coffer:deployment'], where).toEqual({ 'Fn::Sub': '${AWS::StackName}' });
          }
        } else if (typeof resource === 'string') {
          expect(resource, where).not.toMatch(/(^|:)\*$/);
        }
      }
    }
  });

  it('gives each function exactly the DynamoDB and KMS actions its operation needs', () => {
    for (const route of routes) {
      const roleId = referenced(lambda(route)!.Properties!.Role)!;
      const statements = identityStatements(template)
        .filter((s) => s.owner === roleId && s.statement.Effect === 'Allow')
        .map((s) => s.statement);
      const on = (target: (s: Statement) => boolean, prefix: string) =>
        statements
          .filter(target)
          .flatMap((s) => list(s.Action).map((a) => a.replace(prefix, '')))
          .sort();
      const bySid = (sid: string) => (s: Statement) => s.Sid === sid;
      const expected = permissionsFor(route.operation);
      const where = route.operation;
      expect(
        on((s) => referenced(s.Resource) === 'ObjectsTable', 'dynamodb:'),
        where,
      ).toEqual([...expected.objects].sort());
      expect(
        on((s) => referenced(s.Resource) === 'AuditTable', 'dynamodb:'),
        where,
      ).toEqual([...expected.audit].sort());
      expect(
        on((s) => referenced(s.Resource) === 'BackupKey', 'kms:'),
        where,
      ).toEqual([...expected.backupKey].sort());
      expect(
        on((s) => s.Sid?.startsWith('VaultKey') === true, 'kms:'),
        where,
      ).toEqual([...expected.vaultKey].sort());
      expect(on(bySid('HsmKeys'), 'kms:'), where).toEqual([...expected.hsmKeys].sort());
      const create = statements.find(bySid('CreateHsmKeys'));
      expect(list(create?.Condition?.StringEquals?.['kms:KeyOrigin'] as string[] | undefined).sort(), where).toEqual(
        [...expected.createsHsmKeys].sort(),
      );
      expect(statements.some(bySid('TagNewHsmKeys')), where).toBe(expected.createsHsmKeys.length > 0);
      expect(statements.some(bySid('RandomBytes')), where).toBe(expected.randomBytes);
      // IAM refuses a statement that names no action as a malformed policy.
      expect(
        statements.filter((s) => Array.isArray(s.Action) && s.Action.length === 0).map((s) => s.Sid),
        where,
      ).toEqual([]);
      // Nothing else: every Allow statement is one of the above, or its own log group.
      expect(statements.some(bySid('CreateVaultKeys')), where).toBe(expected.createsVaultKeys);
      expect(statements.some(bySid('TagNewVaultKeys')), where).toBe(expected.createsVaultKeys);
      expect(statements.some(bySid('NewVaultPagingKeys')), where).toBe(expected.createsVaultKeys);
      expect(on(bySid('PurgedVaultKeys'), 'kms:'), where).toEqual([...expected.vaultKeyLifecycle].sort());
      expect(statements.some(bySid('SubscriptionRules')), where).toBe(expected.eventSubscriptions.length > 0);
      const known = [
        ...SUBSCRIPTION_SIDS,
        'VaultObjects',
        'ControlPlaneRecords',
        'AuditRecords',
        'BackupKey',
        'HsmKeys',
        'CreateHsmKeys',
        'TagNewHsmKeys',
        'CreateVaultKeys',
        'TagNewVaultKeys',
        'NewVaultPagingKeys',
        'PurgedVaultKeys',
        'RandomBytes',
        'OwnLogs',
      ];
      for (const statement of statements) {
        expect(known.includes(statement.Sid ?? '') || statement.Sid?.startsWith('VaultKey'), `${where}: ${JSON.stringify(statement)}`).toBe(true);
      }
      const logs = statements.find(bySid('OwnLogs'));
      expect(logs?.Resource, where).toEqual([
        { 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/${AWS::StackName}-operations:*' },
      ]);
      expect(
        list(logs?.Action).every((a) => a.startsWith('logs:')),
        where,
      ).toBe(true);
    }
  });

  it('scopes vault-key and HSM-key use to keys tagged for this deployment', () => {
    const keyStatements = identityStatements(template).filter(
      (s) =>
        s.statement.Effect === 'Allow' &&
        (s.statement.Sid?.startsWith('VaultKey') || ['HsmKeys', 'NewVaultPagingKeys', 'PurgedVaultKeys'].includes(s.statement.Sid ?? '')),
    );
    expect(keyStatements.length).toBeGreaterThan(0);
    for (const { owner, statement } of keyStatements) {
      const where = `${owner} ${statement.Sid}`;
      expect(isAccountKeyPattern(statement), where).toBe(true);
      expect(statement.Condition?.StringEquals?.['aws:ResourceTag/coffer:deployment'], where).toEqual({ 'Fn::Sub': '${AWS::StackName}' });
      if (statement.Sid === 'HsmKeys') {
        expect(statement.Condition?.Null?.['aws:ResourceTag/coffer:key'], where).toBe('false');
      } else if (statement.Sid === 'PurgedVaultKeys') {
        expect(statement.Condition?.Null, where).toEqual({ 'aws:ResourceTag/coffer:vault': 'false', 'aws:ResourceTag/coffer:key': 'true' });
      } else {
        // Vault keys: only Coffer's encryption contexts, and never an HSM key version.
        expect(statement.Condition?.StringEquals?.['kms:EncryptionContext:coffer:purpose'], where).toBeDefined();
        expect(statement.Condition?.Null, where).toEqual({ 'aws:ResourceTag/coffer:vault': 'false', 'aws:ResourceTag/coffer:key': 'true' });
      }
    }
  });

  it('denies data-plane functions every write to control-plane records, and lets management functions write only those', () => {
    const writes = (actions: string[]) => actions.filter((a) => !OBJECTS_READ_ACTIONS.includes(a.replace('dynamodb:', '') as never));
    for (const route of routes) {
      const roleId = referenced(lambda(route)!.Properties!.Role)!;
      const onObjects = identityStatements(template)
        .filter((s) => s.owner === roleId && referenced(s.statement.Resource) === 'ObjectsTable')
        .map((s) => s.statement);
      const granted = permissionsFor(route.operation);
      const expectedWrites = writes(granted.objects.map((a) => `dynamodb:${a}`)).sort();
      if (expectedWrites.length === 0) continue;
      const bySid = (sid: string) => onObjects.find((s) => s.Sid === sid);
      if (route.plane !== 'management') {
        const deny = bySid('NoControlPlaneWrites');
        expect(deny?.Effect, route.operation).toBe('Deny');
        expect(list(deny?.Action).sort(), route.operation).toEqual(expectedWrites);
        expect(deny?.Condition?.['ForAnyValue:StringLike']?.['dynamodb:LeadingKeys'], route.operation).toEqual([...CONTROL_PLANE_PARTITIONS]);
      } else if (granted.writes === 'controlPlane') {
        expect(writes(list(bySid('VaultObjects')?.Action)), route.operation).toEqual([]);
        const control = bySid('ControlPlaneRecords');
        expect(list(control?.Action).sort(), route.operation).toEqual(expectedWrites);
        expect(control?.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'], route.operation).toEqual([...CONTROL_PLANE_PARTITIONS]);
      }
    }
    expect(CONTROL_PLANE_PARTITIONS).toContain('VAULT#*');
  });

  it('writes key policies without kms:* and without anonymous principals', () => {
    const keys = resourcesOfType(template, 'AWS::KMS::Key');
    expect(keys.map(([id]) => id).sort()).toEqual(['BackupKey', 'StorageKey']);
    for (const [id, key] of keys) {
      expect(key.Properties!.EnableKeyRotation, id).toBe(true);
      expect(key.DeletionPolicy, id).toBe('Retain');
      for (const statement of list(key.Properties!.KeyPolicy.Statement as Statement[])) {
        expect(
          list(statement.Action).filter((a) => serviceWide.test(a)),
          `${id} ${statement.Sid}`,
        ).toEqual([]);
        expect(JSON.stringify(statement.Principal), `${id} ${statement.Sid}`).not.toMatch(/"\*"/);
      }
    }
  });
});

function isAccountKeyPattern(statement: Statement): boolean {
  const resource = list(statement.Resource)[0] as { 'Fn::Sub'?: string } | undefined;
  return resource?.['Fn::Sub'] === 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*';
}

describe('storage', () => {
  /**
   * The streams the event functions read. lib/aws/tables.ts describes no streams (the local stack
   * creates its tables without one), so they are named here until it does.
   */
  const streams: Record<string, 'NEW_AND_OLD_IMAGES' | undefined> = { [objectsTable.logicalName]: 'NEW_AND_OLD_IMAGES' };

  it('declares the tables of lib/aws/tables.ts with their keys, indexes, TTL and stream', () => {
    for (const table of tables) {
      const resource = template.Resources[table.logicalName];
      expect(resource?.Type, table.logicalName).toBe('AWS::DynamoDB::Table');
      const properties = resource!.Properties!;
      expect(properties.KeySchema).toEqual([
        { AttributeName: table.partitionKey, KeyType: 'HASH' },
        { AttributeName: table.sortKey, KeyType: 'RANGE' },
      ]);
      expect(properties.TimeToLiveSpecification).toEqual(table.ttlAttribute ? { AttributeName: table.ttlAttribute, Enabled: true } : undefined);
      const stream = streams[table.logicalName];
      expect(properties.StreamSpecification, table.logicalName).toEqual(stream ? { StreamViewType: stream } : undefined);
      const indexes = list(properties.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown }[]);
      expect(indexes.map((i) => i.IndexName)).toEqual((table.indexes ?? []).map((i) => i.name));
      for (const index of table.indexes ?? []) {
        expect(indexes.find((i) => i.IndexName === index.name)?.KeySchema).toEqual([
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ]);
        const attributes = properties.AttributeDefinitions as { AttributeName: string; AttributeType: string }[];
        expect(attributes).toContainEqual({ AttributeName: index.partitionKey, AttributeType: index.partitionKeyType });
        expect(attributes).toContainEqual({ AttributeName: index.sortKey, AttributeType: index.sortKeyType });
      }
    }
  });

  it('keeps point-in-time recovery and deletion protection on every table, which outlives the stack', () => {
    const found = resourcesOfType(template, 'AWS::DynamoDB::Table');
    expect(found).toHaveLength(tables.length);
    for (const [id, table] of found) {
      expect(table.Properties!.PointInTimeRecoverySpecification, id).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table.Properties!.DeletionProtectionEnabled, id).toBe(true);
      expect(table.DeletionPolicy, id).toBe('Retain');
      expect(referenced(table.Properties!.SSESpecification?.KMSMasterKeyId), id).toBe('StorageKey');
    }
  });

  it("writes HTTP API's access log in the short format: what only API Gateway knows, one line per request", () => {
    const stages = resourcesOfType(template, 'AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const settings = stages[0]![1].Properties!.AccessLogSettings as { DestinationArn: unknown; Format: string };
    expect(referenced(settings.DestinationArn)).toBe('HttpApiLogGroup');
    // Space-separated, the integration's error (which may hold spaces) last, so a parse pattern reads every field.
    expect(settings.Format.split(' ')).toEqual([
      '$context.requestId',
      '$context.identity.sourceIp',
      '$context.httpMethod',
      '$context.path',
      '$context.status',
      '$context.error.responseType',
      '$context.integration.error',
    ]);
  });

  it('sets a retention on every log group', () => {
    const groups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    // The operations', the event functions' and the HTTP API's access log; the scheduler logs to the
    // operations' group, whose subscription delivers its audit records (infra/event-functions.ts).
    const ownGroups = eventFunctions.filter((fn) => fn.key !== runScheduledWork.key).map((fn) => `${fn.key}LogGroup`);
    expect(groups.map(([id]) => id).sort()).toEqual([OPERATIONS_LOG_GROUP, ...ownGroups, 'HttpApiLogGroup'].sort());
    for (const [id, group] of groups) expect(group.Properties!.RetentionInDays, id).toBeGreaterThan(0);
    // The functions' groups under the storage key, like everything else they write.
    for (const id of [OPERATIONS_LOG_GROUP, ...ownGroups]) {
      expect(referenced(template.Resources[id]!.Properties!.KmsKeyId), id).toBe('StorageKey');
    }
  });
});

describe('alarms', () => {
  it('watches the 5xx rate, latency and throttles, and notifies the alarm topic', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([id, alarm]) => {
      const metrics = [alarm.Properties!.MetricName, ...list(alarm.Properties!.Metrics).map((m: any) => m.MetricStat?.Metric.MetricName)];
      expect(list(alarm.Properties!.AlarmActions).map(referenced), id).toEqual(['AlarmTopic']);
      return metrics.filter(Boolean).join(',');
    });
    expect(alarms.some((m) => m.includes('5xx') && m.includes('Count'))).toBe(true);
    expect(alarms).toContain('Latency');
    expect(alarms).toContain('Throttles');
    expect(alarms.some((m) => m.includes('ReadThrottleEvents') && m.includes('WriteThrottleEvents'))).toBe(true);
  });

  it('alarms when scheduler runs fail, which leave rotations, expiry events and purges waiting', () => {
    const onScheduler = resourcesOfType(template, 'AWS::CloudWatch::Alarm')
      .map(([, a]) => a.Properties!)
      .filter((a) => (a.Dimensions as { Value: unknown }[] | undefined)?.some((d) => referenced(d.Value) === 'RunScheduledWorkLambdaFunction'));
    expect(onScheduler).toHaveLength(1);
    expect(onScheduler[0]).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(template.Resources.RunScheduledWorkLambdaFunction?.Type).toBe('AWS::Lambda::Function');
  });
});

describe('bundle budget', () => {
  it(`keeps every function bundle within ${BUNDLE_BUDGET_BYTES} bytes, the three that make certificate versions within theirs (the README says why)`, async () => {
    const over: [string, number][] = [];
    for (const route of routes) {
      const bytes = (await stat(join(out, 'bundles', functionKey(route), 'index.mjs'))).size;
      if (bytes > bundleBudgetOf(route.handler)) over.push([functionKey(route), bytes]);
    }
    // The exception is one family: no other function may carry the certificate library.
    expect(
      routes.filter((route) => bundleBudgetOf(route.handler) !== BUNDLE_BUDGET_BYTES).every((route) => route.handler.startsWith('certificates/')),
    ).toBe(true);
    expect(over, 'run `npm run bundle:measure` to see what grew').toEqual([]);
  });

  it("calls AWS without the SDK's clients and runtime: only its signer and its DynamoDB value conversion", async () => {
    const metafile = JSON.parse(await readFile(join(out, 'bundles', 'metafile.json'), 'utf8')) as { outputs: Record<string, { inputs: object }> };
    const inputs = Object.values(metafile.outputs).flatMap((output) => Object.keys(output.inputs));
    const packages = new Set(inputs.map((input) => /node_modules\/(@(?:aws-sdk|smithy)\/[^/]+)\//.exec(input)?.[1]).filter(Boolean));
    expect([...packages].sort()).toEqual(['@aws-sdk/util-dynamodb', '@smithy/core', '@smithy/signature-v4']);
    expect(inputs.filter((input) => /@smithy\/core\/dist-es\/submodules\/(retry|endpoints|schema|event-streams|config)\//.test(input))).toEqual([]);
  });

  it('produces bundles that a fresh Node 24 loads without configuration and that export the handler', async () => {
    // One process per bundle, as Lambda loads it: no test runner between Node and the module.
    const probe = 'const m = await import(process.argv[1]); process.stdout.write(typeof m.handler);';
    const pending = routes.map((route) => pathToFileURL(join(out, 'bundles', functionKey(route), 'index.mjs')).href);
    const results: Record<string, string> = {};
    const worker = async () => {
      for (let url = pending.shift(); url; url = pending.shift()) {
        const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe, url], { env: { PATH: process.env.PATH ?? '' } });
        results[url] = stdout;
      }
    };
    await Promise.all([worker(), worker()]);
    for (const route of routes) {
      expect(results[pathToFileURL(join(out, 'bundles', functionKey(route), 'index.mjs')).href], route.operation).toBe('function');
    }
  });
});
