import { expect, it } from 'vitest';
import { ListResourceTagsCommand, KMSClient as SdkKmsClient } from '@aws-sdk/client-kms';
import { type LambdaHandler, lambdaContext, lambdaEvent } from '../../dev/lambda-event.ts';
import { BACKUP_KEY_ALIAS } from '../../dev/local-environment.ts';
import { functionEnvironment } from '../../dev/stack.ts';
import { CONTROL_PLANE_PARTITIONS, type Grants, OBJECTS_READ_ACTIONS, POOL_PARTITIONS, permissionsFor } from '../../infra/permissions.ts';
import { DynamoDBDocumentClient } from '../../lib/aws/api/dynamodb.ts';
import { CreateKeyCommand, DecryptCommand, GenerateDataKeyCommand, GenerateRandomCommand, KMSClient } from '../../lib/aws/api/kms.ts';
import { localRoutes, matchRoute, type Route } from '../../lib/http/routes.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { resetServices } from '../../lib/runtime/services.ts';
import { adminSecretCredential, localStack } from '../support/local.ts';

/**
 * What the IAM coverage tests share (iam-coverage.test.ts for the data planes,
 * iam-coverage-management.test.ts for the management plane): the production handlers run in-process
 * against the local stack's DynamoDB and KMS, every AWS call an operation makes is recorded, and each
 * is checked against what infra/permissions.ts grants the operation's role, with the conditions the
 * generated policies put on it (infra/serverless-config.ts). Services are rebuilt before every
 * request, so every operation runs as on a cold container: no cache hides a call it makes.
 */
type Target =
  | 'objects'
  | 'audit'
  | 'vaultKey'
  | 'backupKey'
  | 'poolToken'
  | 'poolObjects'
  | 'hsmKeys'
  | 'createKey'
  | 'createVaultKey'
  | 'random'
  | 'other';

export interface Call {
  target: Target;
  action: string;
  detail: string;
}

/** The deployment the functions run as: it tags the KMS keys they create, and IAM grants them only those. */
const DEPLOYMENT = 'coffer-iam-coverage';

/** What a CreateKey request must tag for the IAM conditions in infra/serverless-config.ts to allow it. */
const REQUIRED_HSM_TAGS = ['coffer:deployment', 'coffer:key', 'coffer:vault'];
const ALLOWED_HSM_TAGS = [...REQUIRED_HSM_TAGS, 'coffer:tenant'];
const REQUIRED_VAULT_KEY_TAGS = ['coffer:deployment', 'coffer:vault'];
const ALLOWED_VAULT_KEY_TAGS = [...REQUIRED_VAULT_KEY_TAGS, 'coffer:tenant'];

/** IAM's StringLike: the whole value, `*` any characters (a pattern may start with one: `*#event_subscriptions`). */
const stringLike = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
/** A write to a control-plane record (infra/permissions.ts): only management roles may make one. */
const CONTROL_PLANE_MATCHERS = CONTROL_PLANE_PARTITIONS.map(stringLike);
const isControlPlane = (partition: string) => CONTROL_PLANE_MATCHERS.some((matcher) => matcher.test(partition));
/** Whether a partition is one of the pools' records the patterns name (a pool data-plane role's LeadingKeys condition). */
const isPoolRecord = (partition: string, records: readonly (keyof typeof POOL_PARTITIONS)[]) =>
  records.some((records) => stringLike(POOL_PARTITIONS[records]).test(partition));
const ALL_POOL_RECORDS = Object.keys(POOL_PARTITIONS) as (keyof typeof POOL_PARTITIONS)[];

/** Who calls, and at which host. */
export interface Caller {
  token: () => Promise<string>;
  host: () => string;
  /** Only this plane's rows: a pool's host serves its own rows, whose paths are the vaults' too (`/keys/{name}`). */
  plane?: Route['plane'];
}

export interface Answer {
  status: number;
  json: any;
  headers: Record<string, string>;
}

/** The stack's administrator on the management plane: the caller that sets each scenario up. */
export const managementAdministrator: Caller = {
  token: async () => (await adminSecretCredential().getToken(localStack().managementScope))!.token,
  host: () => new URL(localStack().managementUrl).host,
};

/** The answer's JSON, once its status is one of `status` (the JSON is the failure's message). */
export async function expectStatus(status: number | number[], response: Promise<Answer>) {
  const { status: actual, json } = await response;
  expect([status].flat(), JSON.stringify(json)).toContain(actual);
  return json;
}

export class CallRecording {
  /** Every call, by the operation that made it. */
  readonly calls = new Map<string, Call[]>();
  /** The tags of every KMS key a call named, read by `readKeyTags` (IAM grants those calls by tag). */
  private readonly keyTags = new Map<string, Record<string, string>>();
  private current: string | undefined;
  private readonly restore: (() => void)[] = [];
  private readonly savedEnv = { ...process.env };

  /** Points the handlers at the local stack as the deployment `DEPLOYMENT`, and starts recording. */
  start(): void {
    Object.assign(process.env, functionEnvironment(localStack()), { COFFER_BACKUP_KEY_ID: BACKUP_KEY_ALIAS, COFFER_DEPLOYMENT: DEPLOYMENT });
    resetConfig();
    for (const [client, recorder] of [
      [DynamoDBDocumentClient, (command: any) => this.recordDynamo(command)],
      [KMSClient, (command: any) => this.recordKms(command)],
    ] as const) {
      const send = client.prototype.send;
      client.prototype.send = function recordingSend(this: unknown, command: any, ...rest: unknown[]) {
        recorder(command);
        return (send as (...args: unknown[]) => unknown).call(this, command, ...rest);
      } as typeof send;
      this.restore.push(() => {
        client.prototype.send = send;
      });
    }
  }

  stop(): void {
    for (const undo of this.restore) undo();
    for (const name of Object.keys(process.env)) if (!(name in this.savedEnv)) delete process.env[name];
    Object.assign(process.env, this.savedEnv);
    resetConfig();
    resetServices();
  }

  /** One request through the operation's production handler, its AWS calls recorded under its name. */
  async call(method: string, path: string, body: unknown, caller: Caller): Promise<Answer> {
    const url = new URL(path, 'https://localhost');
    // Both stacks' rows: the pools' operations deploy with a stack of their own (docs/adr/0020).
    const { match } = matchRoute(method, url.pathname, caller.plane ? (route) => route.plane === caller.plane : undefined, localRoutes);
    if (!match) throw new Error(`no route for ${method} ${url.pathname}`);
    const route: Route = match.route;
    const module = new URL(`../../functions/${route.handler}.ts`, import.meta.url).pathname;
    const { handler } = (await import(/* @vite-ignore */ module)) as { handler: LambdaHandler };
    const event = lambdaEvent({
      method,
      url: path,
      headers: {
        authorization: `Bearer ${await caller.token()}`,
        'content-type': 'application/json',
        'user-agent': 'iam-coverage',
        host: caller.host(),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      match,
    });
    const context = lambdaContext(route.operation);
    resetServices();
    this.current = route.operation;
    try {
      const result = await handler(event, context);
      const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
      return { status: result.statusCode ?? 200, json: result.body ? JSON.parse(result.body) : undefined, headers };
    } finally {
      this.current = undefined;
    }
  }

  /**
   * A function no route reaches (the pools' sweep: infra/pool-stack.ts), run in-process on a cold
   * container as the operations are, its AWS calls recorded under `name`.
   */
  async run<T>(name: string, work: () => Promise<T>): Promise<T> {
    resetServices();
    this.current = name;
    try {
      return await work();
    } finally {
      this.current = undefined;
    }
  }

  /** Reads the tags of every KMS key a recorded call named: the IAM conditions on those calls are on tags. */
  async readKeyTags(): Promise<void> {
    const kms = new SdkKmsClient({});
    try {
      const keyIds = new Set(
        [...this.calls.values()]
          .flat()
          .filter((c) => c.target === 'hsmKeys')
          .map((c) => c.detail),
      );
      for (const keyId of keyIds) {
        const { Tags = [] } = await kms.send(new ListResourceTagsCommand({ KeyId: keyId }));
        this.keyTags.set(keyId, Object.fromEntries(Tags.map((t) => [t.TagKey ?? '', t.TagValue ?? ''])));
      }
    } finally {
      kms.destroy();
    }
  }

  /** The calls the operation made that its role would not allow, described; empty when all are covered. */
  refused(operation: string): string[] {
    const granted = permissionsFor(operation);
    return (this.calls.get(operation) ?? []).filter((c) => !this.allowed(granted, c)).map((c) => `${c.action} on ${c.target} (${c.detail})`);
  }

  /** The grants of the operation no recorded call used. */
  unused(operation: string): string[] {
    const granted = permissionsFor(operation);
    const grants = [
      ...(
        [
          'objects',
          'audit',
          'vaultKey',
          'backupKey',
          'poolToken',
          'poolObjects',
          'poolWrites',
          'hsmKeys',
          'createsHsmKeys',
          'vaultKeyLifecycle',
        ] as const
      ).flatMap((field) => (granted[field] as readonly string[]).map((action) => `${field}:${action}`)),
      ...(granted.randomBytes ? ['randomBytes'] : []),
      ...(granted.createsVaultKeys ? ['createsVaultKeys'] : []),
    ];
    const used = new Set((this.calls.get(operation) ?? []).flatMap((c) => this.grantsOf(c, granted)));
    return grants.filter((grant) => !used.has(grant));
  }

  private record(call: Call) {
    if (!this.current) return;
    this.calls.set(this.current, [...(this.calls.get(this.current) ?? []), call]);
  }

  private isVaultKey(keyId: string): boolean {
    const tags = this.keyTags.get(keyId) ?? {};
    return tags['coffer:key'] === undefined && tags['coffer:vault'] !== undefined;
  }

  private allowed(granted: Grants, c: Call): boolean {
    switch (c.target) {
      case 'objects': {
        if (!(granted.objects as readonly string[]).includes(c.action)) return false;
        // The IAM conditions of a pool's data plane: reads of pools' records, writes of the ones its entry names.
        if (granted.writes === 'pools') {
          const read = (OBJECTS_READ_ACTIONS as readonly string[]).includes(c.action);
          return isPoolRecord(c.detail, read ? ALL_POOL_RECORDS : granted.poolWrites);
        }
        if ((OBJECTS_READ_ACTIONS as readonly string[]).includes(c.action) || granted.writes === 'both') return true;
        // The IAM conditions: data-plane writes are denied on control-plane records, management writes reach only those.
        return isControlPlane(c.detail) === (granted.writes === 'controlPlane');
      }
      case 'audit':
        return (granted.audit as readonly string[]).includes(c.action);
      case 'vaultKey':
        // The IAM conditions: new data keys only for objects, or a new vault's paging key; decryption also of the paging key.
        if (c.action === 'GenerateDataKey' && c.detail === 'paging-token') return granted.createsVaultKeys;
        return (
          (granted.vaultKey as readonly string[]).includes(c.action) &&
          (c.action === 'Decrypt' ? ['objects', 'paging-token'] : ['objects']).includes(c.detail)
        );
      case 'backupKey':
        return (granted.backupKey as readonly string[]).includes(c.action) && c.detail === 'backup';
      // The IAM conditions: the backup key under a pool's contexts (recordKms classifies by them).
      case 'poolToken':
        return (granted.poolToken as readonly string[]).includes(c.action) && c.detail.length > 0;
      case 'poolObjects':
        return (granted.poolObjects as readonly string[]).includes(c.action) && stringLike(POOL_PARTITIONS.record).test(c.detail);
      case 'hsmKeys': {
        // The IAM conditions: only this deployment's KMS keys that are HSM key versions, or (purging a vault) its own key.
        const tags = this.keyTags.get(c.detail) ?? {};
        if (tags['coffer:deployment'] !== DEPLOYMENT) return false;
        if (this.isVaultKey(c.detail)) return (granted.vaultKeyLifecycle as readonly string[]).includes(c.action);
        return tags['coffer:key'] !== undefined && (granted.hsmKeys as readonly string[]).includes(c.action);
      }
      case 'createKey': {
        const tags = c.detail.split(',');
        return (
          (granted.createsHsmKeys as readonly string[]).includes(c.action) &&
          REQUIRED_HSM_TAGS.every((t) => tags.includes(t)) &&
          tags.every((t) => ALLOWED_HSM_TAGS.includes(t))
        );
      }
      case 'createVaultKey': {
        const [tagList = '', spec] = c.detail.split(';');
        const tags = tagList.split(',');
        return (
          granted.createsVaultKeys &&
          c.action === 'AWS_KMS' &&
          spec === 'SYMMETRIC_DEFAULT/ENCRYPT_DECRYPT' &&
          REQUIRED_VAULT_KEY_TAGS.every((t) => tags.includes(t)) &&
          tags.every((t) => ALLOWED_VAULT_KEY_TAGS.includes(t))
        );
      }
      case 'random':
        return granted.randomBytes;
      default:
        return false;
    }
  }

  /** The grants a call uses: one, and for a pool's write the pools' records it reaches too. */
  private grantsOf(c: Call, granted: Grants): string[] {
    const grant = this.grantOf(c);
    if (c.target !== 'objects' || granted.writes !== 'pools' || (OBJECTS_READ_ACTIONS as readonly string[]).includes(c.action)) return [grant];
    return [grant, ...granted.poolWrites.filter((records) => isPoolRecord(c.detail, [records])).map((records) => `poolWrites:${records}`)];
  }

  private grantOf(c: Call): string {
    if (c.target === 'random') return 'randomBytes';
    if (c.target === 'createVaultKey' || (c.target === 'vaultKey' && c.action === 'GenerateDataKey' && c.detail === 'paging-token')) {
      return 'createsVaultKeys';
    }
    if (c.target === 'hsmKeys' && this.isVaultKey(c.detail)) return `vaultKeyLifecycle:${c.action}`;
    if (c.target === 'createKey') return `createsHsmKeys:${c.action}`;
    return `${c.target}:${c.action}`;
  }

  private table(name: unknown): Target {
    const info = localStack();
    if (name === info.tables.objects) return 'objects';
    if (name === info.tables.audit) return 'audit';
    return 'other';
  }

  private recordDynamo(command: { constructor: { name: string }; input: any }) {
    const input = command.input;
    const simple: Record<string, string> = {
      GetCommand: 'GetItem',
      PutCommand: 'PutItem',
      UpdateCommand: 'UpdateItem',
      DeleteCommand: 'DeleteItem',
      QueryCommand: 'Query',
    };
    const partitionOf = (item: any) => String(item?.Key?.pk ?? item?.Item?.pk ?? '');
    const action = simple[command.constructor.name];
    if (action) {
      this.record({
        target: this.table(input.TableName),
        action,
        // A Query of an index names the index (its grant is on the index's ARN), not a partition of the table.
        detail: partitionOf(input) || (input.IndexName ? `index/${input.IndexName}` : String(input.ExpressionAttributeValues?.[':pk'] ?? '')),
      });
    } else if (command.constructor.name === 'TransactWriteCommand') {
      for (const item of input.TransactItems ?? []) {
        const [kind, request] = Object.entries(item)[0] as [string, any];
        const actions: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' };
        this.record({ target: this.table(request.TableName), action: actions[kind] ?? `Transact${kind}`, detail: partitionOf(request) });
      }
    } else if (command.constructor.name === 'BatchGetCommand') {
      for (const [name, request] of Object.entries(input.RequestItems ?? {})) {
        for (const key of (request as any).Keys ?? [])
          this.record({ target: this.table(name), action: 'BatchGetItem', detail: String(key.pk ?? '') });
      }
    } else if (command.constructor.name === 'BatchWriteCommand') {
      for (const [name, requests] of Object.entries(input.RequestItems ?? {})) {
        for (const request of requests as any[]) {
          this.record({ target: this.table(name), action: 'BatchWriteItem', detail: partitionOf(request.DeleteRequest ?? request.PutRequest) });
        }
      }
    } else {
      this.record({ target: 'other', action: command.constructor.name, detail: '' });
    }
  }

  /**
   * A data key of a pool's, told by its encryption context (lib/hsm/pool-tokens.ts, lib/hsm/pool-keys.ts):
   * its token's PINs (detail: the pool) or its keys' sealed fields (detail: the context's vault, `MHSM#<pool>`);
   * a new one is made under the backup key or it is no pool's.
   */
  private poolSealing(command: unknown): Call | undefined {
    if (!(command instanceof GenerateDataKeyCommand) && !(command instanceof DecryptCommand && !command.input.EncryptionAlgorithm)) return undefined;
    const context = command.input.EncryptionContext ?? {};
    const action = command instanceof GenerateDataKeyCommand ? 'GenerateDataKey' : 'Decrypt';
    const underBackupKey = !(command instanceof GenerateDataKeyCommand) || command.input.KeyId === BACKUP_KEY_ALIAS;
    if (context['coffer:purpose'] === 'pool-token')
      return { target: underBackupKey ? 'poolToken' : 'other', action, detail: context['coffer:pool'] ?? '' };
    const vault = context['coffer:vault'] ?? '';
    if (context['coffer:purpose'] === 'objects' && vault.startsWith('MHSM#'))
      return { target: underBackupKey ? 'poolObjects' : 'other', action, detail: vault };
    return undefined;
  }

  private recordKms(command: unknown) {
    const name = (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
    const input = (command as { input: Record<string, any> }).input;
    const pool = this.poolSealing(command);
    if (pool) {
      this.record(pool);
    } else if (command instanceof GenerateDataKeyCommand) {
      const backup = command.input.KeyId === BACKUP_KEY_ALIAS;
      this.record({
        target: backup ? 'backupKey' : 'vaultKey',
        action: 'GenerateDataKey',
        detail: command.input.EncryptionContext?.['coffer:purpose'] ?? '',
      });
    } else if (command instanceof DecryptCommand && !command.input.EncryptionAlgorithm) {
      // A data key's Decrypt names no key: the ciphertext does. The encryption context says which made it.
      const purpose = command.input.EncryptionContext?.['coffer:purpose'] ?? '';
      this.record({ target: purpose === 'backup' ? 'backupKey' : 'vaultKey', action: 'Decrypt', detail: purpose });
    } else if (command instanceof CreateKeyCommand) {
      const tags = (command.input.Tags ?? []).map((t) => t.TagKey ?? '').sort();
      // An HSM key version's key is tagged coffer:key; a vault's own key is not.
      if (tags.includes('coffer:key')) {
        this.record({ target: 'createKey', action: command.input.Origin ?? 'AWS_KMS', detail: tags.join(',') });
      } else {
        const spec = `${command.input.KeySpec ?? 'SYMMETRIC_DEFAULT'}/${command.input.KeyUsage ?? 'ENCRYPT_DECRYPT'}`;
        this.record({ target: 'createVaultKey', action: command.input.Origin ?? 'AWS_KMS', detail: `${tags.join(',')};${spec}` });
      }
    } else if (command instanceof GenerateRandomCommand) {
      this.record({ target: 'random', action: 'GenerateRandom', detail: '' });
    } else if (typeof input?.KeyId === 'string') {
      // Everything else names a key: an HSM key version's, or (purging a vault) the vault's own; its tags tell.
      this.record({ target: 'hsmKeys', action: name, detail: input.KeyId });
    } else {
      this.record({ target: 'other', action: name, detail: '' });
    }
  }
}

/**
 * The checks every coverage file ends with, once its scenario ran: each named operation was driven,
 * called only what it is granted, and is granted nothing it never calls (beyond its UNREACHED list).
 */
export function coverageChecks(options: {
  recording: CallRecording;
  scenario: readonly string[];
  covered: readonly Route[];
  uncovered: readonly Route[];
  unreached: Record<string, string[]>;
}): void {
  const { recording, scenario, covered, uncovered, unreached } = options;
  it('exercises every operation it names', () => {
    expect(scenario.filter((operation) => !recording.calls.has(operation))).toEqual([]);
  });

  for (const route of uncovered) it.todo(`${route.operation}: add scenario steps to check its grants`);

  it.each(covered.map((r) => [r.operation]))('%s calls only what infra/permissions.ts grants it', (operation) => {
    expect(recording.calls.get(operation)?.length).toBeGreaterThan(0);
    expect(recording.refused(operation)).toEqual([]);
  });

  it.each(covered.map((r) => [r.operation]))('%s is granted nothing it does not call', (operation) => {
    expect(recording.unused(operation)).toEqual(unreached[operation] ?? []);
  });
}
