import { DescribeTableCommand, DeleteTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTables, localClient } from '../../dev/dynamodb.ts';
import { objectsTable, type TableDefinition } from '../../lib/aws/tables.ts';
import { localStack, uniqueName } from '../support/local.ts';

/** The local stack's tables must have what infra/ gives the AWS ones, or code that works here fails there. */
const client = localClient(localStack().endpoints.dynamodb);
const scratch: string[] = [];

afterAll(async () => {
  for (const name of scratch) await client.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
  client.destroy();
});

function indexesOf(table: Awaited<ReturnType<typeof describeTable>>) {
  return (table.GlobalSecondaryIndexes ?? []).map((index) => ({
    name: index.IndexName,
    keys: index.KeySchema?.map((k) => `${k.AttributeName}:${k.KeyType}`),
    projection: index.Projection?.ProjectionType,
  }));
}

async function describeTable(name: string) {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
  return Table!;
}

const expectedIndexes = (objectsTable.indexes ?? []).map((index) => ({
  name: index.name,
  keys: [`${index.partitionKey}:HASH`, `${index.sortKey}:RANGE`],
  projection: 'KEYS_ONLY',
}));

describe('local DynamoDB tables', () => {
  it('the objects table has the secondary indexes lib/aws/tables.ts describes', async () => {
    expect(expectedIndexes.length).toBeGreaterThan(0);
    expect(indexesOf(await describeTable(localStack().tables.objects))).toEqual(expectedIndexes);
  });

  it('adds a missing index to a table an older version created, keeping its items', async () => {
    const name = uniqueName('tables-upgrade');
    scratch.push(name);
    const withoutIndexes: TableDefinition = { ...objectsTable, indexes: [] };
    await ensureTables(localStack().endpoints.dynamodb, [{ name, definition: withoutIndexes }]);
    expect(indexesOf(await describeTable(name))).toEqual([]);
    await client.send(new PutItemCommand({ TableName: name, Item: { pk: { S: 'p' }, sk: { S: 's' }, kept: { S: 'yes' } } }));

    await ensureTables(localStack().endpoints.dynamodb, [{ name, definition: objectsTable }]);
    expect(indexesOf(await describeTable(name))).toEqual(expectedIndexes);
    const { Item } = await client.send(new GetItemCommand({ TableName: name, Key: { pk: { S: 'p' }, sk: { S: 's' } } }));
    expect(Item?.kept?.S).toBe('yes');
  });
});
