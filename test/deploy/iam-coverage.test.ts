import { createHash, generateKeyPairSync } from 'node:crypto';
import { ListResourceTagsCommand, KMSClient as SdkKmsClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LambdaHandler, lambdaContext, lambdaEvent } from '../../dev/lambda-event.ts';
import { BACKUP_KEY_ALIAS } from '../../dev/local-environment.ts';
import { functionEnvironment } from '../../dev/stack.ts';
import { DynamoDBDocumentClient } from '../../lib/aws/api/dynamodb.ts';
import { CreateKeyCommand, DecryptCommand, GenerateDataKeyCommand, GenerateRandomCommand, KMSClient } from '../../lib/aws/api/kms.ts';
import { resetConfig } from '../../lib/runtime/config.ts';
import { matchRoute, type Route, routes } from '../../lib/http/routes.ts';
import { resetServices } from '../../lib/runtime/services.ts';
import { controlPlanePartitionPattern, OBJECTS_READ_ACTIONS, permissionsFor } from '../../infra/permissions.ts';
import { adminToken, localStack, uniqueName } from '../support/local.ts';
import { createLocalVault } from '../support/vaults.ts';

/**
 * The local stack has no IAM, so a grant missing from infra/permissions.ts would pass every other
 * test and fail in AWS with AccessDenied. This runs the production handlers in-process against the
 * local stack's DynamoDB and KMS, records every AWS call each operation makes, and checks each one is
 * covered by what the operation's role is granted (resource, action and KMS encryption context).
 *
 * Services are rebuilt before every request, so every operation runs as on a cold container: no
 * cached vault record, paging key or data key hides a call it makes. The requests address a vault with
 * strict audit, so the pipeline's own write, the audit record to the audit table, is among the calls
 * (another vault's record goes to the function's log stream, which needs no grant beyond its own log
 * group; the delivery function's calls are checked in iam-coverage-events.test.ts).
 */
type Target = 'objects' | 'audit' | 'vaultKey' | 'backupKey' | 'hsmKeys' | 'createKey' | 'random' | 'other';

interface Call {
  target: Target;
  action: string;
  detail: string;
}

/** The deployment the functions run as: it tags the KMS keys they create, and IAM grants them only those. */
const DEPLOYMENT = 'coffer-iam-coverage';
const calls = new Map<string, Call[]>();
/** The tags of every KMS key an HSM key call named, read after the scenario (IAM grants those calls by tag). */
const hsmKeyTags = new Map<string, Record<string, string>>();
let current: string | undefined;
/** The vault the scenario runs in: one with strict audit. */
let vaultHost: string;
const restore: (() => void)[] = [];
const savedEnv = { ...process.env };

function record(call: Call) {
  if (!current) return;
  calls.set(current, [...(calls.get(current) ?? []), call]);
}

function table(name: unknown): Target {
  const info = localStack();
  if (name === info.tables.objects) return 'objects';
  if (name === info.tables.audit) return 'audit';
  return 'other';
}

function recordDynamo(command: { constructor: { name: string }; input: any }) {
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
    record({ target: table(input.TableName), action, detail: partitionOf(input) || String(input.ExpressionAttributeValues?.[':pk'] ?? '') });
  } else if (command.constructor.name === 'TransactWriteCommand') {
    for (const item of input.TransactItems ?? []) {
      const [kind, request] = Object.entries(item)[0] as [string, any];
      const actions: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' };
      record({ target: table(request.TableName), action: actions[kind] ?? `Transact${kind}`, detail: partitionOf(request) });
    }
  } else if (command.constructor.name === 'BatchGetCommand') {
    for (const [name, request] of Object.entries(input.RequestItems ?? {})) {
      for (const key of (request as any).Keys ?? []) record({ target: table(name), action: 'BatchGetItem', detail: String(key.pk ?? '') });
    }
  } else if (command.constructor.name === 'BatchWriteCommand') {
    for (const [name, requests] of Object.entries(input.RequestItems ?? {})) {
      for (const request of requests as any[])
        record({ target: table(name), action: 'BatchWriteItem', detail: partitionOf(request.DeleteRequest ?? request.PutRequest) });
    }
  } else {
    record({ target: 'other', action: command.constructor.name, detail: '' });
  }
}

function recordKms(command: unknown) {
  const name = (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
  const input = (command as { input: Record<string, any> }).input;
  if (command instanceof GenerateDataKeyCommand) {
    const backup = command.input.KeyId === BACKUP_KEY_ALIAS;
    record({
      target: backup ? 'backupKey' : 'vaultKey',
      action: 'GenerateDataKey',
      detail: command.input.EncryptionContext?.['coffer:purpose'] ?? '',
    });
  } else if (command instanceof DecryptCommand && !command.input.EncryptionAlgorithm) {
    // A data key's Decrypt names no key: the ciphertext does. The encryption context says which made it.
    const purpose = command.input.EncryptionContext?.['coffer:purpose'] ?? '';
    record({ target: purpose === 'backup' ? 'backupKey' : 'vaultKey', action: 'Decrypt', detail: purpose });
  } else if (command instanceof CreateKeyCommand) {
    const tags = (command.input.Tags ?? []).map((t) => t.TagKey ?? '');
    record({ target: 'createKey', action: command.input.Origin ?? 'AWS_KMS', detail: tags.sort().join(',') });
  } else if (command instanceof GenerateRandomCommand) {
    record({ target: 'random', action: 'GenerateRandom', detail: '' });
  } else if (typeof input?.KeyId === 'string') {
    // Everything else on a key is an HSM key version: its asymmetric operations and its life cycle.
    record({ target: 'hsmKeys', action: name, detail: input.KeyId });
  } else {
    record({ target: 'other', action: name, detail: '' });
  }
}

beforeAll(async () => {
  vaultHost = (await createLocalVault('iamstrict', { strictAudit: true })).host;
  const info = localStack();
  Object.assign(process.env, functionEnvironment(info), { COFFER_BACKUP_KEY_ID: BACKUP_KEY_ALIAS, COFFER_DEPLOYMENT: DEPLOYMENT });
  resetConfig();
  for (const [client, recorder] of [
    [DynamoDBDocumentClient, recordDynamo],
    [KMSClient, recordKms],
  ] as const) {
    const send = client.prototype.send;
    client.prototype.send = function recordingSend(this: unknown, command: any, ...rest: unknown[]) {
      recorder(command);
      return (send as (...args: unknown[]) => unknown).call(this, command, ...rest);
    } as typeof send;
    restore.push(() => {
      client.prototype.send = send;
    });
  }
});

afterAll(() => {
  for (const undo of restore) undo();
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  resetConfig();
  resetServices();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const url = new URL(path, 'https://localhost');
  const { match } = matchRoute(method, url.pathname);
  if (!match) throw new Error(`no route for ${method} ${url.pathname}`);
  const route: Route = match.route;
  const module = new URL(`../../functions/${route.handler}.ts`, import.meta.url).pathname;
  const { handler } = (await import(/* @vite-ignore */ module)) as { handler: LambdaHandler };
  const event = lambdaEvent({
    method,
    url: path,
    headers: {
      authorization: `Bearer ${await adminToken()}`,
      'content-type': 'application/json',
      'user-agent': 'iam-coverage',
      host: vaultHost,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    match,
  });
  const context = lambdaContext(route.operation);
  resetServices();
  current = route.operation;
  try {
    const result = await handler(event, context);
    return { status: result.statusCode ?? 200, json: result.body ? JSON.parse(result.body) : undefined };
  } finally {
    current = undefined;
  }
}

const V = 'api-version=7.6';
/** A SHA-256 digest, what sign and verify take. */
const DIGEST = createHash('sha256').update('iam-coverage').digest().toString('base64url');

/** The operations the scenario below drives; the others are listed as todo until it has steps for them. */
const SCENARIO = [
  'SetSecret',
  'GetSecret',
  'GetSecrets',
  'GetSecretVersions',
  'UpdateSecret',
  'BackupSecret',
  'DeleteSecret',
  'GetDeletedSecrets',
  'GetDeletedSecret',
  'RecoverDeletedSecret',
  'PurgeDeletedSecret',
  'RestoreSecret',
  'CreateKey',
  'ImportKey',
  'GetKeys',
  'GetKeyVersions',
  'GetKey',
  'UpdateKey',
  'DeleteKey',
  'BackupKey',
  'RestoreKey',
  'Encrypt',
  'Decrypt',
  'WrapKey',
  'UnwrapKey',
  'Sign',
  'Verify',
  'RotateKey',
  'GetKeyRotationPolicy',
  'UpdateKeyRotationPolicy',
  'GetDeletedKeys',
  'GetDeletedKey',
  'PurgeDeletedKey',
  'RecoverDeletedKey',
  'GetRandomBytes',
  'ReleaseKey',
  'GetKeyAttestation',
];
const covered = routes.filter((r) => SCENARIO.includes(r.operation));
const uncovered = routes.filter((r) => !SCENARIO.includes(r.operation));

/**
 * Grants of a covered operation that no step uses, because the path that needs them cannot be driven
 * from here; infra/permissions.ts says at each why it is granted all the same. Any other grant no call
 * uses is one too many.
 */
const UNREACHED: Record<string, string[]> = {
  // Undoing the versions a restore wrote when the name was taken between its check and its head write.
  RestoreSecret: ['objects:BatchWriteItem'],
  RestoreKey: ['objects:BatchWriteItem', 'hsmKeys:ScheduleKeyDeletion'],
  // Undoing a KMS change when the store write after it fails (lib/keys/hsm-changes.ts, changeHsmThenStore).
  CreateKey: ['hsmKeys:ScheduleKeyDeletion'],
  ImportKey: ['hsmKeys:ScheduleKeyDeletion'],
  RotateKey: ['hsmKeys:ScheduleKeyDeletion'],
  DeleteKey: ['hsmKeys:EnableKey'],
  RecoverDeletedKey: ['hsmKeys:DisableKey'],
  PurgeDeletedKey: ['hsmKeys:CancelKeyDeletion'],
};

/** What a CreateKey request must tag for the IAM conditions in infra/serverless-config.ts to allow it. */
const REQUIRED_HSM_TAGS = ['coffer:deployment', 'coffer:key', 'coffer:vault'];
const ALLOWED_HSM_TAGS = [...REQUIRED_HSM_TAGS, 'coffer:tenant'];

describe('every AWS call an operation makes is granted to its function', () => {
  beforeAll(async () => {
    const name = uniqueName('iam');
    const other = uniqueName('iam');
    const expectStatus = async (status: number, response: Promise<{ status: number; json: any }>) => {
      const { status: actual, json } = await response;
      expect(actual, JSON.stringify(json)).toBe(status);
      return json;
    };
    const next = (page: { nextLink: string }) => new URL(page.nextLink).pathname + new URL(page.nextLink).search;
    const first = await expectStatus(200, call('PUT', `/secrets/${name}?${V}`, { value: 'one' }));
    await expectStatus(200, call('PUT', `/secrets/${name}?${V}`, { value: 'two' }));
    await expectStatus(200, call('PUT', `/secrets/${other}?${V}`, { value: 'three' }));
    const firstVersion = String(first.id).split('/').pop();
    await expectStatus(200, call('GET', `/secrets/${name}/?${V}`));
    await expectStatus(200, call('GET', `/secrets/${name}/${firstVersion}?${V}`));
    // maxresults=1 makes a next page, so the paging key signs a $skiptoken...
    const page = await expectStatus(200, call('GET', `/secrets?${V}&maxresults=1`));
    // ...and following it opens one.
    await expectStatus(200, call('GET', next(page)));
    await expectStatus(200, call('GET', `/secrets/${name}/versions?${V}&maxresults=1`));
    // The latest version (the head changes with it) and an older one (the head is only checked).
    await expectStatus(200, call('PATCH', `/secrets/${name}/?${V}`, { contentType: 'text/plain' }));
    await expectStatus(200, call('PATCH', `/secrets/${name}/${firstVersion}?${V}`, { tags: { old: 'yes' } }));
    const backup = await expectStatus(200, call('POST', `/secrets/${name}/backup?${V}`));
    await expectStatus(200, call('DELETE', `/secrets/${name}?${V}`));
    await expectStatus(200, call('GET', `/deletedsecrets?${V}&maxresults=1`));
    await expectStatus(200, call('GET', `/deletedsecrets/${name}?${V}`));
    await expectStatus(200, call('POST', `/deletedsecrets/${name}/recover?${V}`));
    await expectStatus(200, call('DELETE', `/secrets/${name}?${V}`));
    await expectStatus(204, call('DELETE', `/deletedsecrets/${name}?${V}`));
    await expectStatus(200, call('POST', `/secrets/restore?${V}`, { value: backup.value }));
    await expectStatus(409, call('POST', `/secrets/restore?${V}`, { value: backup.value }));

    // Keys. Each private operation once on a software key (the sealed private key is opened) and once
    // on an HSM key (KMS does it); the public ones run in the function either way.
    const versionOf = (bundle: { key: { kid: string } }) => String(bundle.key.kid).split('/').pop();
    const ecJwk = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const plaintext = Buffer.alloc(32, 7).toString('base64url');
    // Each operation on the latest version (one GetItem of the head) and on the version named by the
    // answer's kid (one BatchGetItem of head and version).
    const roundTrip = async (key: string, alg: string, [there, back]: [string, string]) => {
      const sealed = await expectStatus(200, call('POST', `/keys/${key}//${there}?${V}`, { alg, value: plaintext }));
      const opened = await expectStatus(200, call('POST', `/keys/${key}//${back}?${V}`, { alg, value: sealed.value }));
      expect(opened.value).toBe(plaintext);
      const version = String(sealed.kid).split('/').pop();
      const again = await expectStatus(200, call('POST', `/keys/${key}/${version}/${there}?${V}`, { alg, value: plaintext }));
      const reopened = await expectStatus(200, call('POST', `/keys/${key}/${version}/${back}?${V}`, { alg, value: again.value }));
      expect(reopened.value).toBe(plaintext);
    };
    const signs = async (key: string, alg: string) => {
      const signature = await expectStatus(200, call('POST', `/keys/${key}//sign?${V}`, { alg, value: DIGEST }));
      const verified = await expectStatus(200, call('POST', `/keys/${key}//verify?${V}`, { alg, digest: DIGEST, value: signature.value }));
      expect(verified.value).toBe(true);
      const version = String(signature.kid).split('/').pop();
      const named = await expectStatus(200, call('POST', `/keys/${key}/${version}/sign?${V}`, { alg, value: DIGEST }));
      const namedVerified = await expectStatus(200, call('POST', `/keys/${key}/${version}/verify?${V}`, { alg, digest: DIGEST, value: named.value }));
      expect(namedVerified.value).toBe(true);
    };

    // Software keys: generated, imported, rotated under a policy, listed, updated, used.
    const rsa = uniqueName('iam-rsa');
    const ec = uniqueName('iam-ec');
    const byok = uniqueName('iam-byok');
    const rsaFirst = versionOf(await expectStatus(200, call('POST', `/keys/${rsa}/create?${V}`, { kty: 'RSA', key_size: 2048 })));
    await expectStatus(200, call('POST', `/keys/${ec}/create?${V}`, { kty: 'EC', crv: 'P-256' }));
    await expectStatus(200, call('PUT', `/keys/${byok}?${V}`, { key: ecJwk() }));
    // The default policy (none stored), then one with an expiry, which rotation reads for the new exp.
    await expectStatus(200, call('GET', `/keys/${rsa}/rotationpolicy?${V}`));
    const policy = { lifetimeActions: [{ trigger: { timeAfterCreate: 'P90D' }, action: { type: 'Rotate' } }], attributes: { expiryTime: 'P1Y' } };
    await expectStatus(200, call('PUT', `/keys/${rsa}/rotationpolicy?${V}`, policy));
    await expectStatus(200, call('GET', `/keys/${rsa}/rotationpolicy?${V}`));
    await expectStatus(200, call('POST', `/keys/${rsa}/rotate?${V}`));
    await expectStatus(200, call('GET', `/keys/${rsa}/?${V}`));
    await expectStatus(200, call('GET', `/keys/${rsa}/${rsaFirst}?${V}`));
    const keyPage = await expectStatus(200, call('GET', `/keys?${V}&maxresults=1`));
    await expectStatus(200, call('GET', next(keyPage)));
    await expectStatus(200, call('GET', `/keys/${rsa}/versions?${V}&maxresults=1`));
    await expectStatus(200, call('PATCH', `/keys/${rsa}/?${V}`, { tags: { use: 'iam' } }));
    await expectStatus(200, call('PATCH', `/keys/${rsa}/${rsaFirst}?${V}`, { attributes: { enabled: false } }));
    await roundTrip(rsa, 'RSA-OAEP', ['encrypt', 'decrypt']);
    await roundTrip(rsa, 'RSA-OAEP-256', ['wrapkey', 'unwrapkey']);
    await signs(rsa, 'PS256');
    await signs(ec, 'ES256');
    await signs(byok, 'ES256');

    // A software key's life cycle, as for secrets.
    const ecBackup = await expectStatus(200, call('POST', `/keys/${ec}/backup?${V}`));
    await expectStatus(200, call('DELETE', `/keys/${ec}?${V}`));
    await expectStatus(200, call('GET', `/deletedkeys?${V}&maxresults=1`));
    await expectStatus(200, call('GET', `/deletedkeys/${ec}?${V}`));
    await expectStatus(200, call('POST', `/deletedkeys/${ec}/recover?${V}`));
    await expectStatus(200, call('DELETE', `/keys/${ec}?${V}`));
    await expectStatus(204, call('DELETE', `/deletedkeys/${ec}?${V}`));
    await expectStatus(200, call('POST', `/keys/restore?${V}`, { value: ecBackup.value }));
    await expectStatus(409, call('POST', `/keys/restore?${V}`, { value: ecBackup.value }));

    // HSM keys: one KMS key per version, created in KMS (RSA for each use KMS allows, EC) or imported.
    const hsmSigning = uniqueName('iam-hsm-rsa-sig');
    const hsmEncryption = uniqueName('iam-hsm-rsa-enc');
    const hsmEc = uniqueName('iam-hsm-ec');
    const hsmImported = uniqueName('iam-hsm-byok');
    await expectStatus(200, call('POST', `/keys/${hsmSigning}/create?${V}`, { kty: 'RSA-HSM', key_ops: ['sign', 'verify'] }));
    const encryptionOps = ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'];
    await expectStatus(200, call('POST', `/keys/${hsmEncryption}/create?${V}`, { kty: 'RSA-HSM', key_ops: encryptionOps }));
    await expectStatus(200, call('POST', `/keys/${hsmEc}/create?${V}`, { kty: 'EC-HSM', crv: 'P-256' }));
    const imported = await expectStatus(200, call('PUT', `/keys/${hsmImported}?${V}`, { key: ecJwk(), Hsm: true }));
    expect(imported.key.kty).toBe('EC-HSM');
    await expectStatus(200, call('POST', `/keys/${hsmEc}/rotate?${V}`));
    await expectStatus(200, call('PATCH', `/keys/${hsmEncryption}/?${V}`, { key_ops: ['wrapKey', 'unwrapKey', 'encrypt', 'decrypt'] }));
    await signs(hsmSigning, 'RS256');
    await roundTrip(hsmEncryption, 'RSA-OAEP-256', ['encrypt', 'decrypt']);
    await roundTrip(hsmEncryption, 'RSA-OAEP', ['wrapkey', 'unwrapkey']);
    await signs(hsmEc, 'ES256');
    await signs(hsmImported, 'ES256');

    // Delete disables the KMS keys of both versions, recover enables them, purge schedules their deletion.
    await expectStatus(200, call('DELETE', `/keys/${hsmEc}?${V}`));
    await expectStatus(200, call('GET', `/deletedkeys/${hsmEc}?${V}`));
    await expectStatus(200, call('POST', `/deletedkeys/${hsmEc}/recover?${V}`));
    await signs(hsmEc, 'ES256');
    await expectStatus(200, call('DELETE', `/keys/${hsmEc}?${V}`));
    await expectStatus(204, call('DELETE', `/deletedkeys/${hsmEc}?${V}`));

    // A backup of an HSM key names its KMS key: restoring after a purge cancels the deletion and enables it.
    const hsmBackup = await expectStatus(200, call('POST', `/keys/${hsmSigning}/backup?${V}`));
    await expectStatus(200, call('DELETE', `/keys/${hsmSigning}?${V}`));
    await expectStatus(204, call('DELETE', `/deletedkeys/${hsmSigning}?${V}`));
    await expectStatus(200, call('POST', `/keys/restore?${V}`, { value: hsmBackup.value }));
    await signs(hsmSigning, 'PS256');

    const random = await expectStatus(200, call('POST', `/rng?${V}`, { count: 16 }));
    expect(Buffer.from(random.value, 'base64url')).toHaveLength(16);

    // Secure key release and attestation are refused (400) before anything of their own is called.
    await expectStatus(400, call('POST', `/keys/${hsmSigning}//release?${V}`, { target: 'attestation-token' }));
    await expectStatus(400, call('GET', `/keys/${hsmSigning}/attestation?${V}`));

    // IAM grants calls on HSM key versions by the tags of the KMS key they name: read those tags.
    const kms = new SdkKmsClient({});
    try {
      const keyIds = new Set(
        [...calls.values()]
          .flat()
          .filter((c) => c.target === 'hsmKeys')
          .map((c) => c.detail),
      );
      for (const keyId of keyIds) {
        const { Tags = [] } = await kms.send(new ListResourceTagsCommand({ KeyId: keyId }));
        hsmKeyTags.set(keyId, Object.fromEntries(Tags.map((t) => [t.TagKey ?? '', t.TagValue ?? ''])));
      }
    } finally {
      kms.destroy();
    }
  }, 180_000);

  it('exercises every operation it names', () => {
    expect(SCENARIO.filter((operation) => !calls.has(operation))).toEqual([]);
  });

  for (const route of uncovered) it.todo(`${route.operation}: add scenario steps to check its grants`);

  it.each(covered.map((r) => [r.operation]))('%s calls only what infra/permissions.ts grants it', (operation) => {
    const granted = permissionsFor(operation);
    const allowed = (c: Call): boolean => {
      switch (c.target) {
        case 'objects':
          return (granted.objects as readonly string[]).includes(c.action);
        case 'audit':
          return (granted.audit as readonly string[]).includes(c.action);
        case 'vaultKey':
          // The IAM conditions: new data keys only for objects; decryption also of the paging key.
          return (
            (granted.vaultKey as readonly string[]).includes(c.action) &&
            (c.action === 'Decrypt' ? ['objects', 'paging-token'] : ['objects']).includes(c.detail)
          );
        case 'backupKey':
          return (granted.backupKey as readonly string[]).includes(c.action) && c.detail === 'backup';
        case 'hsmKeys': {
          // The IAM conditions: only this deployment's KMS keys that are HSM key versions.
          const tags = hsmKeyTags.get(c.detail) ?? {};
          return (
            (granted.hsmKeys as readonly string[]).includes(c.action) && tags['coffer:deployment'] === DEPLOYMENT && tags['coffer:key'] !== undefined
          );
        }
        case 'createKey': {
          const tags = c.detail.split(',');
          return (
            (granted.createsHsmKeys as readonly string[]).includes(c.action) &&
            REQUIRED_HSM_TAGS.every((t) => tags.includes(t)) &&
            tags.every((t) => ALLOWED_HSM_TAGS.includes(t))
          );
        }
        case 'random':
          return granted.randomBytes;
        default:
          return false;
      }
    };
    const made = calls.get(operation) ?? [];
    expect(made.length).toBeGreaterThan(0);
    expect(made.filter((c) => !allowed(c)).map((c) => `${c.action} on ${c.target} (${c.detail})`)).toEqual([]);
    // The deny on control-plane records must never stand in the way of a data-plane write.
    const prefix = controlPlanePartitionPattern.replace('*', '');
    const reads: readonly string[] = OBJECTS_READ_ACTIONS;
    expect(made.filter((c) => c.target === 'objects' && !reads.includes(c.action) && c.detail.startsWith(prefix))).toEqual([]);
  });

  it.each(covered.map((r) => [r.operation]))('%s is granted nothing it does not call', (operation) => {
    const granted = permissionsFor(operation);
    const grants = [
      ...(['objects', 'audit', 'vaultKey', 'backupKey', 'hsmKeys', 'createsHsmKeys'] as const).flatMap((field) =>
        (granted[field] as readonly string[]).map((action) => `${field}:${action}`),
      ),
      ...(granted.randomBytes ? ['randomBytes'] : []),
    ];
    const grantOf = (c: Call): string => {
      if (c.target === 'random') return 'randomBytes';
      return `${c.target === 'createKey' ? 'createsHsmKeys' : c.target}:${c.action}`;
    };
    const used = new Set((calls.get(operation) ?? []).map(grantOf));
    expect(grants.filter((grant) => !used.has(grant))).toEqual(UNREACHED[operation] ?? []);
  });
});
