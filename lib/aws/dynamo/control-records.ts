import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '../api/dynamodb.ts';
import { getItems, keyId } from './batch.ts';
import { CONDITION_FAILED, cancellationReasons, isConditionFailure } from './errors.ts';
import { endpointKey, type ItemKey } from './layout.ts';
import { queryPartition } from './paging.ts';
import { transactWrite } from './transactions.ts';

/**
 * The writes control-plane records of ARM resources share (vaults: lib/aws/dynamo-vaults.ts, managed
 * HSM pools: lib/aws/dynamo-managed-hsm-pools.ts): a record created with its subscription's index
 * item in one transaction, on condition its name is free; changes conditional on the revision read;
 * a subscription's records found through its index; and the claims of local endpoints, each naming
 * the one holder of a `host:port`.
 */

/** Creates the record and its index item together; false if the record's key is taken. */
export async function createWithIndex(
  db: DynamoDBDocumentClient,
  table: string,
  record: Record<string, unknown>,
  index: Record<string, unknown>,
): Promise<boolean> {
  try {
    await transactWrite(db, [
      { Put: { TableName: table, Item: record, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Put: { TableName: table, Item: index } },
    ]);
    return true;
  } catch (error) {
    if (cancellationReasons(error)?.[0] === CONDITION_FAILED) return false;
    throw error;
  }
}

/** Writes the record if its stored revision is still `expectedRevision` (0: a record from before revisions); false if another change came first. */
export async function putIfRevision(
  db: DynamoDBDocumentClient,
  table: string,
  record: Record<string, unknown>,
  expectedRevision: number,
): Promise<boolean> {
  try {
    await db.send(
      new PutCommand({
        TableName: table,
        Item: record,
        ...(expectedRevision === 0
          ? { ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#revision)', ExpressionAttributeNames: { '#revision': 'revision' } }
          : {
              ConditionExpression: '#revision = :expected',
              ExpressionAttributeNames: { '#revision': 'revision' },
              ExpressionAttributeValues: { ':expected': expectedRevision },
            }),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** The records an index partition names (one item per record, its name in `sk`), in the index's order. */
export async function recordsByIndex(
  db: DynamoDBDocumentClient,
  table: string,
  indexPartition: string,
  recordKey: (name: string) => ItemKey,
): Promise<Record<string, unknown>[]> {
  const names = (await queryPartition(db, table, indexPartition)).map((item) => String(item.sk));
  const records: Record<string, unknown>[] = [];
  for (let i = 0; i < names.length; i += 100) {
    const keys = names.slice(i, i + 100).map(recordKey);
    const found = await getItems(db, table, keys);
    for (const key of keys) {
      const item = found.get(keyId(key));
      if (item) records.push(item);
    }
  }
  return records;
}

/** Who holds a local endpoint: the claim's one attribute naming a vault or a managed HSM pool. */
export type EndpointHolder = 'vault' | 'managedHsm';

/** Claims `host:port` for the holder; true if it is now (or was already) this holder's, false if anyone else holds it. */
export async function claimEndpoint(
  db: DynamoDBDocumentClient,
  table: string,
  hostAndPort: string,
  holder: EndpointHolder,
  name: string,
): Promise<boolean> {
  try {
    await db.send(
      new PutCommand({
        TableName: table,
        Item: { ...endpointKey(hostAndPort), [holder]: name },
        ConditionExpression: 'attribute_not_exists(pk) OR #holder = :name',
        ExpressionAttributeNames: { '#holder': holder },
        ExpressionAttributeValues: { ':name': name },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Frees the holder's claim; a claim someone else holds stays. */
export async function releaseEndpoint(
  db: DynamoDBDocumentClient,
  table: string,
  hostAndPort: string,
  holder: EndpointHolder,
  name: string,
): Promise<void> {
  try {
    await db.send(
      new DeleteCommand({
        TableName: table,
        Key: endpointKey(hostAndPort),
        ConditionExpression: '#holder = :name',
        ExpressionAttributeNames: { '#holder': holder },
        ExpressionAttributeValues: { ':name': name },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/** The name of the holder of that kind at the endpoint; undefined when it is unclaimed or another kind's. */
export async function endpointHolder(
  db: DynamoDBDocumentClient,
  table: string,
  hostAndPort: string,
  holder: EndpointHolder,
): Promise<string | undefined> {
  const { Item } = await db.send(new GetCommand({ TableName: table, Key: endpointKey(hostAndPort), ConsistentRead: true }));
  const name = Item?.[holder];
  return typeof name === 'string' ? name : undefined;
}
