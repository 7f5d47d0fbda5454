import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, open } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { auditTable, objectsTable } from '#lib/aws/tables';
import { bootstrap } from './bootstrap.ts';
import { ensureTables, PortTaken, startDynamoDbLocal, stopChild } from './dynamodb.ts';
import { appendPrivateLine, makePrivateDirectory, restrictToOwner, withOwnerOnlyUmask, writePrivateFile } from './files.ts';
import { startIdentityProvider } from './idp/server.ts';
import { startLocalEventBridge } from './eventbridge/server.ts';
import { startLocalKms } from './kms/server.ts';
import {
  type AwsCredentials,
  clockOffsetsFileIn,
  DEFAULT_RESOURCE_GROUP,
  DEFAULT_VAULT,
  EVENT_BUS,
  type LocalFunctionInputs,
  localFunctionEnvironment,
  MANAGEMENT_AUDIENCE,
  REGION,
  stackCredentials,
  TABLES,
  VAULT_DOMAIN,
} from './local-environment.ts';
import { ensureLocalCa, issueServerCertificate } from './tls.ts';

/**
 * The whole local Coffer on one machine: DynamoDB Local, the local KMS endpoint, the development
 * identity provider and the HTTPS gateway running the production handlers. `npm start` runs it with
 * fixed ports and `.coffer/`; the test suite runs it with free ports in a temporary directory.
 */
export interface StackOptions {
  dataDir: string;
  ports?: Partial<Record<'gateway' | 'management' | 'identity' | 'kms' | 'dynamodb' | 'eventbridge', number>>;
  /**
   * Ports of the vault endpoint pool (`LocalStackInfo.vaultEndpoints`), kept the same across starts
   * because vaults keep the endpoint they claimed; default: `TEST_VAULT_ENDPOINTS` free ports.
   */
  vaultEndpointPorts?: readonly number[];
  /** Where progress lines go; the test suite passes a quiet one. */
  progress?: (message: string) => void;
  /** Strict audit for the default vault, when this start creates it (lib/vaults/vault.ts). */
  strictAudit?: boolean;
  /**
   * Whether the gateway delivers its functions' audit records to the audit table (default yes). The
   * benchmark says no and measures the delivery on its own (bench/costs.ts): on DynamoDB Local the
   * delivery's writes hold up the reads of the rows it times (one SQLite file), which in AWS they
   * do not (another function, another table).
   */
  auditDelivery?: boolean;
  /**
   * Whether the gateway reads the objects table's stream and hands it to the event function (default
   * yes). The benchmark says no: the reader polls DynamoDB Local every 200 ms, in the SQLite file the
   * rows' reads are timed against, where in AWS another service (the event source mapping) reads the
   * stream, not the process that serves requests on the table.
   */
  eventStream?: boolean;
  /**
   * Whether the gateway enforces the documented per-vault limits (README "Limits, 429 and 503"),
   * answering 429 with Retry-After over them as Azure does (default no). `npm start` says yes, so a
   * team's code meets Azure's limits locally; the test suite's shared stack says no, because suites
   * with retries off create keys faster than a vault allows.
   */
  vaultLimits?: boolean;
}

/** What `.coffer/local.json` holds: everything a script or test suite needs to use the local vault. */
export interface LocalStackInfo {
  vaultUrl: string;
  vaultName: string;
  vaultDomain: string;
  /** The local subscription (in `tenantId`), whose Owner the administrator (`clientId`) is. */
  subscriptionId: string;
  /**
   * The management plane, the ARM clients' `endpoint` (`@azure/arm-keyvault`, `@azure/arm-authorization`),
   * and the scope their credential asks for (`credentials: {scopes: [managementScope]}`, or
   * `credentialScopes` in older clients).
   */
  managementUrl: string;
  managementScope: string;
  /** The default vault's resource group in `subscriptionId`. */
  resourceGroup: string;
  /**
   * The loopback endpoints new vaults claim one each of (their `vaultUri`), so that several vaults are
   * reachable at once where `*.localhost` does not resolve. Creating a vault when all are taken
   * answers 409 QuotaExceeded; purging a vault frees its endpoint.
   */
  vaultEndpoints: string[];
  /** The vault by its own host name (needs *.localhost to resolve to loopback). */
  vaultHostUrl: string;
  caFile: string;
  tenantId: string;
  authorityHost: string;
  clientId: string;
  clientSecret: string;
  objectId: string;
  clientCertificateFile: string;
  managedIdentity: { endpoint: string; header: string; clientId: string; objectId: string };
  /** A service principal with no role on the vault, for trying out access control. */
  unprivileged: { clientId: string; clientSecret: string; objectId: string };
  /** A service principal no one grants anything: tests of "no role at all" use it. */
  roleless: { clientId: string; clientSecret: string; objectId: string };
  issuer: string;
  jwksUri: string;
  audience: string;
  /** `eventbridge`: the local EventBridge (dev/eventbridge/), signed with `awsCredentials` like the KMS. */
  endpoints: { dynamodb: string; kms: string; eventbridge: string };
  /** The bus Key Vault's events are put on (COFFER_EVENT_BUS); rules for subscriptions live there. */
  eventBus: string;
  /**
   * One JSON line per event put on the local EventBridge (`kind: "put"`: id, detail-type, subject,
   * `detailId` the Event Grid event's own id, the rules it matched) and per delivery attempt to a target (`kind: "delivery"`: outcome
   * delivered, retrying or dead-lettered). Owner-only.
   */
  eventsLog: string;
  /** Events no target took within its retry policy, as the dead-letter queue receives them. */
  eventsDeadLetterLog: string;
  /** Stream batches the event function failed on after all retries, as Lambda's on-failure destination receives them. */
  eventStreamDeadLetterLog: string;
  /**
   * The stack's own AWS credential (`.coffer/aws-credentials.json`), the only one the local KMS
   * accepts; DynamoDB Local accepts any. `functionEnvironment` puts it in AWS_ACCESS_KEY_ID and
   * AWS_SECRET_ACCESS_KEY.
   */
  awsCredentials: AwsCredentials;
  tables: { objects: string; audit: string };
  /**
   * The gateway's output: the functions' log stream, their audit records included, from which the
   * gateway delivers those to the audit table (dev/audit-delivery.ts). Owner-only.
   */
  gatewayLog: string;
  /**
   * Where handlers run in a test's or benchmark's own process (`functionEnvironment`) append their
   * audit records. No subscription follows it: such a process is a function no log group collects,
   * and a benchmark's delivery load would land on the DynamoDB it measures.
   */
  inProcessAuditLog: string;
  /** One line per local KMS request (operation and result, never material). */
  kmsLog: string;
  identityLog: string;
  /** The time shift's offsets (`POST /_coffer/time`), kept across restarts. */
  clockOffsetsFile: string;
}

/**
 * The environment a deployed function gets, pointed at a running local stack: for tests and bench/
 * that run the production handlers in their own process. Logs are silenced; set what differs after.
 */
export function functionEnvironment(info: LocalStackInfo, options: { jwksUri?: string } = {}): Record<string, string> {
  return {
    ...localFunctionEnvironment({
      ...info,
      jwksUri: options.jwksUri ?? info.jwksUri,
      auditLog: info.inProcessAuditLog,
      administratorObjectId: info.objectId,
    }),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
}

export interface RunningStack {
  info: LocalStackInfo;
  stop(): Promise<void>;
}

const here = fileURLToPath(new URL('.', import.meta.url));

/** The pool's size when the caller names no ports: enough for the tests that create vaults side by side. */
// Test files keep a vault or two each for their whole run, and run two at a time.
export const TEST_VAULT_ENDPOINTS = 48;

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const dataDir = resolve(options.dataDir);
  const progress = options.progress ?? (() => undefined);
  // Owner-only throughout: the data directory holds the KMS root key, every principal's secret, the
  // stack's AWS credential, DynamoDB Local's tables and logs naming callers. One made before this
  // rule is tightened here, and each part below creates its own files owner-only.
  await makePrivateDirectory(dataDir);
  await restrictToOwner(dataDir);
  await makePrivateDirectory(join(dataDir, 'logs'));
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const ca = await step(progress, 'TLS certificate authority', () => ensureLocalCa(dataDir));
    const tls = await issueServerCertificate(ca, {
      // A pool is reached by its name too, `<pool>.managedhsm.<vault domain>` on its endpoint's port (docs/adr/0022).
      dns: ['localhost', `*.${VAULT_DOMAIN}`, `*.managedhsm.${VAULT_DOMAIN}`, new URL(MANAGEMENT_AUDIENCE).hostname],
      ips: ['127.0.0.1', '::1'],
    });
    const tlsDir = join(dataDir, 'tls');
    await writePrivateFile(join(tlsDir, 'server.pem'), tls.certPem);
    await writePrivateFile(join(tlsDir, 'server-key.pem'), tls.keyPem);

    const awsCredentials = await stackCredentials(dataDir);
    const dynamo = await step(progress, 'DynamoDB Local', () => startDynamoDbOnPort(join(dataDir, 'dynamodb'), options.ports?.dynamodb));
    cleanups.push(() => dynamo.stop());
    await ensureTables(dynamo.endpoint, [
      // The stream feeds the event function, as infra/storage.yml's does in AWS.
      { name: TABLES.objects, definition: objectsTable, stream: 'NEW_AND_OLD_IMAGES' },
      { name: TABLES.audit, definition: auditTable },
    ]);

    const kmsLog = join(dataDir, 'logs', 'kms.log');
    const identityLog = join(dataDir, 'logs', 'identity.log');
    const kms = await step(progress, 'local KMS', () =>
      startLocalKms({
        dataDir: join(dataDir, 'kms'),
        credentials: awsCredentials,
        port: options.ports?.kms ?? 0,
        region: REGION,
        // Synchronous, so a test that reads the log after a response sees every call the request made.
        log: (line) => appendPrivateLine(kmsLog, `${new Date().toISOString()} ${line}\n`),
      }),
    );
    cleanups.push(() => kms.close());

    const eventsLog = join(dataDir, 'logs', 'events.log');
    const eventsDeadLetterLog = join(dataDir, 'logs', 'events-dead-letter.log');
    const eventStreamDeadLetterLog = join(dataDir, 'logs', 'event-stream-dead-letter.log');
    const eventBridgeLog = join(dataDir, 'logs', 'eventbridge.log');
    const eventBridge = await step(progress, 'local EventBridge', () =>
      startLocalEventBridge({
        dataDir: join(dataDir, 'eventbridge'),
        credentials: awsCredentials,
        buses: [EVENT_BUS],
        eventsLog,
        deadLetterLog: eventsDeadLetterLog,
        caFile: ca.caFile,
        port: options.ports?.eventbridge ?? 0,
        region: REGION,
        log: (line) => appendPrivateLine(eventBridgeLog, `${new Date().toISOString()} ${line}\n`),
      }),
    );
    cleanups.push(() => eventBridge.close());

    const idp = await step(progress, 'identity provider', () =>
      startIdentityProvider({
        dataDir: join(dataDir, 'identity'),
        port: options.ports?.identity ?? 0,
        tls,
        log: (line) => appendPrivateLine(identityLog, `${new Date().toISOString()} ${line}\n`),
      }),
    );
    cleanups.push(() => idp.close());

    const state = await step(progress, 'vault bootstrap', () =>
      bootstrap(join(dataDir, 'identity', 'bootstrap.json'), dynamo.endpoint, { endpoint: kms.endpoint, credentials: awsCredentials }, idp, {
        strictAudit: options.strictAudit,
      }),
    );

    const audience = `https://${VAULT_DOMAIN}`;
    const gatewayLog = join(dataDir, 'logs', 'gateway.log');
    const poolTokens = await poolTokenEnvironment(dataDir);
    // The gateway's environment for an endpoint pool: it may start on a second pool (startGatewayOnPorts).
    const environmentFor = (vaultEndpoints: string[]): NodeJS.ProcessEnv => {
      const functionInputs: LocalFunctionInputs = {
        vaultName: DEFAULT_VAULT,
        vaultDomain: VAULT_DOMAIN,
        tenantId: state.tenantId,
        issuer: idp.issuer(state.tenantId),
        jwksUri: idp.jwksUri(state.tenantId),
        authorityHost: idp.authorityHost,
        audience,
        endpoints: { dynamodb: dynamo.endpoint, kms: kms.endpoint, eventbridge: eventBridge.endpoint },
        tables: TABLES,
        subscriptionId: state.subscriptionId,
        administratorObjectId: state.admin.objectId,
        vaultEndpoints,
        awsCredentials,
        clockOffsetsFile: clockOffsetsFileIn(dataDir),
      };
      return {
        ...withoutAwsVariables(process.env),
        NODE_EXTRA_CA_CERTS: ca.caFile,
        ...localFunctionEnvironment(functionInputs),
        COFFER_TLS_CERT_FILE: join(tlsDir, 'server.pem'),
        COFFER_TLS_KEY_FILE: join(tlsDir, 'server-key.pem'),
        COFFER_GATEWAY_PORT: String(options.ports?.gateway ?? 0),
        COFFER_MANAGEMENT_PORT: String(options.ports?.management ?? 0),
        COFFER_GATEWAY_LOG: gatewayLog,
        COFFER_AUDIT_DELIVERY_STATE: join(dataDir, 'logs', 'audit-delivery.json'),
        COFFER_AUDIT_DELIVERY: options.auditDelivery === false ? 'off' : 'on',
        COFFER_EVENT_STREAM: options.eventStream === false ? 'off' : 'on',
        COFFER_VAULT_LIMITS: options.vaultLimits ? 'on' : 'off',
        COFFER_EVENT_STREAM_STATE: join(dataDir, 'logs', 'event-stream.json'),
        COFFER_EVENT_STREAM_DEAD_LETTER: eventStreamDeadLetterLog,
        ...poolTokens,
        // The pools' full backups (docs/adr/0025): each storage URI a folder here, never a network call.
        COFFER_POOL_BACKUP_DIRECTORY: join(dataDir, 'backups'),
      };
    };
    const gateway = await step(progress, 'HTTPS gateway', () => startGatewayOnPorts(options.vaultEndpointPorts, environmentFor, gatewayLog));
    cleanups.push(() => stopChild(gateway.child));
    const { vaultEndpoints } = gateway;

    const vaultUrl = `https://localhost:${gateway.port}`;
    const info: LocalStackInfo = {
      vaultUrl,
      vaultName: DEFAULT_VAULT,
      vaultDomain: VAULT_DOMAIN,
      vaultHostUrl: `https://${DEFAULT_VAULT}.${VAULT_DOMAIN}:${gateway.port}`,
      caFile: ca.caFile,
      tenantId: state.tenantId,
      subscriptionId: state.subscriptionId,
      managementUrl: `https://localhost:${gateway.managementPort}`,
      managementScope: `${MANAGEMENT_AUDIENCE}/.default`,
      resourceGroup: DEFAULT_RESOURCE_GROUP,
      vaultEndpoints,
      authorityHost: idp.authorityHost,
      clientId: state.admin.clientId,
      clientSecret: state.admin.clientSecret,
      objectId: state.admin.objectId,
      clientCertificateFile: state.admin.certificateFile,
      managedIdentity: { ...idp.managedIdentity, ...state.managedIdentity },
      unprivileged: state.unprivileged,
      roleless: state.roleless,
      issuer: idp.issuer(state.tenantId),
      jwksUri: idp.jwksUri(state.tenantId),
      audience,
      endpoints: { dynamodb: dynamo.endpoint, kms: kms.endpoint, eventbridge: eventBridge.endpoint },
      eventBus: EVENT_BUS,
      eventsLog,
      eventsDeadLetterLog,
      eventStreamDeadLetterLog,
      awsCredentials,
      tables: TABLES,
      gatewayLog,
      inProcessAuditLog: join(dataDir, 'logs', 'in-process-audit.log'),
      kmsLog,
      identityLog,
      clockOffsetsFile: clockOffsetsFileIn(dataDir),
    };
    await writePrivateFile(join(dataDir, 'local.json'), `${JSON.stringify(info, null, 2)}\n`);
    // What the parts in this process made with its own umask (the CA, the identity provider's files).
    await restrictToOwner(dataDir);
    return { info, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Debian's SoftHSM2 (scripts/ensure-softhsm.sh installs it): the local stack's PKCS#11 library for managed HSM pools. */
const SOFTHSM2_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';

/**
 * Each managed HSM pool's own SoftHSM2 token (docs/adr/0022-pool-data-plane.md), kept in the stack's
 * data directory: a configuration of the stack's own naming `softhsm/tokens` there (SOFTHSM2_CONF,
 * which the library reads once, at its first use in the gateway), the library and that directory
 * for the functions. Without SoftHSM2 the stack starts and its pools have no HSM (their key and
 * security domain routes answer 503).
 */
async function poolTokenEnvironment(dataDir: string): Promise<NodeJS.ProcessEnv> {
  if (!existsSync(SOFTHSM2_LIBRARY)) return {};
  const tokenDirectory = join(dataDir, 'softhsm', 'tokens');
  await makePrivateDirectory(join(dataDir, 'softhsm'));
  await makePrivateDirectory(tokenDirectory);
  const conf = join(dataDir, 'softhsm', 'softhsm2.conf');
  await writePrivateFile(conf, `directories.tokendir = ${tokenDirectory}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  return { SOFTHSM2_CONF: conf, COFFER_PKCS11_LIBRARY: SOFTHSM2_LIBRARY, COFFER_PKCS11_TOKEN_DIRECTORY: tokenDirectory };
}

async function step<T>(progress: (message: string) => void, name: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  progress(`  starting ${name}...`);
  const result = await run();
  progress(`  ${name} ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

/** The attempts at a part's start when it finds a port picked for it taken. */
const PORT_PICK_ATTEMPTS = 3;

/**
 * Runs `start`, which picks its free ports unless they were `given`, again while it finds one taken:
 * picked ports are free when picked, but a part listens on them a while later (the gateway loads
 * every handler first, DynamoDB Local starts a JVM), and in the meantime another process may take one
 * (a parallel test's listener, or a client connection's ephemeral port). A given port that is taken
 * is the caller's to free, and fails the start.
 */
async function startOnFreePorts<T>(given: boolean, start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (!(error instanceof PortTaken) || given || attempt === PORT_PICK_ATTEMPTS) throw error;
    }
  }
}

/** The gateway on the vault endpoint ports given, or on free ones (startOnFreePorts). */
function startGatewayOnPorts(
  givenPorts: readonly number[] | undefined,
  environmentFor: (vaultEndpoints: string[]) => NodeJS.ProcessEnv,
  logFile: string,
): Promise<{ child: ChildProcess; port: number; managementPort: number; vaultEndpoints: string[] }> {
  return startOnFreePorts(givenPorts !== undefined, async () => {
    const vaultEndpoints = (givenPorts ?? (await freePorts(TEST_VAULT_ENDPOINTS))).map((port) => `https://localhost:${port}`);
    return { ...(await startGatewayProcess(environmentFor(vaultEndpoints), logFile)), vaultEndpoints };
  });
}

/** DynamoDB Local on the port given, or on a free one (startOnFreePorts). */
function startDynamoDbOnPort(dataDir: string, givenPort: number | undefined) {
  return startOnFreePorts(Boolean(givenPort), async () => startDynamoDbLocal(dataDir, givenPort || (await freePort())));
}

async function startGatewayProcess(env: NodeJS.ProcessEnv, logFile: string): Promise<{ child: ChildProcess; port: number; managementPort: number }> {
  // Owner-only: the functions' log stream holds their audit records (callers, addresses, object names).
  const log = await open(logFile, 'a', 0o600);
  await chmod(logFile, 0o600);
  // The gateway writes the audit delivery's state file: owner-only from the start, like the log.
  const child = withOwnerOnlyUmask(() =>
    fork(join(here, 'gateway-main.ts'), [], {
      env,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', log.fd, log.fd, 'ipc'],
    }),
  );
  child.once('exit', () => void log.close().catch(() => undefined));
  const ports = await new Promise<{ port: number; managementPort: number }>((resolvePorts, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within 60 s; see ${logFile}`)), 60_000);
    let taken: number | undefined;
    child.once('message', (message: { type?: string; port?: number; managementPort?: number }) => {
      if (message.type === 'port-taken') taken = message.port;
      else if (message.type === 'ready' && message.port && message.managementPort) {
        clearTimeout(timer);
        resolvePorts({ port: message.port, managementPort: message.managementPort });
      } else reject(new Error('the gateway sent an unexpected start-up message'));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (taken !== undefined) reject(new PortTaken(`the gateway found port ${taken} taken`));
      else reject(new Error(`the gateway exited during start-up (code ${code}); see ${logFile}`));
    });
  });
  return { child, ...ports };
}

/**
 * The launcher's environment without the developer's own AWS settings: the functions must sign with
 * the stack's credential (localFunctionEnvironment), never with a profile, role or token from the
 * shell, which would also hand a real credential to a local endpoint.
 */
function withoutAwsVariables(environment: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(environment).filter(([name]) => !name.startsWith('AWS_')));
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/** `count` distinct free ports: all are held open together, so none is handed out twice. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolvePort, reject) => {
            server.once('error', reject);
            server.listen(0, '127.0.0.1', () => resolvePort((server.address() as { port: number }).port));
          }),
      ),
    );
  } finally {
    await Promise.all(servers.map((server) => new Promise((closed) => (server.listening ? server.close(closed) : closed(undefined)))));
  }
}
