import { createHash, generateKeyPairSync } from 'node:crypto';
import { DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionEnvironment } from '../../dev/stack.ts';
import { EnvelopeCipher } from '../../lib/crypto/envelope.ts';
import { DynamoDBDocumentClient } from '../../lib/aws/api/dynamodb.ts';
import { KMSClient as CofferKmsClient } from '../../lib/aws/api/kms.ts';
import { KmsKeyProtection } from '../../lib/aws/kms.ts';
import { VaultError } from '../../lib/core/errors.ts';
import { HsmKeyMissing, type HsmKeys } from '../../lib/keys/hsm.ts';
import { KeyService } from '../../lib/keys/keys.ts';
import { deletedKeyBundle, keyBundle, keyOperationResult } from '../../lib/keys/wire.ts';
import { BackupProtector } from '../../lib/objects/backup.ts';
import { ObjectSealer } from '../../lib/objects/sealing.ts';
import type { ObjectStore } from '../../lib/objects/store.ts';
import { DynamoObjectStore } from '../../lib/aws/dynamo-objects.ts';
import { DynamoVaultStore } from '../../lib/aws/dynamo-vaults.ts';
import type { VaultAddress } from '../../lib/vaults/vault.ts';
import { localStack, raw, uniqueName } from '../support/local.ts';

/**
 * An HSM key is two records that must agree: its versions in DynamoDB and their keys in KMS. These
 * tests run the keys service against the local stack's DynamoDB Local and KMS endpoint, make one
 * step fail at a time, and check that both sides end as they were (so a retry finds the same state)
 * or as the request left them, never half and half.
 */
const DIGEST = createHash('sha256').update('consistency').digest().toString('base64url');

interface Faulty<T> {
  subject: T;
  /** The next call of `method` throws `error` instead of running. */
  failNext(method: keyof T & string, error?: Error): void;
  /** Results of every call of `method` that succeeded. */
  results(method: keyof T & string): unknown[];
}

function faulty<T extends object>(target: T): Faulty<T> {
  const failures = new Map<string, Error>();
  const results = new Map<string, unknown[]>();
  const subject = new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return async (...args: unknown[]) => {
        const failure = failures.get(property);
        if (failure) {
          failures.delete(property);
          throw failure;
        }
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
        results.set(property, [...(results.get(property) ?? []), result]);
        return result;
      };
    },
  });
  return {
    subject,
    failNext: (method, error = new Error(`injected failure of ${method}`)) => void failures.set(method, error),
    results: (method) => results.get(method) ?? [],
  };
}

/** The test's own look at KMS (key states), through the SDK; the adapters use the functions' client. */
let kms: KMSClient;
let cofferKms: CofferKmsClient;
let store: Faulty<ObjectStore>;
let hsm: Faulty<HsmKeys>;
let keys: KeyService;
let at: VaultAddress;
const warnings: { message: string; details: Record<string, unknown> }[] = [];

beforeAll(async () => {
  const info = localStack();
  const env = functionEnvironment(info);
  const clientConfig = {
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  };
  kms = new KMSClient({ ...clientConfig, endpoint: info.endpoints.kms });
  cofferKms = new CofferKmsClient({ region: clientConfig.region!, endpoint: info.endpoints.kms, credentials: () => clientConfig.credentials });
  const dynamo = new DynamoDBDocumentClient({
    region: clientConfig.region!,
    endpoint: info.endpoints.dynamodb,
    credentials: () => clientConfig.credentials,
  });
  const protection = new KmsKeyProtection(cofferKms);
  const cipher = new EnvelopeCipher(protection);
  store = faulty<ObjectStore>(new DynamoObjectStore(dynamo, info.tables.objects));
  hsm = faulty<HsmKeys>(protection);
  keys = new KeyService(
    store.subject,
    new ObjectSealer(cipher),
    new BackupProtector(cipher, env.COFFER_BACKUP_KEY_ID!),
    hsm.subject,
    (message, details) => warnings.push({ message, details }),
  );
  const vault = await new DynamoVaultStore(dynamo, info.tables.objects).getVault(info.vaultName);
  if (!vault) throw new Error(`the local vault ${info.vaultName} is missing`);
  at = { vault, baseUrl: info.vaultUrl };
});

afterAll(() => {
  kms.destroy();
  cofferKms.destroy();
});

async function kmsState(arn: string): Promise<string | undefined> {
  return (await kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata?.KeyState;
}

async function kmsStates(arns: string[]): Promise<string[]> {
  return Promise.all(arns.map(async (arn) => (await kmsState(arn))!));
}

/** An EC-HSM key with two versions; returns its name and both versions' KMS keys. */
async function hsmKeyWithTwoVersions(): Promise<{ name: string; arns: string[] }> {
  const name = uniqueName('hsm-consistency');
  const before = hsm.results('createHsmKey').length;
  await keys.create(at, name, { kty: 'EC-HSM', crv: 'P-256' });
  await keys.rotate(at, name);
  const arns = hsm.results('createHsmKey').slice(before) as string[];
  expect(arns).toHaveLength(2);
  return { name, arns };
}

async function signs(name: string): Promise<boolean> {
  const result = keyOperationResult(at, await keys.operate(at, name, undefined, 'sign', { alg: 'ES256', value: DIGEST }));
  return 'kid' in result && result.value.length > 0;
}

/** Runs `operation` while the second call of an HSM port method fails, and expects it to fail with that. */
async function failingOnSecondCall(method: 'disableKey' | 'enableKey' | 'scheduleKeyDeletion', operation: () => Promise<unknown>) {
  let calls = 0;
  const original = hsm.subject[method].bind(hsm.subject) as (arn: string) => Promise<unknown>;
  (hsm.subject as unknown as Record<string, (arn: string) => Promise<unknown>>)[method] = async (arn) => {
    if (++calls === 2) throw new Error('KMS is down');
    return original(arn);
  };
  try {
    expect(await rejection(operation())).toMatchObject({ message: 'KMS is down' });
  } finally {
    delete (hsm.subject as Partial<HsmKeys>)[method];
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error,
  );
}

describe('HSM keys stay consistent between the store and KMS', () => {
  it('delete: a failed store write re-enables the KMS keys; the retry disables them', async () => {
    const { name, arns } = await hsmKeyWithTwoVersions();
    store.failNext('softDelete');
    expect(await rejection(keys.delete(at, name))).toMatchObject({ message: 'injected failure of softDelete' });
    expect(await kmsStates(arns)).toEqual(['Enabled', 'Enabled']);
    expect(await signs(name)).toBe(true);

    await keys.delete(at, name);
    expect(await kmsStates(arns)).toEqual(['Disabled', 'Disabled']);
  });

  it('delete: a KMS failure on the second version leaves the key live and the first version enabled', async () => {
    const { name, arns } = await hsmKeyWithTwoVersions();
    await failingOnSecondCall('disableKey', () => keys.delete(at, name));
    expect(await kmsStates(arns)).toEqual(['Enabled', 'Enabled']);
    expect(keyBundle(at, await keys.get(at, name, undefined)).key.kid).toContain(`/keys/${name}/`);
  });

  it('recover: a KMS failure on the second version leaves the key deleted and its KMS keys disabled', async () => {
    const { name, arns } = await hsmKeyWithTwoVersions();
    await keys.delete(at, name);
    await failingOnSecondCall('enableKey', () => keys.recover(at, name));
    expect(await kmsStates(arns)).toEqual(['Disabled', 'Disabled']);
    await keys.getDeleted(at, name);
  });

  it('purge: a KMS failure on the second version leaves the key deleted and recoverable', async () => {
    const { name, arns } = await hsmKeyWithTwoVersions();
    await keys.delete(at, name);
    await failingOnSecondCall('scheduleKeyDeletion', () => keys.purge(at, name));
    expect(await kmsStates(arns)).toEqual(['Disabled', 'Disabled']);
    await keys.recover(at, name);
    expect(await signs(name)).toBe(true);
  });

  it('recover: a failed store write disables the KMS keys again; the retry enables them', async () => {
    const { name, arns } = await hsmKeyWithTwoVersions();
    await keys.delete(at, name);
    store.failNext('recover');
    expect(await rejection(keys.recover(at, name))).toMatchObject({ message: 'injected failure of recover' });
    expect(await kmsStates(arns)).toEqual(['Disabled', 'Disabled']);
    expect(deletedKeyBundle(at, await keys.getDeleted(at, name)).recoveryId).toContain(`/deletedkeys/${name}`);

    await keys.recover(at, name);
    expect(await kmsStates(arns)).toEqual(['Enabled', 'Enabled']);
    expect(await signs(name)).toBe(true);
  });

  it('purge: checks the key is deleted before touching KMS, and a failed store write cancels the scheduled deletions', async () => {
    const { name, arns } = await hsmKeyWithTwoVersions();
    expect(await rejection(keys.purge(at, name))).toMatchObject({ status: 404 });
    expect(await kmsStates(arns)).toEqual(['Enabled', 'Enabled']);

    await keys.delete(at, name);
    store.failNext('purge');
    expect(await rejection(keys.purge(at, name))).toMatchObject({ message: 'injected failure of purge' });
    expect(await kmsStates(arns)).toEqual(['Disabled', 'Disabled']);
    await keys.getDeleted(at, name);

    await keys.purge(at, name);
    expect(await kmsStates(arns)).toEqual(['PendingDeletion', 'PendingDeletion']);
  });

  it('create, rotate and import: a version the store refuses leaves no KMS key behind', async () => {
    const name = uniqueName('hsm-orphan');
    store.failNext('addVersion');
    expect(await rejection(keys.create(at, name, { kty: 'RSA-HSM', key_size: 2048 }))).toMatchObject({ message: 'injected failure of addVersion' });
    const [created] = hsm.results('createHsmKey').slice(-1) as string[];
    expect(await kmsState(created!)).toBe('PendingDeletion');
    expect(await rejection(keys.get(at, name, undefined))).toMatchObject({ status: 404 });

    const { name: rotated, arns } = await hsmKeyWithTwoVersions();
    store.failNext('addVersion');
    expect(await rejection(keys.rotate(at, rotated))).toBeInstanceOf(Error);
    const [third] = hsm.results('createHsmKey').slice(-1) as string[];
    expect(await kmsStates([...arns, third!])).toEqual(['Enabled', 'Enabled', 'PendingDeletion']);
    expect(await signs(rotated)).toBe(true);

    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    store.failNext('addVersion');
    const imported = uniqueName('hsm-orphan-import');
    expect(
      await rejection(keys.import(at, imported, { key: privateKey.export({ format: 'jwk' }) as Record<string, unknown>, Hsm: true })),
    ).toBeInstanceOf(Error);
    const [importedArn] = hsm.results('importHsmKey').slice(-1) as string[];
    expect(await kmsState(importedArn!)).toBe('PendingDeletion');
  });

  it('create: a name held by a deleted key is refused before any KMS key is made', async () => {
    const { name } = await hsmKeyWithTwoVersions();
    await keys.delete(at, name);
    const before = hsm.results('createHsmKey').length;
    const error = await rejection(keys.create(at, name, { kty: 'EC-HSM' }));
    expect(error).toMatchObject({ status: 409, innerCode: 'ObjectIsDeletedButRecoverable' });
    expect(hsm.results('createHsmKey')).toHaveLength(before);
  });

  it('restore: a taken name is refused before KMS keys are brought back; once free, restore brings them back', async () => {
    const { name, arns } = await hsmKeyWithTwoVersions();
    const blob = await keys.backup(at, name);
    await keys.delete(at, name);
    await keys.purge(at, name);
    await keys.create(at, name, { kty: 'EC' });

    const taken = await rejection(keys.restore(at, blob));
    expect(taken).toMatchObject({ status: 409 });
    expect(await kmsStates(arns)).toEqual(['PendingDeletion', 'PendingDeletion']);

    await keys.delete(at, name);
    await keys.purge(at, name);
    store.failNext('restore');
    expect(await rejection(keys.restore(at, blob))).toMatchObject({ message: 'injected failure of restore' });
    expect(await kmsStates(arns)).toEqual(['PendingDeletion', 'PendingDeletion']);

    await keys.restore(at, blob);
    expect(await kmsStates(arns)).toEqual(['Enabled', 'Enabled']);
    expect(await signs(name)).toBe(true);
  });

  it('restore: refuses HSM material that KMS no longer has, and a vault the backup did not come from, with a 400', async () => {
    const { name, arns } = await hsmKeyWithTwoVersions();
    const blob = await keys.backup(at, name);
    await keys.delete(at, name);
    await keys.purge(at, name);

    const otherVault: VaultAddress = { ...at, vault: { ...at.vault, name: uniqueName('other') } };
    const elsewhere = await rejection(keys.restore(otherVault, blob));
    expect(elsewhere).toMatchObject({ status: 400, message: expect.stringMatching(/only into the vault it was taken from/) });

    // KMS deleted the second version's material for good (its waiting period is over).
    const cancel = hsm.subject.cancelKeyDeletion.bind(hsm.subject);
    hsm.subject.cancelKeyDeletion = async (arn) => {
      if (arn === arns[1]) throw new HsmKeyMissing(arn);
      return cancel(arn);
    };
    try {
      const gone = await rejection(keys.restore(at, blob));
      expect(gone).toBeInstanceOf(VaultError);
      expect(gone).toMatchObject({ status: 400, message: 'The HSM key material this backup refers to no longer exists.' });
    } finally {
      delete (hsm.subject as Partial<HsmKeys>).cancelKeyDeletion;
    }
    // The first version's key, brought back before the second failed, is scheduled for deletion again.
    expect(await kmsStates(arns)).toEqual(['PendingDeletion', 'PendingDeletion']);
    expect(await rejection(keys.get(at, name, undefined))).toMatchObject({ status: 404 });
  });

  it('reports an undo that fails for the operator and still answers with the original error', async () => {
    const { name, arns } = await hsmKeyWithTwoVersions();
    warnings.length = 0;
    store.failNext('softDelete');
    const enable = hsm.subject.enableKey.bind(hsm.subject);
    hsm.subject.enableKey = async () => {
      throw new Error('KMS is down');
    };
    try {
      expect(await rejection(keys.delete(at, name))).toMatchObject({ message: 'injected failure of softDelete' });
    } finally {
      delete (hsm.subject as Partial<HsmKeys>).enableKey;
    }
    expect(warnings.map((w) => w.details.kmsKey).sort()).toEqual([...arns].sort());
    expect(warnings[0]!.message).toMatch(/could not re-enable/);
    for (const arn of arns) await enable(arn);
  });
});

describe('the KMS adapter reports HSM key states precisely', () => {
  it('maps a missing key, a key pending deletion and a disabled key to what the domain handles', async () => {
    const protection = new KmsKeyProtection(cofferKms);
    const { name, arns } = await hsmKeyWithTwoVersions();
    const missing = arns[0]!.replace(/key\/.*$/, 'key/00000000-0000-4000-8000-000000000000');
    await expect(protection.cancelKeyDeletion(missing)).rejects.toBeInstanceOf(HsmKeyMissing);
    await expect(protection.enableKey(missing)).rejects.toBeInstanceOf(HsmKeyMissing);
    await expect(protection.disableKey(missing)).resolves.toBeUndefined();
    expect(await protection.scheduleKeyDeletion(missing)).toBe(false);

    // Not pending deletion: cancelling changes nothing.
    expect(await protection.cancelKeyDeletion(arns[0]!)).toBe(false);

    await kms.send(new DisableKeyCommand({ KeyId: arns[1] }));
    const disabled = await rejection(keys.operate(at, name, undefined, 'sign', { alg: 'ES256', value: DIGEST }));
    expect(disabled).toMatchObject({ status: 403, innerCode: 'KeyDisabled' });
    await kms.send(new EnableKeyCommand({ KeyId: arns[1] }));
    expect(await signs(name)).toBe(true);
  });

  it("answers 403 KeyDisabled on the wire when an HSM key was disabled in KMS behind Coffer's back", async () => {
    const { name, arns } = await hsmKeyWithTwoVersions();
    await kms.send(new DisableKeyCommand({ KeyId: arns[1] }));
    const response = await raw('POST', `/keys/${name}//sign?api-version=7.6`, { body: { alg: 'ES256', value: DIGEST } });
    expect(response.status).toBe(403);
    expect(response.json.error).toMatchObject({ code: 'Forbidden', innererror: { code: 'KeyDisabled' } });
    await kms.send(new EnableKeyCommand({ KeyId: arns[1] }));
  });
});
