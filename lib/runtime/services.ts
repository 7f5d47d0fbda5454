import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { AuditSink } from '../audit/audit.ts';
import { TokenAuthenticator } from '../auth/authenticate.ts';
import { type Config, config } from './config.ts';
import { EnvelopeCipher } from '../crypto/envelope.ts';
import { KmsKeyProtection } from '../aws/kms.ts';
import { BackupProtector } from '../objects/backup.ts';
import { ObjectSealer } from '../objects/sealing.ts';
import { KeyService } from '../keys/keys.ts';
import { SecretService } from '../secrets/secrets.ts';
import { DynamoAuditSink } from '../aws/dynamo-audit.ts';
import { DynamoObjectStore } from '../aws/dynamo-objects.ts';
import { DynamoVaultStore } from '../aws/dynamo-vaults.ts';
import { VaultDirectory } from '../vaults/directory.ts';

/**
 * The composition root: wires the adapters (DynamoDB, KMS) into the domain once per container. Built
 * lazily on the first request so a handler module can be imported without configuration (tests,
 * packaging) and so caches live as long as the container.
 */
export interface Services {
  config: Config;
  logger: Logger;
  vaults: VaultDirectory;
  authenticator: TokenAuthenticator;
  audit: AuditSink;
  secrets: SecretService;
  keys: KeyService;
  keyProtection: KmsKeyProtection;
  vaultStore: DynamoVaultStore;
}

let current: Services | undefined;

export function services(): Services {
  current ??= buildServices(config());
  return current;
}

/** For the local gateway and tests, after the environment changed. */
export function resetServices(): void {
  current = undefined;
}

export function buildServices(cfg: Config): Services {
  const logger = new Logger({ serviceName: 'coffer' });
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ region: cfg.region }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const keyProtection = new KmsKeyProtection(new KMSClient({ region: cfg.region }));
  const cipher = new EnvelopeCipher(keyProtection);
  const objects = new DynamoObjectStore(dynamo, cfg.objectsTable);
  const sealer = new ObjectSealer(cipher);
  const backups = new BackupProtector(cipher, cfg.backupKeyId);
  const vaultStore = new DynamoVaultStore(dynamo, cfg.objectsTable);
  return {
    config: cfg,
    logger,
    vaults: new VaultDirectory(vaultStore, keyProtection, cfg.vaultDomain, cfg.hostAliases),
    authenticator: new TokenAuthenticator(cfg.trustedIssuers, cfg.vaultDomain),
    audit: new DynamoAuditSink(dynamo, cfg.auditTable, cfg.auditRetentionDays),
    secrets: new SecretService(objects, sealer, backups),
    keys: new KeyService(
      objects,
      sealer,
      backups,
      keyProtection,
      (message, details) => logger.warn(message, details),
      cfg.deployment ? { 'coffer:deployment': cfg.deployment } : {},
    ),
    keyProtection,
    vaultStore,
  };
}
