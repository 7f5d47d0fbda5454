import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { encodedEnvironment } from '#lib/runtime/environment';
import { readOrCreateFile } from './files.ts';

/**
 * The environment the production handlers get on the local stack, in the gateway's process and in
 * tests and benchmarks that call them in their own: the function environment
 * (lib/runtime/environment.ts, the same serverless.yml gives every function) filled in from the
 * stack, plus the AWS SDK's own variables that point it at DynamoDB Local and the local KMS.
 */
export const VAULT_DOMAIN = 'vault.localhost';
export const DEFAULT_VAULT = 'default';
export const TABLES = { objects: 'coffer-objects', audit: 'coffer-audit' };
export const BACKUP_KEY_ALIAS = 'alias/coffer-backup';
export const REGION = 'us-east-1';
/** The bus Key Vault's events go to on the local stack (COFFER_EVENT_BUS); the local EventBridge has it and `default`. */
export const EVENT_BUS = 'coffer-local';
/** The management plane's token audience: ARM clients ask for `<this>/.default`. */
export const MANAGEMENT_AUDIENCE = 'https://management.localhost';
export const DEFAULT_RESOURCE_GROUP = 'coffer-local';
/**
 * For DynamoDB Local only, which checks no credential at all (what keeps it private is its loopback
 * bind and its owner-only files). The local KMS refuses this one: it accepts only the stack's own.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * The stack's own AWS credential, the only one the local KMS accepts: made at the first start of a
 * data directory and kept in it (owner-only), so a restart, and local.json's readers, use the same.
 */
export async function stackCredentials(dataDir: string): Promise<AwsCredentials> {
  const text = await readOrCreateFile(join(dataDir, 'aws-credentials.json'), () => `${JSON.stringify(newCredentials(), null, 2)}\n`);
  const parsed = JSON.parse(text) as Partial<AwsCredentials>;
  if (typeof parsed.accessKeyId !== 'string' || typeof parsed.secretAccessKey !== 'string' || !parsed.accessKeyId || !parsed.secretAccessKey) {
    throw new Error(`${join(dataDir, 'aws-credentials.json')} holds no accessKeyId and secretAccessKey; remove it to make a new credential`);
  }
  return { accessKeyId: parsed.accessKeyId, secretAccessKey: parsed.secretAccessKey };
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Shaped like an AWS access key (AKIA + 16 base32 characters) so tools that check the shape accept it. */
function newCredentials(): AwsCredentials {
  const id = [...randomBytes(16)].map((byte) => BASE32[byte % 32]).join('');
  return { accessKeyId: `AKIA${id}`, secretAccessKey: randomBytes(30).toString('base64') };
}

/** What the environment is made from: the running stack's parts, all of them in `.coffer/local.json`. */
export interface LocalFunctionInputs {
  vaultName: string;
  vaultDomain: string;
  tenantId: string;
  issuer: string;
  jwksUri: string;
  authorityHost: string;
  /** The vault's token audience, `https://<vault domain>`. */
  audience: string;
  /** Without `eventbridge` the functions get no bus: the event function then refuses to run instead of reaching for AWS. */
  endpoints: { dynamodb: string; kms: string; eventbridge?: string };
  tables: { objects: string; audit: string };
  /** A file for the audit records instead of standard output: for handlers outside the gateway (config.ts). */
  auditLog?: string;
  /** The local subscription (in the local tenant) and its administrator (Owner, and tenant administrator). */
  subscriptionId?: string;
  administratorObjectId?: string;
  /** Loopback base URLs each new vault claims one of (config.ts `vaultEndpoints`). */
  vaultEndpoints?: string[];
  /**
   * The stack's AWS credential (stackCredentials). Absent, the environment names none, so the first
   * AWS call fails at once instead of signing with a credential the local KMS refuses.
   */
  awsCredentials?: AwsCredentials;
  /**
   * The time shift's offsets file (config.ts `clockOffsetsFile`, `POST /_coffer/time`), in the data
   * directory so that a restart keeps the shifted clocks: `clockOffsetsFileIn(dataDir)`.
   */
  clockOffsetsFile?: string;
}

/** Where a stack keeps its time shift's offsets. */
export function clockOffsetsFileIn(dataDir: string): string {
  return join(dataDir, 'clock-offsets.json');
}

export function localFunctionEnvironment(stack: LocalFunctionInputs): Record<string, string> {
  return {
    AWS_REGION: REGION,
    ...(stack.awsCredentials
      ? { AWS_ACCESS_KEY_ID: stack.awsCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: stack.awsCredentials.secretAccessKey }
      : {}),
    // Empty, not absent: a session token in the developer's own environment must not be sent along
    // (the local KMS refuses any), and both the AWS SDK and lib/aws/api treat empty as none.
    AWS_SESSION_TOKEN: '',
    AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
    AWS_ENDPOINT_URL_KMS: stack.endpoints.kms,
    ...(stack.endpoints.eventbridge ? { AWS_ENDPOINT_URL_EVENTBRIDGE: stack.endpoints.eventbridge } : {}),
    // Never let the AWS SDK look for credentials at the instance metadata address.
    AWS_EC2_METADATA_DISABLED: 'true',
    ...encodedEnvironment({
      tables: stack.tables,
      vaultDomain: stack.vaultDomain,
      hostAliases: { localhost: stack.vaultName, '127.0.0.1': stack.vaultName },
      trustedIssuers: [
        {
          tenantId: stack.tenantId,
          issuer: stack.issuer,
          jwksUri: stack.jwksUri,
          // Besides the vault's own audience, Key Vault's resource URI and application id, which SDKs set up for Azure ask for.
          audiences: [stack.audience, 'https://vault.azure.net', 'cfa8b339-82a2-471a-a3c9-0fc0be7a4093'],
          authority: `${stack.authorityHost}/${stack.tenantId}`,
        },
      ],
      managementAudience: MANAGEMENT_AUDIENCE,
      subscriptions: stack.subscriptionId ? [{ subscriptionId: stack.subscriptionId, tenantId: stack.tenantId, displayName: 'Coffer local' }] : [],
      tenantAdministrators: stack.administratorObjectId ? [{ tenantId: stack.tenantId, objectId: stack.administratorObjectId }] : [],
      vaultEndpoints: stack.vaultEndpoints ?? [],
      backupKeyId: BACKUP_KEY_ALIAS,
      region: 'local',
      // What config.ts assumes when the variable is absent.
      auditRetentionDays: 365,
      ...(stack.auditLog ? { auditLog: stack.auditLog } : {}),
      ...(stack.clockOffsetsFile ? { clockOffsetsFile: stack.clockOffsetsFile } : {}),
      ...(stack.endpoints.eventbridge ? { eventBus: EVENT_BUS } : {}),
    }),
  };
}
