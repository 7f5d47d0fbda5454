import { encodedEnvironment } from '#lib/runtime/environment';

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
/** The management plane's token audience: ARM clients ask for `<this>/.default`. */
export const MANAGEMENT_AUDIENCE = 'https://management.localhost';
export const DEFAULT_RESOURCE_GROUP = 'coffer-local';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

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
  endpoints: { dynamodb: string; kms: string };
  tables: { objects: string; audit: string };
  /** A file for the audit records instead of standard output: for handlers outside the gateway (config.ts). */
  auditLog?: string;
  /** The local subscription (in the local tenant) and its administrator (Owner, and tenant administrator). */
  subscriptionId?: string;
  administratorObjectId?: string;
  /** Loopback base URLs each new vault claims one of (config.ts `vaultEndpoints`). */
  vaultEndpoints?: string[];
}

export function localFunctionEnvironment(stack: LocalFunctionInputs): Record<string, string> {
  return {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
    AWS_ENDPOINT_URL_KMS: stack.endpoints.kms,
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
    }),
  };
}
