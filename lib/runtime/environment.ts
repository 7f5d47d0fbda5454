import type { TrustedIssuer } from '../auth/trusted-issuer.ts';
import type { Subscription } from '../vaults/subscriptions.ts';

/**
 * The function environment: every variable a Coffer function reads its configuration from
 * (config.ts parses them), by the setting it carries. The local stack, the tests and benchmarks that
 * run handlers in-process, and serverless.yml all build the environment here, so a variable added
 * for one reaches every function everywhere (test/unit/dev-function-environment.test.ts checks it).
 */
export const FUNCTION_VARIABLES = {
  objectsTable: 'COFFER_OBJECTS_TABLE',
  auditTable: 'COFFER_AUDIT_TABLE',
  vaultDomain: 'COFFER_VAULT_DOMAIN',
  hostAliases: 'COFFER_HOST_ALIASES',
  trustedIssuers: 'COFFER_TRUSTED_ISSUERS',
  managementAudience: 'COFFER_MANAGEMENT_AUDIENCE',
  subscriptions: 'COFFER_SUBSCRIPTIONS',
  tenantAdministrators: 'COFFER_TENANT_ADMINISTRATORS',
  vaultEndpoints: 'COFFER_VAULT_ENDPOINTS',
  backupKeyId: 'COFFER_BACKUP_KEY_ID',
  region: 'COFFER_REGION',
  auditRetentionDays: 'COFFER_AUDIT_RETENTION_DAYS',
  auditLog: 'COFFER_AUDIT_LOG',
  deployment: 'COFFER_DEPLOYMENT',
  eventBus: 'COFFER_EVENT_BUS',
  clockOffsetsFile: 'COFFER_CLOCK_OFFSETS_FILE',
  webhookAddresses: 'COFFER_WEBHOOK_ADDRESSES',
  eventDeliveryRoleArn: 'COFFER_EVENT_DELIVERY_ROLE_ARN',
  eventDeadLetterQueueArn: 'COFFER_EVENT_DEAD_LETTER_QUEUE_ARN',
} as const;

export type FunctionSetting = keyof typeof FUNCTION_VARIABLES;

/** Set alongside the settings, the same everywhere: the name Powertools gives every log line. */
const FIXED_VARIABLES = { POWERTOOLS_SERVICE_NAME: 'coffer' } as const;

/** What a function's environment is made of. */
export interface FunctionSettings {
  tables: { objects: string; audit: string };
  /** Vault hosts are `<vault>.<vaultDomain>`. */
  vaultDomain: string;
  /** Further host names that address one vault each, e.g. `localhost` on the local stack. */
  hostAliases: Record<string, string>;
  trustedIssuers: TrustedIssuer[];
  /** The management plane's token audience. */
  managementAudience: string;
  subscriptions: Subscription[];
  tenantAdministrators: { tenantId: string; objectId: string }[];
  /** Loopback base URLs new vaults claim one each of (config.ts); none in AWS. */
  vaultEndpoints: string[];
  /** KMS key id, ARN or alias. */
  backupKeyId: string;
  region: string;
  auditRetentionDays: number;
  /** A file for the audit records instead of standard output (config.ts says when); none in Lambda and in the local gateway. */
  auditLog?: string;
  /** The value of the `coffer:deployment` tag on the KMS keys the functions create; none outside AWS. */
  deployment?: string;
  /** The bus Key Vault's events are published to (only the event function publishes). */
  eventBus?: string;
  /** The local stack's time shift offsets (config.ts); none in AWS. */
  clockOffsetsFile?: string;
  /**
   * Which webhooks a subscription's handshake may call (config.ts). This environment is for functions
   * run outside Lambda, whose webhooks are on loopback: `loopback` unless said otherwise. A deployment
   * (infra/serverless-config.ts) says `public`.
   */
  webhookAddresses?: 'public' | 'loopback';
}

/** The environment as text, for functions that run outside Lambda (the local gateway, in-process tests, benchmarks). */
export function encodedEnvironment(settings: FunctionSettings): Record<string, string> {
  return environmentVariables({
    objectsTable: settings.tables.objects,
    auditTable: settings.tables.audit,
    vaultDomain: settings.vaultDomain,
    hostAliases: JSON.stringify(settings.hostAliases),
    trustedIssuers: JSON.stringify(settings.trustedIssuers),
    managementAudience: settings.managementAudience,
    subscriptions: JSON.stringify(settings.subscriptions),
    tenantAdministrators: JSON.stringify(settings.tenantAdministrators),
    vaultEndpoints: JSON.stringify(settings.vaultEndpoints),
    backupKeyId: settings.backupKeyId,
    region: settings.region,
    auditRetentionDays: String(settings.auditRetentionDays),
    // Empty is "none": every variable is always set, so every environment names the same ones.
    auditLog: settings.auditLog ?? '',
    deployment: settings.deployment ?? '',
    eventBus: settings.eventBus ?? '',
    clockOffsetsFile: settings.clockOffsetsFile ?? '',
    webhookAddresses: settings.webhookAddresses ?? 'loopback',
    // EventBridge's delivery role and dead-letter queue exist in a deployment only.
    eventDeliveryRoleArn: '',
    eventDeadLetterQueueArn: '',
  });
}

/**
 * The variables from a value per setting, each already in its variable's text form or an
 * expression that becomes it (serverless.yml's CloudFormation references).
 */
export function environmentVariables<V>(values: Record<FunctionSetting, V>): Record<string, V | string> {
  const variables: Record<string, V | string> = { ...FIXED_VARIABLES };
  for (const [setting, name] of Object.entries(FUNCTION_VARIABLES)) variables[name] = values[setting as FunctionSetting];
  return variables;
}
