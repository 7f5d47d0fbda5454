import { Logger } from '@aws-lambda-powertools/logger';
import { AccessControl } from '../access/access-control.ts';
import type { AuditSink } from '../audit/audit.ts';
import { AuditTrail, fileAuditLog, streamAuditLog } from '../audit/log-stream.ts';
import { TokenAuthenticator } from '../auth/authenticate.ts';
import { EnvelopeCipher } from '../crypto/envelope.ts';
import type { PipelineServices } from '../http/services.ts';
import { BackupProtector } from '../objects/backup.ts';
import { ObjectSealer } from '../objects/sealing.ts';
import type { ObjectStore } from '../objects/store.ts';
import { VaultDirectory } from '../vaults/directory.ts';
import type { Vault } from '../vaults/vault.ts';
import { dynamoDocumentClient, kmsClient } from '../aws/clients.ts';
import { DynamoAccessStore } from '../aws/dynamo-access.ts';
import { DynamoAuditStore } from '../aws/dynamo-audit.ts';
import { DynamoObjectStore } from '../aws/dynamo-objects.ts';
import { DynamoVaultStore } from '../aws/dynamo-vaults.ts';
import { KmsDataKeys } from '../aws/kms-data-keys.ts';
import type { VaultClock } from '../core/clock.ts';
import { configuredVaultClock } from './clock-offsets.ts';
import { type Config, config } from './config.ts';

/**
 * The shared composition root: what every function family uses (configuration, logger, the DynamoDB
 * and KMS adapters, the vault directory, the authenticator, the audit sink, sealing and backups). Built
 * lazily on the first request, so a handler module imports without configuration (tests, packaging),
 * and once per container, so clients and caches live as long as the container. The families' roots
 * (lib/runtime/secrets.ts, keys.ts) add their own services on top.
 */
export interface SharedServices {
  config: Config;
  logger: Logger;
  vaults: VaultDirectory;
  authenticator: TokenAuthenticator;
  audit: AuditSink;
  /** Every access decision, and the role assignments and definitions it reads. */
  access: AccessControl;
  accessStore: DynamoAccessStore;
  /** The audit records, read back by the management plane's audit query. */
  auditStore: DynamoAuditStore;
  vaultStore: DynamoVaultStore;
  /** The container's one DynamoDB client: the management root builds its stores on it. */
  dynamo: ReturnType<typeof dynamoDocumentClient>;
  /** The container's one KMS client: the keys root builds its HSM adapter on it. */
  kms: ReturnType<typeof kmsClient>;
  objects: ObjectStore;
  sealer: ObjectSealer;
  backups: BackupProtector;
  /**
   * The clock every domain service reads, per vault: real time, plus the local stack's time shift
   * where the configuration names one (lib/runtime/clock-offsets.ts). Token validation does not read it.
   */
  clock: VaultClock;
  /** What the request pipeline needs, out of the above. */
  pipeline: PipelineServices;
}

let current: SharedServices | undefined;

function services(): SharedServices {
  current ??= buildServices(config());
  return current;
}

/** The pipeline's view of the shared root, for the families' `operations(...)`. */
export function pipelineServices(): PipelineServices {
  return services().pipeline;
}

/**
 * A vault's record as stored, deleted or not (the pipeline's directory finds live vaults only): the
 * local time shift moves a deleted vault's clock too, towards its purge.
 */
export function storedVault(name: string): Promise<Vault | undefined> {
  return services().vaultStore.getVault(name.toLowerCase());
}

/**
 * For the local gateway, tests and benchmarks, after the environment changed. The families' services
 * are built on the shared root and follow it (see `familyServices`).
 */
export function resetServices(): void {
  current = undefined;
}

/** A family's services, built once per shared root: rebuilt after `resetServices()`. */
export function familyServices<T>(build: (shared: SharedServices) => T): () => T {
  let cached: { root: SharedServices; services: T } | undefined;
  return () => {
    const root = services();
    if (cached?.root !== root) cached = { root, services: build(root) };
    return cached.services;
  };
}

function buildServices(cfg: Config): SharedServices {
  const logger = new Logger({ serviceName: 'coffer' });
  const dynamo = dynamoDocumentClient(cfg.region);
  const kms = kmsClient(cfg.region);
  const dataKeys = new KmsDataKeys(kms);
  const cipher = new EnvelopeCipher(dataKeys);
  const vaultStore = new DynamoVaultStore(dynamo, cfg.objectsTable);
  const vaults = new VaultDirectory(vaultStore, dataKeys, cfg.vaultDomain, cfg.hostAliases, cfg.vaultEndpoints);
  const authenticator = new TokenAuthenticator(cfg.trustedIssuers, cfg.vaultDomain, cfg.managementAudience);
  const accessStore = new DynamoAccessStore(dynamo, cfg.objectsTable);
  const access = new AccessControl(accessStore, { tenantAdministrators: cfg.tenantAdministrators });
  const subscriptionTenants = new Map(cfg.subscriptions.map((s) => [s.subscriptionId.toLowerCase(), s.tenantId]));
  const subscriptions = { tenantOf: (id: string) => subscriptionTenants.get(id.toLowerCase()) };
  // The log stream is standard output (CloudWatch Logs in Lambda); strict vaults write to the store.
  const auditStore = new DynamoAuditStore(dynamo, cfg.auditTable, cfg.auditRetentionDays);
  const audit = new AuditTrail(cfg.auditLog ? fileAuditLog(cfg.auditLog) : streamAuditLog(process.stdout), auditStore);
  return {
    config: cfg,
    logger,
    vaults,
    authenticator,
    audit,
    access,
    accessStore,
    auditStore,
    vaultStore,
    dynamo,
    kms,
    objects: new DynamoObjectStore(dynamo, cfg.objectsTable),
    sealer: new ObjectSealer(cipher),
    backups: new BackupProtector(cipher, cfg.backupKeyId),
    clock: configuredVaultClock(cfg),
    pipeline: { vaults, authenticator, audit, logger, region: cfg.region, access, subscriptions },
  };
}
