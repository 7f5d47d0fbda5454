import { type Route, routeKey, scopedPaths } from '../lib/http/routes.ts';
import { environmentVariables } from '../lib/runtime/environment.ts';
import {
  auditDelivery,
  auditDeliveryFunction,
  auditDeliveryResources,
  publishEvents,
  publishEventsFunction,
  publishEventsResources,
  runScheduledWork,
  runScheduledWorkFunction,
  runScheduledWorkGrants,
  runScheduledWorkStatements,
  type ScheduleEvent,
  type StreamEvent,
} from './event-functions.ts';
import { rotatorConfig } from './rotation-function.ts';
import { CONTROL_PLANE_PARTITIONS, type DataKeyAction, type Grants, OBJECTS_READ_ACTIONS, POOL_PARTITIONS, permissionsFor } from './permissions.ts';

/**
 * Turns the route table and the permissions map into the part of serverless.yml that must never be
 * hand-maintained: one function per operation with its HTTP API routes, and one IAM role per
 * distinct permission set. serverless.yml loads the result through infra/generated.cjs.
 *
 * Everything here is stage-independent: names that depend on the stage are built in CloudFormation
 * from `${AWS::StackName}` (serverless names the stack `<service>-<stage>` and each function
 * `<service>-<stage>-<key>`), so one generated config serves every stage.
 */
export interface GeneratedConfig {
  /** serverless.yml's `provider.environment`: what every function is configured with. */
  environment: Record<string, unknown>;
  functions: Record<string, FunctionConfig>;
  resources: {
    Resources: Record<string, unknown>;
    Outputs: Record<string, unknown>;
    extensions: Record<string, unknown>;
    Parameters?: Record<string, unknown>;
  };
}

interface FunctionConfig {
  handler: string;
  description: string;
  package: { artifact: string };
  role: string;
  events: ({ httpApi: { method: string; path: string } | '*' } | StreamEvent | ScheduleEvent)[];
  /** The operations log to the one shared group (`OPERATIONS_LOG_GROUP`), not to a group each. */
  disableLogs?: boolean;
  /** What only the functions no route reaches set (infra/event-functions.ts): their timeout and asynchronous retries (a stream's are on its event). */
  timeout?: number;
  maximumRetryAttempts?: number;
  maximumEventAge?: number;
  destinations?: { onFailure: unknown };
  /** The rotator's own settings (infra/rotation-function.ts), beside provider.environment. */
  environment?: Record<string, unknown>;
}

export interface GenerateOptions {
  /** The zip artifact of a function, by function key. */
  artifactFor: (functionKey: string) => string;
  /** The optional reference rotator (infra/rotation-function.ts, docs/rotation.md). */
  rotator?: boolean;
}

/** The serverless function key (and CloudFormation logical id prefix) of a route. */
export function functionKey(route: Route): string {
  if (!/^[A-Z][A-Za-z0-9]{0,40}$/.test(route.operation)) throw new Error(`operation ${route.operation} cannot name a Lambda function`);
  return route.operation;
}

/**
 * The HTTP API route keys that reach a route's function. An `optionalTail` route (`GET
 * /secrets/{name}/{version}`) must also answer `/secrets/{name}` and `/secrets/{name}/`. HTTP API
 * route keys cannot end in `/` and an empty `{version}` matches nothing, so it gets two keys:
 *   - `/secrets/{name}` for the absent tail;
 *   - `/secrets/{name}/{version+}`: the greedy variable takes the version, and the empty remainder
 *     after a trailing slash. Literal routes (`/secrets/{name}/versions`) still win over it, and a
 *     deeper path (`/a/b`) arrives as a version no secret has, so it answers 404 like Key Vault.
 * A role-assignment or role-definition route (`/{scope*}/providers/Microsoft.Authorization/...`) gets a
 * key per scope shape: API Gateway has no greedy variable inside a path.
 */
export function apiPaths(route: Route): string[] {
  const scoped = scopedPaths(route);
  if (scoped.length > 1 || scoped[0] !== route.path) return scoped.flatMap((path) => apiPaths({ ...route, path }));
  // An `optionalVersion` route also answers without its `{version}` segment (`/keys/{name}/release`).
  if (route.optionalVersion) {
    if (!route.path.includes('/{version}/')) throw new Error(`${routeKey(route)}: optionalVersion needs a {version} segment inside the path`);
    return [route.path, route.path.replace('/{version}/', '/')];
  }
  if (!route.optionalTail) return [route.path];
  const segments = route.path.split('/');
  const tail = segments.at(-1) ?? '';
  if (!/^\{[A-Za-z]+\}$/.test(tail)) throw new Error(`${routeKey(route)}: optionalTail needs a {parameter} as its last segment`);
  return [segments.slice(0, -1).join('/'), [...segments.slice(0, -1), `${tail.slice(0, -1)}+}`].join('/')];
}

/**
 * Fails on two route keys that differ only in parameter names (API Gateway cannot tell them apart) or
 * in letter case (the local gateway, like Key Vault, matches literals case-insensitively).
 */
export function assertNoConflicts(routes: readonly Route[]): void {
  const seen = new Map<string, string>();
  for (const route of routes) {
    for (const path of apiPaths(route)) {
      const shape = `${route.method} ${path.replace(/\{[^}]*?(\+?)\}/g, '{$1}').toLowerCase()}`;
      const other = seen.get(shape);
      if (other) throw new Error(`route ${route.method} ${path} (${route.operation}) conflicts with ${other}`);
      seen.set(shape, `${route.method} ${path} (${route.operation})`);
    }
  }
}

export function generateConfig(routes: readonly Route[], options: GenerateOptions): GeneratedConfig {
  assertNoConflicts(routes);
  const functions: Record<string, FunctionConfig> = {};
  const resources: GeneratedConfig['resources'] = { Resources: {}, Outputs: {}, extensions: {} };
  const roles = new Map<string, { logicalId: string; operations: string[]; grants: Grants }>();

  for (const route of routes) {
    const key = functionKey(route);
    const grants = permissionsFor(route.operation);
    const signature = JSON.stringify(grants);
    let role = roles.get(signature);
    if (!role) {
      role = { logicalId: `${key}Role`, operations: [], grants };
      roles.set(signature, role);
    }
    role.operations.push(key);
    functions[key] = {
      handler: 'index.handler',
      description: `${route.operation}: ${routeKey(route)}`,
      package: { artifact: options.artifactFor(key) },
      role: role.logicalId,
      events: apiPaths(route).map((path) => ({ httpApi: { method: route.method, path } })),
      disableLogs: true,
    };
    resources.extensions[`${key}LambdaFunction`] = { Properties: { LoggingConfig: operationsLoggingConfig() } };
  }
  resources.Resources[OPERATIONS_LOG_GROUP] = operationsLogGroup();

  for (const role of roles.values()) resources.Resources[role.logicalId] = roleResource(role.operations, role.grants);

  // API Gateway's `$default` route: what no route key matched, routed by the route table or refused
  // and audited; it logs (and so audits) to the operations' group like the operations.
  functions[unmatchedRequests.key] = {
    handler: 'index.handler',
    description: unmatchedRequests.description,
    package: { artifact: options.artifactFor(unmatchedRequests.key) },
    role: `${unmatchedRequests.key}Role`,
    events: [{ httpApi: '*' }],
    disableLogs: true,
    timeout: UNMATCHED_TIMEOUT_SECONDS,
  };
  resources.extensions[`${unmatchedRequests.key}LambdaFunction`] = {
    Properties: { LoggingConfig: operationsLoggingConfig() },
  };
  resources.Resources[`${unmatchedRequests.key}Role`] = unmatchedRequestsRole(routes);

  // The audit delivery, subscribed to the operations' log group; its own log group is its own.
  functions[auditDelivery.key] = { ...auditDeliveryFunction(), package: { artifact: options.artifactFor(auditDelivery.key) } };
  resources.extensions[`${auditDelivery.key}LogGroup`] = { Properties: { KmsKeyId: { 'Fn::GetAtt': ['StorageKey', 'Arn'] } } };
  Object.assign(resources.Resources, auditDeliveryResources(OPERATIONS_LOG_GROUP));

  // The event publisher, on the objects table's stream; its own log group, like the delivery's.
  functions[publishEvents.key] = { ...publishEventsFunction(), package: { artifact: options.artifactFor(publishEvents.key) } };
  resources.extensions[`${publishEvents.key}LogGroup`] = { Properties: { KmsKeyId: { 'Fn::GetAtt': ['StorageKey', 'Arn'] } } };
  Object.assign(resources.Resources, publishEventsResources());

  // The scheduler, on a rate rule: an operation's role (it does their work) plus the due index and the
  // bus, and the operations' log group, so its audit records are delivered with theirs.
  functions[runScheduledWork.key] = { ...runScheduledWorkFunction(), package: { artifact: options.artifactFor(runScheduledWork.key) } };
  resources.extensions[`${runScheduledWork.key}LambdaFunction`] = {
    Properties: { LoggingConfig: operationsLoggingConfig() },
  };
  const schedulerRole = roleResource([runScheduledWork.key], runScheduledWorkGrants());
  schedulerRole.Properties.Policies[0]!.PolicyDocument.Statement.push(...runScheduledWorkStatements());
  resources.Resources[`${runScheduledWork.key}Role`] = schedulerRole;
  if (options.rotator) {
    const rotator = rotatorConfig(options.artifactFor('RotatePostgresPassword'));
    functions[rotator.key] = rotator.function;
    resources.extensions[`${rotator.key}LogGroup`] = { Properties: { KmsKeyId: { 'Fn::GetAtt': ['StorageKey', 'Arn'] } } };
    resources.Parameters = rotator.parameters;
    Object.assign(resources.Resources, rotator.resources);
  }
  return { environment: deployedEnvironment(), functions, resources };
}

/**
 * Every operation logs to one log group (Lambda's LoggingConfig), named like the functions
 * (`/aws/lambda/<stack>-operations`, inside the storage key's `/aws/lambda/<stack>-*` grant to
 * CloudWatch Logs), with one audit subscription: a group and a subscription filter per operation were
 * two of the seven resources each operation cost, against CloudFormation's 500 per stack. Each stream
 * is still one function instance's (`<date>/[$LATEST]<id>`), and an audit record names its operation.
 */
export const OPERATIONS_LOG_GROUP = 'OperationsLogGroup';

/**
 * How every function that logs to the operations' group logs (docs/adr/0018-cost-floor-of-a-read.md):
 * Lambda's JSON format at system log level WARN, so Lambda writes none of its per-invocation lines
 * (START, END, REPORT: 339 bytes, $0.17 per million requests in CloudWatch Logs; its metrics stay).
 * The audit line is a JSON object written to standard output, which Lambda passes on as it is in this
 * format (it does not encode JSON twice), so the subscription filter's `{ $.cofferAudit = 1 }` still
 * matches it; it has no `level`, so Lambda files it under INFO, and the application log level is
 * INFO, said here rather than left to Lambda's default: a level above INFO would drop every audit line.
 */
export const OPERATIONS_LOGGING = { LogFormat: 'JSON', SystemLogLevel: 'WARN', ApplicationLogLevel: 'INFO' } as const;

/** The LoggingConfig of a function logging to the operations' group. */
export function operationsLoggingConfig() {
  return { LogGroup: { Ref: OPERATIONS_LOG_GROUP }, ...OPERATIONS_LOGGING };
}
const OPERATIONS_LOG_GROUP_NAME = '/aws/lambda/${AWS::StackName}-operations';

function operationsLogGroup() {
  return {
    Type: 'AWS::Logs::LogGroup',
    Properties: {
      LogGroupName: { 'Fn::Sub': OPERATIONS_LOG_GROUP_NAME },
      RetentionInDays: '${param:logRetentionDays}',
      // Encrypted under the deployment's storage key like everything else.
      KmsKeyId: { 'Fn::GetAtt': ['StorageKey', 'Arn'] },
    },
  };
}

/**
 * The function environment (lib/runtime/environment.ts) of the deployed stack: every value from the
 * stack's own resources, parameters or serverless params, none a literal that could name another.
 */
export function deployedEnvironment(): Record<string, unknown> {
  return environmentVariables<unknown>({
    objectsTable: { Ref: 'ObjectsTable' },
    auditTable: { Ref: 'AuditTable' },
    vaultDomain: { Ref: 'VaultDomain' },
    // Every vault answers on its own host name under the vault domain.
    hostAliases: '{}',
    // An SSM parameter holding the JSON list (infra/parameters.yml).
    trustedIssuers: { Ref: 'TrustedIssuers' },
    // Management tokens are for the management host of the same domain (docs/adr/0013).
    managementAudience: { 'Fn::Sub': 'https://management.${VaultDomain}' },
    subscriptions: { Ref: 'Subscriptions' },
    tenantAdministrators: { Ref: 'TenantAdministrators' },
    // Vault host names resolve in AWS: no endpoint pool.
    vaultEndpoints: '[]',
    backupKeyId: { 'Fn::GetAtt': ['BackupKey', 'Arn'] },
    region: { Ref: 'AWS::Region' },
    auditRetentionDays: '${param:auditRetentionDays}',
    // Audit records go to standard output, the function's log stream, which the audit subscription reads.
    auditLog: '',
    // The coffer:deployment tag the function roles require on every KMS key they use or create.
    deployment: { Ref: 'AWS::StackName' },
    // infra/events.yml's bus; its Ref is the bus name.
    eventBus: { Ref: 'EventBus' },
    // The time shift is the local stack's alone: a deployment's clock is real time (test/deploy/time-shift.test.ts).
    clockOffsetsFile: '',
    // A subscription's handshake calls https webhooks on public addresses only (no SSRF: lib/events/webhook-client.ts).
    webhookAddresses: 'public',
    // infra/events.yml: the role EventBridge calls API destinations with, and their dead-letter queue.
    eventDeliveryRoleArn: { 'Fn::GetAtt': ['EventDeliveryRole', 'Arn'] },
    eventDeadLetterQueueArn: { 'Fn::GetAtt': ['EventDeliveryFailures', 'Arn'] },
  });
}

const stackArn = (service: string, resource: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resource}`,
});
/** The value of the `coffer:deployment` tag on this deployment's KMS keys: the stack's name. */
const thisDeployment = { 'Fn::Sub': '${AWS::StackName}' };

/** A function's role: what its grants allow, its own log stream in the operations' group. */
/** Nothing granted (fresh arrays each call): a role that is not an operation's starts here and names what it has. */
export function noGrants(): Grants {
  return {
    writes: 'vaultObjects',
    poolWrites: [],
    objects: [],
    audit: [],
    vaultKey: [],
    backupKey: [],
    hsmKeys: [],
    createsHsmKeys: [],
    randomBytes: false,
    createsVaultKeys: false,
    vaultKeyLifecycle: [],
    eventSubscriptions: [],
    poolToken: [],
    poolObjects: [],
  };
}

export function roleResource(operations: string[], grants: Grants) {
  const objectsTable = { 'Fn::GetAtt': ['ObjectsTable', 'Arn'] };
  const writes = grants.objects.filter((a) => !OBJECTS_READ_ACTIONS.includes(a));
  const statements: Record<string, unknown>[] = [
    {
      Sid: 'OwnLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: [stackArn('logs', `log-group:${OPERATIONS_LOG_GROUP_NAME}:*`)],
    },
  ];
  if (grants.writes === 'pools') {
    statements.push(...poolRecordStatements(grants));
  } else {
    statements.push({
      Sid: 'VaultObjects',
      Effect: 'Allow',
      // A management role writes only control-plane records (below); a purge removes vault objects too.
      Action: (grants.writes === 'controlPlane' ? grants.objects.filter((a) => OBJECTS_READ_ACTIONS.includes(a)) : grants.objects).map(
        (a) => `dynamodb:${a}`,
      ),
      Resource: objectsTable,
    });
  }
  if (writes.length > 0 && grants.writes === 'vaultObjects') {
    statements.push({
      Sid: 'NoControlPlaneWrites',
      Effect: 'Deny',
      Action: writes.map((a) => `dynamodb:${a}`),
      Resource: objectsTable,
      Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [...CONTROL_PLANE_PARTITIONS] } },
    });
  }
  if (writes.length > 0 && grants.writes === 'controlPlane') {
    statements.push({
      Sid: 'ControlPlaneRecords',
      Effect: 'Allow',
      Action: writes.map((a) => `dynamodb:${a}`),
      Resource: objectsTable,
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...CONTROL_PLANE_PARTITIONS] } },
    });
  }
  // IAM refuses a statement without actions as a malformed policy: an operation that writes no audit record gets none.
  if (grants.audit.length > 0) {
    statements.push({
      Sid: 'AuditRecords',
      Effect: 'Allow',
      Action: grants.audit.map((a) => `dynamodb:${a}`),
      Resource: { 'Fn::GetAtt': ['AuditTable', 'Arn'] },
    });
  }
  for (const action of grants.vaultKey) statements.push(vaultKeyStatement(action));
  statements.push(...vaultKeyLifecycleStatements(grants));
  statements.push(...hsmKeyStatements(grants));
  if (grants.createsVaultKeys || grants.createsHsmKeys.length > 0) statements.push(noRetagging);
  statements.push(...eventSubscriptionStatements(grants));
  if (grants.backupKey.length > 0) {
    statements.push({
      Sid: 'BackupKey',
      Effect: 'Allow',
      Action: grants.backupKey.map((a) => `kms:${a}`),
      Resource: { 'Fn::GetAtt': ['BackupKey', 'Arn'] },
      Condition: { StringEquals: { 'kms:EncryptionContext:coffer:purpose': 'backup' } },
    });
  }
  statements.push(...poolKeyStatements(grants));
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: { 'Fn::Sub': `\${AWS::StackName}: ${operations.join(', ')}`.slice(0, 1000) },
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [{ PolicyName: 'operation', PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
      Tags: [{ Key: 'coffer:operations', Value: operations.join(' ').slice(0, 256) }],
    },
  };
}

/**
 * A pool's data plane (infra/permissions.ts `managedHsmDataPermissions`): its reads reach pools'
 * records only, its writes only the pools' records its entry names (`poolWrites`), by the partition
 * key IAM sees (`dynamodb:LeadingKeys`).
 */
function poolRecordStatements(grants: Grants): Record<string, unknown>[] {
  const objectsTable = { 'Fn::GetAtt': ['ObjectsTable', 'Arn'] };
  const reads = grants.objects.filter((a) => OBJECTS_READ_ACTIONS.includes(a));
  const writes = grants.objects.filter((a) => !OBJECTS_READ_ACTIONS.includes(a));
  if (writes.length > 0 && grants.poolWrites.length === 0) throw new Error(`a pool operation writes (${writes.join(', ')}) but names no poolWrites`);
  const statements: Record<string, unknown>[] = [];
  if (reads.length > 0) {
    statements.push({
      Sid: 'PoolRecordReads',
      Effect: 'Allow',
      Action: reads.map((a) => `dynamodb:${a}`),
      Resource: objectsTable,
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': Object.values(POOL_PARTITIONS) } },
    });
  }
  if (writes.length > 0) {
    statements.push({
      Sid: 'PoolRecordWrites',
      Effect: 'Allow',
      Action: writes.map((a) => `dynamodb:${a}`),
      Resource: objectsTable,
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': grants.poolWrites.map((records) => POOL_PARTITIONS[records]) } },
    });
  }
  return statements;
}

/**
 * A pool holds no KMS key: what it seals is under the deployment's backup key, bound by the
 * encryption context to pools: its token's PINs (`pool-token`, the context naming a pool) and its
 * keys' sealed fields (`objects`, the context naming a pool's partition `MHSM#<pool>`, which no
 * vault name can be).
 */
function poolKeyStatements(grants: Grants): Record<string, unknown>[] {
  const backupKey = { 'Fn::GetAtt': ['BackupKey', 'Arn'] };
  const statements: Record<string, unknown>[] = [];
  if (grants.poolToken.length > 0) {
    statements.push({
      Sid: 'PoolTokenSecrets',
      Effect: 'Allow',
      Action: grants.poolToken.map((a) => `kms:${a}`),
      Resource: backupKey,
      Condition: { StringEquals: { 'kms:EncryptionContext:coffer:purpose': 'pool-token' }, Null: { 'kms:EncryptionContext:coffer:pool': 'false' } },
    });
  }
  if (grants.poolObjects.length > 0) {
    statements.push({
      Sid: 'PoolObjectSealing',
      Effect: 'Allow',
      Action: grants.poolObjects.map((a) => `kms:${a}`),
      Resource: backupKey,
      Condition: {
        StringEquals: { 'kms:EncryptionContext:coffer:purpose': 'objects' },
        StringLike: { 'kms:EncryptionContext:coffer:vault': `${POOL_PARTITIONS.record}` },
      },
    });
  }
  return statements;
}

/**
 * Vault keys are created per vault at run time, so their ARNs are not known here. The grant covers the
 * account's keys in this region that carry a `coffer:vault` tag and this deployment's
 * `coffer:deployment` tag (scripts/create-vault.ts sets both), for data keys of the purposes the
 * code uses: new data keys only for objects, decryption also of the vault's paging key.
 */
function vaultKeyStatement(action: DataKeyAction) {
  return {
    Sid: `VaultKey${action}`,
    Effect: 'Allow',
    Action: `kms:${action}`,
    Resource: stackArn('kms', 'key/*'),
    Condition: {
      StringEquals: {
        'aws:ResourceTag/coffer:deployment': thisDeployment,
        'kms:EncryptionContext:coffer:purpose': action === 'GenerateDataKey' ? ['objects'] : ['objects', 'paging-token'],
      },
      // HSM key versions carry coffer:vault too; they are covered by their own statements.
      Null: { 'aws:ResourceTag/coffer:vault': 'false', 'aws:ResourceTag/coffer:key': 'true' },
    },
  };
}

/** The tags a vault key carries (lib/aws/kms-data-keys.ts createVaultKey), this deployment's among them. */
const VAULT_KEY_TAGS = ['coffer:vault', 'coffer:tenant', 'coffer:deployment'];
/** This deployment's vault keys: tagged `coffer:vault`, and not HSM key versions (`coffer:key`). */
const vaultKeyCondition = {
  StringEquals: { 'aws:ResourceTag/coffer:deployment': thisDeployment },
  Null: { 'aws:ResourceTag/coffer:vault': 'false', 'aws:ResourceTag/coffer:key': 'true' },
};

/**
 * Creating KMS keys and tagging them, bound by the request: tagged for this deployment and a vault
 * (and, for an HSM key version's key, the key it belongs to), with only the given tag keys and of the
 * given origin, spec and usage.
 */
function createAndTagKeys(
  kind: 'Vault' | 'Hsm',
  key: { origins: unknown; specs: unknown; usages: unknown; perKey: boolean; tags: readonly string[] },
): Record<string, unknown>[] {
  return [
    {
      Sid: `Create${kind}Keys`,
      Effect: 'Allow',
      Action: 'kms:CreateKey',
      Resource: '*',
      Condition: {
        StringEquals: {
          'aws:RequestTag/coffer:deployment': thisDeployment,
          'kms:KeyOrigin': key.origins,
          'kms:KeySpec': key.specs,
          'kms:KeyUsage': key.usages,
        },
        Null: { 'aws:RequestTag/coffer:vault': 'false', 'aws:RequestTag/coffer:key': key.perKey ? 'false' : 'true' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': key.tags },
      },
    },
    {
      Sid: `TagNew${kind}Keys`,
      Effect: 'Allow',
      Action: 'kms:TagResource',
      Resource: stackArn('kms', 'key/*'),
      Condition: {
        StringEquals: { 'aws:RequestTag/coffer:deployment': thisDeployment },
        'ForAllValues:StringEquals': { 'aws:TagKeys': key.tags },
      },
    },
  ];
}

/**
 * The management plane's part in a vault key's life: creating it with the vault (bound, as for HSM
 * keys, by the request: tagged for this deployment and a vault, a symmetric encryption key made in
 * KMS) and the vault's paging data key under it; scheduling its deletion when the vault is purged.
 */
function vaultKeyLifecycleStatements(grants: Grants): Record<string, unknown>[] {
  const statements: Record<string, unknown>[] = [];
  if (grants.createsVaultKeys) {
    statements.push(
      ...createAndTagKeys('Vault', {
        origins: 'AWS_KMS',
        specs: 'SYMMETRIC_DEFAULT',
        usages: 'ENCRYPT_DECRYPT',
        perKey: false,
        tags: VAULT_KEY_TAGS,
      }),
      {
        Sid: 'NewVaultPagingKeys',
        Effect: 'Allow',
        Action: 'kms:GenerateDataKey',
        Resource: stackArn('kms', 'key/*'),
        Condition: {
          ...vaultKeyCondition,
          StringEquals: { ...vaultKeyCondition.StringEquals, 'kms:EncryptionContext:coffer:purpose': ['paging-token'] },
        },
      },
    );
  }
  if (grants.vaultKeyLifecycle.length > 0) {
    statements.push({
      Sid: 'PurgedVaultKeys',
      Effect: 'Allow',
      Action: grants.vaultKeyLifecycle.map((a) => `kms:${a}`),
      Resource: stackArn('kms', 'key/*'),
      Condition: vaultKeyCondition,
    });
  }
  return statements;
}

/** A function that may tag new keys may not move a key that belongs to a deployment, or untag it. */
const noRetagging = {
  Sid: 'NoRetagging',
  Effect: 'Deny',
  Action: ['kms:TagResource', 'kms:UntagResource'],
  Resource: stackArn('kms', 'key/*'),
  Condition: { Null: { 'aws:ResourceTag/coffer:deployment': 'false' } },
};

/** The tags lib/keys puts on the KMS key of an HSM key version, and this deployment's. */
const HSM_KEY_TAGS = ['coffer:vault', 'coffer:tenant', 'coffer:key', 'coffer:deployment'];
const HSM_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1'];

/**
 * HSM key versions are KMS keys the data plane creates, one per version, so like vault keys they are
 * granted by tag: this deployment's keys that carry `coffer:key`. Creating one cannot be scoped to a
 * resource (IAM defines none for kms:CreateKey), so the request is: it must tag the new key for this
 * deployment and a key version, with no other tags, and ask for a key spec and usage Key Vault has.
 * Tagging may not move a key that already belongs to a deployment, or untag it (`noRetagging`).
 */
function hsmKeyStatements(grants: Grants): Record<string, unknown>[] {
  const statements: Record<string, unknown>[] = [];
  if (grants.hsmKeys.length > 0) {
    statements.push({
      Sid: 'HsmKeys',
      Effect: 'Allow',
      Action: grants.hsmKeys.map((a) => `kms:${a}`),
      Resource: stackArn('kms', 'key/*'),
      Condition: {
        StringEquals: { 'aws:ResourceTag/coffer:deployment': thisDeployment },
        Null: { 'aws:ResourceTag/coffer:key': 'false' },
      },
    });
  }
  if (grants.createsHsmKeys.length > 0) {
    statements.push(
      ...createAndTagKeys('Hsm', {
        origins: grants.createsHsmKeys,
        specs: HSM_KEY_SPECS,
        usages: ['SIGN_VERIFY', 'ENCRYPT_DECRYPT'],
        perKey: true,
        tags: HSM_KEY_TAGS,
      }),
    );
  }
  // IAM defines no resource for kms:GenerateRandom: it can only be granted on "*".
  if (grants.randomBytes) statements.push({ Sid: 'RandomBytes', Effect: 'Allow', Action: 'kms:GenerateRandom', Resource: '*' });
  return statements;
}

/**
 * Event subscriptions on the deployment's bus (lib/aws/eventbridge-subscriptions.ts): rules named
 * `es-*` on this stack's bus (its name is the stack's), and connections and API destinations named
 * `<stack>-es-*` (they are per account), with the secrets EventBridge keeps a connection's parameters
 * in; targets may only be this stack's subscription destinations, and the only role passed is the
 * delivery role (infra/events.yml), to EventBridge. Removing needs the deletes only.
 */
function eventSubscriptionStatements(grants: Grants): Record<string, unknown>[] {
  if (grants.eventSubscriptions.length === 0) return [];
  const realizes = grants.eventSubscriptions.includes('realize');
  const rules = stackArn('events', 'rule/${AWS::StackName}/es-*');
  const destinations = stackArn('events', 'api-destination/${AWS::StackName}-es-*');
  const connections = stackArn('events', 'connection/${AWS::StackName}-es-*');
  const statements: Record<string, unknown>[] = [
    {
      Sid: 'SubscriptionRules',
      Effect: 'Allow',
      Action: realizes ? ['events:DeleteRule', 'events:PutRule', 'events:RemoveTargets'] : ['events:DeleteRule', 'events:RemoveTargets'],
      Resource: rules,
    },
    {
      Sid: 'SubscriptionDestinations',
      Effect: 'Allow',
      Action: realizes
        ? [
            'events:CreateApiDestination',
            'events:CreateConnection',
            'events:DeleteApiDestination',
            'events:DeleteConnection',
            'events:DescribeConnection',
            'events:UpdateApiDestination',
            'events:UpdateConnection',
          ]
        : ['events:DeleteApiDestination', 'events:DeleteConnection'],
      Resource: [destinations, connections],
    },
    {
      Sid: 'SubscriptionConnectionSecrets',
      Effect: 'Allow',
      Action: realizes
        ? [
            'secretsmanager:CreateSecret',
            'secretsmanager:DeleteSecret',
            'secretsmanager:DescribeSecret',
            'secretsmanager:PutSecretValue',
            'secretsmanager:UpdateSecret',
          ]
        : ['secretsmanager:DeleteSecret', 'secretsmanager:DescribeSecret'],
      Resource: stackArn('secretsmanager', 'secret:events!connection/${AWS::StackName}-es-*'),
    },
  ];
  if (realizes) {
    statements.push(
      {
        Sid: 'SubscriptionTargets',
        Effect: 'Allow',
        Action: 'events:PutTargets',
        Resource: rules,
        Condition: { ArnLike: { 'events:TargetArn': destinations } },
      },
      {
        Sid: 'PassDeliveryRole',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': ['EventDeliveryRole', 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'events.amazonaws.com' } },
      },
    );
  }
  return statements;
}

/** The role API Gateway assumes to invoke the operations (`apiInvokeRole`). */
export const API_INVOKE_ROLE = 'ApiInvokeRole';

interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
}

/**
 * What `npm run package` does to the template serverless compiled (and to its copy in
 * serverless-state.json, which `serverless deploy --package` deploys): API Gateway invokes the
 * operations with one role instead of one resource policy statement per function.
 *
 * serverless gives every function an HTTP API event reaches an `AWS::Lambda::Permission` of its own,
 * one resource per operation against CloudFormation's 500 per stack (docs/deploy.md). An HTTP API
 * Lambda integration may name a role instead (`CredentialsArn`): one role, which only API Gateway
 * may assume and only for this stage's API (`aws:SourceArn`), allowed to invoke exactly the functions
 * whose permissions it replaces. What may invoke what is unchanged; only where it is written is.
 */
export function apiInvokeRole(resources: Record<string, TemplateResource>): Record<string, TemplateResource> {
  const permissions = Object.entries(resources).filter(
    ([, r]) => r.Type === 'AWS::Lambda::Permission' && r.Properties?.Principal === 'apigateway.amazonaws.com',
  );
  if (permissions.length === 0)
    throw new Error('no API Gateway invoke permissions in the compiled template: did serverless change how it grants them?');
  const integrations = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Integration');
  const result = { ...resources };
  const invoked: unknown[] = [];
  for (const [id, permission] of permissions) {
    invoked.push(permission.Properties!.FunctionName);
    delete result[id];
  }
  for (const [id, integration] of integrations) {
    const target = JSON.stringify(integration.Properties?.IntegrationUri);
    if (!invoked.some((fn) => JSON.stringify(fn) === target)) throw new Error(`${id} invokes a function no API Gateway permission covered`);
    result[id] = { ...integration, Properties: { ...integration.Properties, CredentialsArn: { 'Fn::GetAtt': [API_INVOKE_ROLE, 'Arn'] } } };
  }
  result[API_INVOKE_ROLE] = {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: { 'Fn::Sub': '${AWS::StackName}: API Gateway invoking the operations of this stage' },
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'apigateway.amazonaws.com' },
            Action: 'sts:AssumeRole',
            // Only this stack's API, in this account, may have API Gateway assume it (no confused deputy).
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*' } },
            },
          },
        ],
      },
      Policies: [
        {
          PolicyName: 'invoke-operations',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Sid: 'InvokeOperations', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: invoked }],
          },
        },
      ],
    },
  };
  return result;
}

/**
 * The function behind the `$default` route (lib/http/middleware/unmatched.ts, composed in
 * lib/runtime/gateway.ts). It answers within the operation it forwards to (10 s) and its own work.
 */
export const unmatchedRequests = {
  key: 'RouteUnmatchedRequests',
  handler: 'gateway/route-unmatched-requests',
  description: 'What no HTTP API route key matched: routed by the route table to its operation, or refused (404, 405) and audited',
} as const;
const UNMATCHED_TIMEOUT_SECONDS = 14;

/**
 * The `$default` function's role: what its audited refusals need, as a data-plane pipeline's
 * context and answer (the vault record the host names, and a strict vault's audit record; no key,
 * no role assignment: it authorizes nothing), and invoking exactly this stage's operation
 * functions, to which it hands what the route table matches.
 */
function unmatchedRequestsRole(routes: readonly Route[]) {
  const grants: Grants = { ...noGrants(), writes: 'vaultObjects', objects: ['GetItem'], audit: ['PutItem'] };
  const role = roleResource([unmatchedRequests.key], grants);
  role.Properties.Policies[0]!.PolicyDocument.Statement.push({
    Sid: 'InvokeOperations',
    Effect: 'Allow',
    Action: 'lambda:InvokeFunction',
    Resource: routes.map((route) => ({ 'Fn::GetAtt': [`${functionKey(route)}LambdaFunction`, 'Arn'] })),
  });
  return role;
}
