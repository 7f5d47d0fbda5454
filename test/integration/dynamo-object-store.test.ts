import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionEnvironment } from '../../dev/stack.ts';
import { dynamoDocumentClient } from '../../lib/aws/clients.ts';
import { DynamoObjectStore } from '../../lib/aws/dynamo-objects.ts';
import { deletedKey, headKey, versionKey } from '../../lib/aws/dynamo/layout.ts';
import { HEAD_COPY_MAX_BYTES } from '../../lib/aws/dynamo/object-items.ts';
import { describeCurrentReadContract } from '../contract/current-reads.contract.ts';
import { describeObjectStoreContract } from '../contract/object-store.contract.ts';
import { version } from '../contract/versions.ts';
import { DynamoRequests } from '../support/dynamo-requests.ts';
import { localStack } from '../support/local.ts';

/**
 * The ObjectStore contract against the local stack's DynamoDB Local, on the table the rest of the
 * suite uses: the contract puts every test in a vault of its own. Then what only the DynamoDB layout
 * has: the head's copy of its latest version, item by item (read with a client of the test's own),
 * and the requests each read makes.
 */
let store: DynamoObjectStore | undefined;
let rawClient: DynamoDBClient | undefined;
let raw: DynamoDBDocumentClient | undefined;
const requests = new DynamoRequests();
const savedEnv = { ...process.env };

beforeAll(() => {
  // The store gets its client as the functions do (lib/aws/clients.ts, from their environment).
  Object.assign(process.env, functionEnvironment(localStack()));
  requests.install();
});

afterAll(() => {
  requests.uninstall();
  rawClient?.destroy();
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
});

function dynamoStore(): DynamoObjectStore {
  if (!store) {
    const info = localStack();
    const env = functionEnvironment(info);
    store = new DynamoObjectStore(dynamoDocumentClient(env.AWS_REGION!), info.tables.objects);
    rawClient = new DynamoDBClient({
      region: env.AWS_REGION,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
      endpoint: info.endpoints.dynamodb,
    });
    raw = DynamoDBDocumentClient.from(rawClient);
  }
  return store;
}

describeObjectStoreContract('DynamoDB Local', dynamoStore);
describeCurrentReadContract('DynamoDB Local', dynamoStore);

describe('DynamoDB layout: the head carries its latest version', () => {
  const table = () => localStack().tables.objects;
  const vault = () => `layout-${Math.random().toString(36).slice(2, 10)}`;
  const item = async (key: { pk: string; sk: string }) =>
    (await raw!.send(new GetCommand({ TableName: table(), Key: key, ConsistentRead: true }))).Item as Record<string, any> | undefined;
  /** The head's copy of the latest secret, and that version item's secret, as base64. */
  const copyAndVersion = async (v: string, name: string) => {
    const head = (await item(headKey(v, 'secrets', name)))!;
    const latest = (await item(versionKey(v, 'secrets', name, head.latest)))!;
    return { copy: head.latestCopy && b64(head.latestCopy.secret), version: b64(latest.secret) };
  };
  const disable = (s: DynamoObjectStore, v: string, name: string, id: string) =>
    s.updateVersion(v, 'secrets', name, id, async (current) => ({
      attributes: { ...current.attributes, enabled: false },
      meta: current.meta,
      plain: current.plain,
    }));
  /** The requests `action` makes, by operation. */
  const requestsOf = (action: () => Promise<unknown>) => requests.countsOf(action);

  it('writes the copy with the version on add, update, recover and restore, and none into a deleted head', async () => {
    const s = dynamoStore();
    const v = vault();
    const first = version('Copied', 1);
    await s.addVersion(v, 'secrets', first);
    expect(await copyAndVersion(v, 'copied')).toEqual({ copy: b64(first.secret!), version: b64(first.secret!) });
    const second = version('copied', 2);
    await s.addVersion(v, 'secrets', second);
    expect(await copyAndVersion(v, 'copied')).toEqual({ copy: b64(second.secret!), version: b64(second.secret!) });
    await disable(s, v, 'copied', second.version);
    expect(await copyAndVersion(v, 'copied')).toEqual({ copy: b64(second.secret!), version: b64(second.secret!) });

    await s.softDelete(v, 'secrets', 'copied', { deletedDate: 1, scheduledPurgeDate: 2 });
    expect((await item(deletedKey(v, 'secrets', 'copied')))?.latestCopy).toBeUndefined();
    await s.recover(v, 'secrets', 'copied');
    expect(await copyAndVersion(v, 'copied')).toEqual({ copy: b64(second.secret!), version: b64(second.secret!) });

    const restored = [version('Restored', 1), version('Restored', 2)];
    await s.restore(v, 'secrets', restored, restored[0]!.version);
    expect(await copyAndVersion(v, 'restored')).toEqual({ copy: b64(restored[0]!.secret!), version: b64(restored[0]!.secret!) });
  });

  it('reads a head written before heads carried a copy from its version, and gives it the copy at its next update', async () => {
    const s = dynamoStore();
    const v = vault();
    const old = version('legacy', 1);
    await s.addVersion(v, 'secrets', old);
    await raw!.send(new UpdateCommand({ TableName: table(), Key: headKey(v, 'secrets', 'legacy'), UpdateExpression: 'REMOVE latestCopy' }));
    expect((await copyAndVersion(v, 'legacy')).copy).toBeUndefined();

    const read = await requestsOf(async () => {
      const current = await s.getCurrent(v, 'secrets', 'legacy');
      expect(b64(current!.version!.secret!)).toBe(b64(old.secret!));
    });
    expect(read).toEqual({ GetItem: 2 });
    await disable(s, v, 'legacy', old.version);
    expect(await copyAndVersion(v, 'legacy')).toEqual({ copy: b64(old.secret!), version: b64(old.secret!) });
    expect(await requestsOf(() => s.getCurrent(v, 'secrets', 'legacy'))).toEqual({ GetItem: 1 });
  });

  it(`copies secrets up to ${HEAD_COPY_MAX_BYTES} bytes, and leaves larger ones in their version`, async () => {
    const s = dynamoStore();
    const v = vault();
    const largest = { ...version('at-limit', 1), secret: new Uint8Array(HEAD_COPY_MAX_BYTES).fill(1) };
    const larger = { ...version('past-limit', 2), secret: new Uint8Array(HEAD_COPY_MAX_BYTES + 1).fill(2) };
    await s.addVersion(v, 'secrets', largest);
    await s.addVersion(v, 'secrets', larger);
    expect((await copyAndVersion(v, 'at-limit')).copy).toBe(b64(largest.secret));
    expect((await copyAndVersion(v, 'past-limit')).copy).toBeUndefined();
    expect(await requestsOf(() => s.getCurrent(v, 'secrets', 'at-limit'))).toEqual({ GetItem: 1 });
    // The price of leaving it out: the latest version of a large secret is a second read.
    expect(await requestsOf(() => s.getCurrent(v, 'secrets', 'past-limit'))).toEqual({ GetItem: 2 });
    expect(await requestsOf(() => s.getCurrent(v, 'secrets', 'past-limit', larger.version))).toEqual({ BatchGetItem: 1 });
  });

  it('reads the latest version in one GetItem and a named one in one BatchGetItem', async () => {
    const s = dynamoStore();
    const v = vault();
    const first = version('counted', 1);
    await s.addVersion(v, 'keys', first);
    await s.addVersion(v, 'keys', version('counted', 2));
    expect(await requestsOf(() => s.getCurrent(v, 'keys', 'counted'))).toEqual({ GetItem: 1 });
    expect(await requestsOf(() => s.getCurrent(v, 'keys', 'counted', first.version))).toEqual({ BatchGetItem: 1 });
    expect(await requestsOf(() => s.getCurrent(v, 'keys', 'absent'))).toEqual({ GetItem: 1 });
    expect(await requestsOf(() => s.getCurrent(v, 'keys', 'absent', first.version))).toEqual({ BatchGetItem: 1 });
  });

  it('lists heads without the copies: no list page carries a value', async () => {
    const s = dynamoStore();
    const v = vault();
    for (let i = 0; i < 3; i++) await s.addVersion(v, 'secrets', version(`listed-${i}`, i));
    const { result: page, requests: sent } = await requests.during(() => s.listHeads(v, 'secrets', 10));
    const queried: Record<string, unknown>[] = sent.flatMap((r) => (r.operation === 'Query' ? (r.output?.Items ?? []) : []));
    expect(page.items).toHaveLength(3);
    expect(queried).toHaveLength(3);
    expect(queried.filter((i) => 'latestCopy' in i || 'secret' in i)).toEqual([]);
    expect(page.items.filter((h) => 'latestCopy' in h || 'secret' in h)).toEqual([]);
  });
});

describe('DynamoDB layout: linked writes', () => {
  const table = () => localStack().tables.objects;
  const vault = () => `linked-${Math.random().toString(36).slice(2, 10)}`;
  const collections = ['certificates', 'keys', 'secrets'] as const;
  const item = async (key: { pk: string; sk: string }) =>
    (await raw!.send(new GetCommand({ TableName: table(), Key: key, ConsistentRead: true }))).Item as Record<string, any> | undefined;
  /** One managed version per collection under one id, each with a secret of its own. */
  const linked = (name: string, n: number) => {
    const id = version(name, n).version;
    return collections.map((collection) => ({
      collection,
      version: { ...version(name, n), version: id, secret: new TextEncoder().encode(`${collection}-${n}`), plain: { managed: true } },
    }));
  };
  /** Each head's copy of its latest secret beside that version's own, as text. */
  const copies = async (v: string, name: string) =>
    Promise.all(
      collections.map(async (collection) => {
        const head = (await item(headKey(v, collection, name)))!;
        const latest = (await item(versionKey(v, collection, name, head.latest)))!;
        return [head.latestCopy && text(head.latestCopy.secret), text(latest.secret)];
      }),
    );

  it('writes each linked change in one TransactWriteItems after one read', async () => {
    const s = dynamoStore();
    const v = vault();
    const first = linked('Counted', 1);
    const id = first[0]!.version.version;
    const update = async (current: { attributes: any; meta: Uint8Array; plain: any }) => ({
      ...current,
      attributes: { ...current.attributes, enabled: false },
    });
    const all = [...collections];
    expect(await requests.countsOf(() => s.addLinkedVersions(v, first))).toEqual({ BatchGetItem: 1, TransactWriteItems: 1 });
    expect(
      await requests.countsOf(() =>
        s.updateLinkedVersions(
          v,
          'counted',
          id,
          all.map((collection) => ({ collection, update })),
        ),
      ),
    ).toEqual({ BatchGetItem: 1, TransactWriteItems: 1 });
    const dates = { deletedDate: 1, scheduledPurgeDate: 2 };
    expect(await requests.countsOf(() => s.softDeleteLinked(v, all, 'counted', dates))).toEqual({ BatchGetItem: 1, TransactWriteItems: 1 });
    // The deleted heads, then the latest versions the recovered heads copy.
    expect(await requests.countsOf(() => s.recoverLinked(v, all, 'counted'))).toEqual({ BatchGetItem: 2, TransactWriteItems: 1 });
  });

  it('writes every head copy with its version on linked add, update, recover and restore, and none into deleted heads', async () => {
    const s = dynamoStore();
    const v = vault();
    const all = [...collections];
    await s.addLinkedVersions(v, linked('copied', 1));
    const second = linked('copied', 2);
    await s.addLinkedVersions(v, second);
    const expected = collections.map((c) => [`${c}-2`, `${c}-2`]);
    expect(await copies(v, 'copied')).toEqual(expected);
    await s.updateLinkedVersions(
      v,
      'copied',
      second[0]!.version.version,
      all.map((collection) => ({ collection, update: async (current) => ({ ...current, attributes: { ...current.attributes, enabled: false } }) })),
    );
    expect(await copies(v, 'copied')).toEqual(expected);
    expect((await item(headKey(v, 'keys', 'copied')))!.attributes.enabled).toBe(false);

    await s.softDeleteLinked(v, all, 'copied', { deletedDate: 1, scheduledPurgeDate: 2 });
    for (const collection of collections) expect((await item(deletedKey(v, collection, 'copied')))?.latestCopy).toBeUndefined();
    await s.recoverLinked(v, all, 'copied');
    expect(await copies(v, 'copied')).toEqual(expected);

    await s.restoreLinked(
      v,
      linked('restored', 3).map(({ collection, version: latest }) => ({
        collection,
        versions: [version('restored', 4), latest],
        latest: latest.version,
      })),
    );
    expect(await copies(v, 'restored')).toEqual(collections.map((c) => [`${c}-3`, `${c}-3`]));
  });

  it('finishes a linked purge interrupted after the first object was marked', async () => {
    const s = dynamoStore();
    const v = vault();
    const all = [...collections];
    await s.addLinkedVersions(v, linked('interrupted', 1));
    await s.softDeleteLinked(v, all, 'interrupted', { deletedDate: 1, scheduledPurgeDate: 2 });
    // As a purge that stopped after marking the certificate: recover no longer sees it, purge still does.
    await raw!.send(
      new UpdateCommand({
        TableName: table(),
        Key: deletedKey(v, 'certificates', 'interrupted'),
        UpdateExpression: 'SET purging = :true',
        ExpressionAttributeValues: { ':true': true },
      }),
    );
    expect(await s.recoverLinked(v, all, 'interrupted')).toBeUndefined();
    expect(await s.purgeLinked(v, all, 'interrupted')).toBe(true);
    for (const collection of collections) {
      expect(await item(deletedKey(v, collection, 'interrupted'))).toBeUndefined();
      expect(await s.allVersions(v, collection, 'interrupted', 10)).toEqual([]);
    }
  });
});

function text(value: Uint8Array): string {
  return new TextDecoder().decode(value);
}

function b64(value: Uint8Array): string {
  return Buffer.from(value).toString('base64');
}
