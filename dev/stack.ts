import { type ChildProcess, fork } from 'node:child_process';
import { createServer } from 'node:net';
import { appendFileSync } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient, NotFoundException } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { roleIds } from '#lib/access/rbac';
import { KmsKeyProtection } from '#lib/aws/kms';
import { auditTable, objectsTable } from '#lib/aws/tables';
import { DynamoVaultStore } from '#lib/aws/dynamo-vaults';
import { createVault } from '#lib/vaults/create';
import { localClient, ensureTables, startDynamoDbLocal, stopChild } from './dynamodb.ts';
import { writeFileAtomic } from './files.ts';
import { startIdentityProvider } from './idp/server.ts';
import { startLocalKms } from './kms/server.ts';
import { ensureLocalCa, issueServerCertificate } from './tls.ts';

/**
 * The whole local Coffer on one machine: DynamoDB Local, the local KMS endpoint, the development
 * identity provider and the HTTPS gateway running the production handlers. `npm start` runs it with
 * fixed ports and `.coffer/`; the test suite runs it with free ports in a temporary directory.
 */
export interface StackOptions {
  dataDir: string;
  ports?: Partial<Record<'gateway' | 'identity' | 'kms' | 'dynamodb', number>>;
  /** Where progress lines go; the test suite passes a quiet one. */
  progress?: (message: string) => void;
}

/** What `.coffer/local.json` holds: everything a script or test suite needs to use the local vault. */
export interface LocalStackInfo {
  vaultUrl: string;
  vaultName: string;
  vaultDomain: string;
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
  issuer: string;
  jwksUri: string;
  audience: string;
  endpoints: { dynamodb: string; kms: string };
  tables: { objects: string; audit: string };
  gatewayLog: string;
  /** One line per local KMS request (operation and result, never material). */
  kmsLog: string;
  identityLog: string;
}

/**
 * The environment a deployed function gets, pointed at a running local stack: for tests and bench/
 * that run the production handlers in their own process. Logs are silenced; set what differs after.
 */
export function functionEnvironment(info: LocalStackInfo, options: { jwksUri?: string } = {}): Record<string, string> {
  return {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: info.endpoints.dynamodb,
    AWS_ENDPOINT_URL_KMS: info.endpoints.kms,
    AWS_EC2_METADATA_DISABLED: 'true',
    COFFER_OBJECTS_TABLE: info.tables.objects,
    COFFER_AUDIT_TABLE: info.tables.audit,
    COFFER_VAULT_DOMAIN: info.vaultDomain,
    COFFER_HOST_ALIASES: JSON.stringify({ localhost: info.vaultName }),
    COFFER_TRUSTED_ISSUERS: JSON.stringify([
      {
        tenantId: info.tenantId,
        issuer: info.issuer,
        jwksUri: options.jwksUri ?? info.jwksUri,
        audiences: [info.audience],
        authority: `${info.authorityHost}/${info.tenantId}`,
      },
    ]),
    COFFER_BACKUP_KEY_ID: BACKUP_KEY_ALIAS,
    COFFER_REGION: 'local',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
}

export interface RunningStack {
  info: LocalStackInfo;
  stop(): Promise<void>;
}

const here = fileURLToPath(new URL('.', import.meta.url));
export const VAULT_DOMAIN = 'vault.localhost';
export const DEFAULT_VAULT = 'default';
const TABLES = { objects: 'coffer-objects', audit: 'coffer-audit' };
const BACKUP_KEY_ALIAS = 'alias/coffer-backup';
const REGION = 'us-east-1';
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

interface BootstrapState {
  tenantId: string;
  admin: { clientId: string; clientSecret: string; objectId: string; certificateFile: string };
  managedIdentity: { clientId: string; objectId: string };
  unprivileged: { clientId: string; clientSecret: string; objectId: string };
}

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const dataDir = resolve(options.dataDir);
  const progress = options.progress ?? (() => undefined);
  await mkdir(join(dataDir, 'logs'), { recursive: true });
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const ca = await step(progress, 'TLS certificate authority', () => ensureLocalCa(dataDir));
    const tls = await issueServerCertificate(ca, { dns: ['localhost', `*.${VAULT_DOMAIN}`], ips: ['127.0.0.1', '::1'] });
    const tlsDir = join(dataDir, 'tls');
    await writePrivate(join(tlsDir, 'server.pem'), tls.certPem);
    await writePrivate(join(tlsDir, 'server-key.pem'), tls.keyPem);

    const dynamo = await step(progress, 'DynamoDB Local', async () =>
      startDynamoDbLocal(join(dataDir, 'dynamodb'), options.ports?.dynamodb || (await freePort())),
    );
    cleanups.push(() => dynamo.stop());
    await ensureTables(dynamo.endpoint, [
      { name: TABLES.objects, definition: objectsTable },
      { name: TABLES.audit, definition: auditTable },
    ]);

    const kmsLog = join(dataDir, 'logs', 'kms.log');
    const identityLog = join(dataDir, 'logs', 'identity.log');
    const kms = await step(progress, 'local KMS', () =>
      startLocalKms({
        dataDir: join(dataDir, 'kms'),
        port: options.ports?.kms ?? 0,
        region: REGION,
        // Synchronous, so a test that reads the log after a response sees every call the request made.
        log: (line) => appendFileSync(kmsLog, `${new Date().toISOString()} ${line}\n`),
      }),
    );
    cleanups.push(() => kms.close());

    const idp = await step(progress, 'identity provider', () =>
      startIdentityProvider({
        dataDir: join(dataDir, 'identity'),
        port: options.ports?.identity ?? 0,
        tls,
        log: (line) => appendFileSync(identityLog, `${new Date().toISOString()} ${line}\n`),
      }),
    );
    cleanups.push(() => idp.close());

    const state = await step(progress, 'vault bootstrap', () => bootstrap(dataDir, dynamo.endpoint, kms.endpoint, idp));

    const audience = `https://${VAULT_DOMAIN}`;
    const gatewayLog = join(dataDir, 'logs', 'gateway.log');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_EXTRA_CA_CERTS: ca.caFile,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_KMS: kms.endpoint,
      // Never let the AWS SDK look for credentials at the instance metadata address.
      AWS_EC2_METADATA_DISABLED: 'true',
      COFFER_OBJECTS_TABLE: TABLES.objects,
      COFFER_AUDIT_TABLE: TABLES.audit,
      COFFER_VAULT_DOMAIN: VAULT_DOMAIN,
      COFFER_HOST_ALIASES: JSON.stringify({ localhost: DEFAULT_VAULT, '127.0.0.1': DEFAULT_VAULT }),
      COFFER_TRUSTED_ISSUERS: JSON.stringify([
        {
          tenantId: state.tenantId,
          issuer: idp.issuer(state.tenantId),
          jwksUri: idp.jwksUri(state.tenantId),
          audiences: [audience, 'https://vault.azure.net', 'cfa8b339-82a2-471a-a3c9-0fc0be7a4093'],
          authority: `${idp.authorityHost}/${state.tenantId}`,
        },
      ]),
      COFFER_BACKUP_KEY_ID: BACKUP_KEY_ALIAS,
      COFFER_REGION: 'local',
      COFFER_TLS_CERT_FILE: join(tlsDir, 'server.pem'),
      COFFER_TLS_KEY_FILE: join(tlsDir, 'server-key.pem'),
      COFFER_GATEWAY_PORT: String(options.ports?.gateway ?? 0),
      POWERTOOLS_SERVICE_NAME: 'coffer',
    };
    const gateway = await step(progress, 'HTTPS gateway', () => startGatewayProcess(env, gatewayLog));
    cleanups.push(() => stopChild(gateway.child));

    const vaultUrl = `https://localhost:${gateway.port}`;
    const info: LocalStackInfo = {
      vaultUrl,
      vaultName: DEFAULT_VAULT,
      vaultDomain: VAULT_DOMAIN,
      vaultHostUrl: `https://${DEFAULT_VAULT}.${VAULT_DOMAIN}:${gateway.port}`,
      caFile: ca.caFile,
      tenantId: state.tenantId,
      authorityHost: idp.authorityHost,
      clientId: state.admin.clientId,
      clientSecret: state.admin.clientSecret,
      objectId: state.admin.objectId,
      clientCertificateFile: state.admin.certificateFile,
      managedIdentity: { ...idp.managedIdentity, ...state.managedIdentity },
      unprivileged: state.unprivileged,
      issuer: idp.issuer(state.tenantId),
      jwksUri: idp.jwksUri(state.tenantId),
      audience,
      endpoints: { dynamodb: dynamo.endpoint, kms: kms.endpoint },
      tables: TABLES,
      gatewayLog,
      kmsLog,
      identityLog,
    };
    await writePrivate(join(dataDir, 'local.json'), `${JSON.stringify(info, null, 2)}\n`);
    return { info, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function step<T>(progress: (message: string) => void, name: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  progress(`  starting ${name}...`);
  const result = await run();
  progress(`  ${name} ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

/**
 * First start: a tenant, an administrator service principal (secret and certificate), a managed
 * identity, an unprivileged principal, the backup key, and the default vault granting the first two
 * Key Vault Administrator. Later starts find all of it in place and change nothing.
 */
async function bootstrap(
  dataDir: string,
  dynamoEndpoint: string,
  kmsEndpoint: string,
  idp: Awaited<ReturnType<typeof startIdentityProvider>>,
): Promise<BootstrapState> {
  const statePath = join(dataDir, 'identity', 'bootstrap.json');
  let state = await readJson<BootstrapState>(statePath);
  if (!state) {
    const tenantId = await idp.ensureDefaultTenant();
    const admin = await idp.registerServicePrincipal(tenantId, { displayName: 'coffer-admin', secret: true, certificate: true });
    const managed = await idp.registerManagedIdentity(tenantId, { displayName: 'coffer-local-identity', systemAssigned: true });
    const other = await idp.registerServicePrincipal(tenantId, { displayName: 'coffer-unprivileged', secret: true });
    state = {
      tenantId,
      admin: { clientId: admin.clientId, clientSecret: admin.clientSecret!, objectId: admin.objectId, certificateFile: admin.certificateFile! },
      managedIdentity: { clientId: managed.clientId, objectId: managed.objectId },
      unprivileged: { clientId: other.clientId, clientSecret: other.clientSecret!, objectId: other.objectId },
    };
    await writePrivate(statePath, JSON.stringify(state, null, 2));
  }

  const kms = new KMSClient({ endpoint: kmsEndpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
  const dynamo = localClient(dynamoEndpoint);
  try {
    await ensureKeyAlias(kms, BACKUP_KEY_ALIAS, 'Coffer backups: protects backup blobs so they restore within their tenant');
    const vaults = new DynamoVaultStore(DynamoDBDocumentClient.from(dynamo), TABLES.objects);
    if (!(await vaults.getVault(DEFAULT_VAULT))) {
      await createVault(vaults, new KmsKeyProtection(kms), {
        name: DEFAULT_VAULT,
        tenantId: state.tenantId,
        sku: 'premium',
        grants: [
          { principalId: state.admin.objectId, roleDefinitionId: roleIds.administrator },
          { principalId: state.managedIdentity.objectId, roleDefinitionId: roleIds.administrator },
        ],
      });
    }
  } finally {
    kms.destroy();
    dynamo.destroy();
  }
  return state;
}

async function ensureKeyAlias(kms: KMSClient, alias: string, description: string): Promise<void> {
  try {
    await kms.send(new DescribeKeyCommand({ KeyId: alias }));
  } catch (error) {
    if (!(error instanceof NotFoundException)) throw error;
    const created = await kms.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', Description: description }));
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: created.KeyMetadata!.KeyId! }));
  }
}

async function startGatewayProcess(env: NodeJS.ProcessEnv, logFile: string): Promise<{ child: ChildProcess; port: number }> {
  const log = await open(logFile, 'a');
  const child = fork(join(here, 'gateway-main.ts'), [], {
    env,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', log.fd, log.fd, 'ipc'],
  });
  child.once('exit', () => void log.close().catch(() => undefined));
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within 60 s; see ${logFile}`)), 60_000);
    child.once('message', (message: { type?: string; port?: number }) => {
      clearTimeout(timer);
      if (message.type === 'ready' && message.port) resolvePort(message.port);
      else reject(new Error('the gateway sent an unexpected start-up message'));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited during start-up (code ${code}); see ${logFile}`));
    });
  });
  return { child, port };
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Files holding credentials or keys: owner-only, written atomically, their folder made first. */
async function writePrivate(path: string, content: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFileAtomic(path, content);
}
