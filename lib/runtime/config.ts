import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { trustedIssuerSchema } from '../auth/trusted-issuer.ts';
import { subscriptionSchema } from '../vaults/subscriptions.ts';

// zod/mini words its issues only in a locale it is given; the configuration errors below are read by
// operators. (Request validation words its own 400s from the issues' codes: lib/http/validation.ts.)
z.config(en());

/**
 * Deployment configuration, read from the environment once per container. This is the only thing
 * that differs between AWS and the local stack: endpoints come from the AWS SDK's own
 * `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_KMS` variables, everything else from COFFER_*.
 */
const configSchema = z.object({
  objectsTable: z.string().check(z.minLength(1)),
  auditTable: z.string().check(z.minLength(1)),
  /** Vault hosts are `<vault>.<vaultDomain>`; the token resource/audience is `https://<vaultDomain>`. */
  vaultDomain: z.string().check(z.minLength(1)),
  /** Extra host names that address one vault, e.g. `localhost` -> `default` on the local stack. */
  hostAliases: z.record(z.string(), z.string()),
  trustedIssuers: z.array(trustedIssuerSchema).check(z.minLength(1)),
  /** The `aud` management-plane tokens carry; the data plane refuses tokens with it (docs/adr/0013). */
  managementAudience: z.string().check(z.minLength(1)),
  /** The deployment's subscriptions, each in one tenant: a management request's tenant is its subscription's. */
  subscriptions: z.array(subscriptionSchema),
  /** Principals that may manage everything in their tenant, whatever their role assignments say. */
  tenantAdministrators: z.array(z.object({ tenantId: z.string().check(z.minLength(1)), objectId: z.string().check(z.minLength(1)) })),
  /**
   * Where vault host names do not resolve (the local stack): base URLs of loopback endpoints, one of
   * which each new vault claims as its own. Empty in AWS, where every vault is `<name>.<vaultDomain>`.
   */
  vaultEndpoints: z.array(z.url()),
  /** KMS key (id, ARN or alias) that protects backups, so a backup restores into any vault of its tenant. */
  backupKeyId: z.string().check(z.minLength(1)),
  region: z.string().check(z.minLength(1)),
  /** Days an audit record is kept before DynamoDB's TTL removes it. */
  auditRetentionDays: z.number().check(z.int(), z.positive()),
  /**
   * A file the functions append their audit records to instead of their standard output, which is
   * their log stream in Lambda and in the local gateway; only for handlers run in a test's or a
   * benchmark's own process (dev/stack.ts). Unset everywhere a log subscription delivers them.
   */
  auditLog: z.optional(z.string().check(z.minLength(1))),
  /**
   * The deployment's name, tagged on every KMS key Coffer creates: the function roles may only use
   * keys carrying their own deployment's tag (infra/serverless-config.ts).
   */
  deployment: z.optional(z.string().check(z.minLength(1))),
  /** The EventBridge bus Key Vault's events are published to; only the event function needs it (infra/event-functions.ts). */
  eventBus: z.optional(z.string().check(z.minLength(1))),
  /**
   * The local stack's time shift (`POST /_coffer/time` on the local gateway): a JSON file of per-vault
   * clock offsets the services add to real time (lib/runtime/clock-offsets.ts). Only the local stack
   * sets it; unset in every deployment (test/deploy/time-shift.test.ts), where the clock is real time.
   */
  clockOffsetsFile: z.optional(z.string().check(z.minLength(1))),
  /**
   * Which webhook addresses an event subscription's validation handshake may call
   * (lib/events/webhook-client.ts): `public` (https, public internet addresses only, checked after
   * resolution: never a private, loopback, link-local or metadata address) in every deployment and
   * when unset; `loopback` (http or https on loopback only) on the local stack.
   */
  webhookAddresses: z.enum(['public', 'loopback']),
  /** The role EventBridge assumes to call a subscription's API destination (infra/events.yml); none locally. */
  eventDeliveryRoleArn: z.optional(z.string().check(z.minLength(1))),
  /** Where EventBridge puts events it could not deliver to a subscription (infra/events.yml); none locally. */
  eventDeadLetterQueueArn: z.optional(z.string().check(z.minLength(1))),
});

export type Config = z.infer<typeof configSchema>;

/**
 * The managed HSM pools' HSM (docs/adr/0022-pool-data-plane.md), read beside the configuration: only
 * the pools' functions (infra/pool-stack.ts) and the local gateway (dev/stack.ts) carry these
 * variables, so they are not FUNCTION_VARIABLES, which every function gets.
 */
const poolHsmConfigSchema = z.object({
  /**
   * The managed HSM pools' PKCS#11 library (docs/adr/0022-pool-data-plane.md): CloudHSM's in AWS (the
   * pools' stack sets it), SoftHSM2's on the local stack. Unset where no pool function runs.
   */
  library: z.optional(z.string().check(z.minLength(1))),
  /**
   * Where the library keeps its tokens, when the deployment makes a token per pool (SoftHSM2 on the
   * local stack, whose SOFTHSM2_CONF names the same directory): a pool's token is made at its
   * creation and wiped at its purge. Unset where the configuration names the pools' partition (CloudHSM).
   */
  tokenDirectory: z.optional(z.string().check(z.minLength(1))),
  /** The SSM parameter holding the crypto user's credential of a partition the configuration names (the pools' stack sets it). */
  pinParameter: z.optional(z.string().check(z.minLength(1))),
  /** The token label of that partition (CloudHSM's is `hsm1`; the pools' stack sets it with `pinParameter`). */
  tokenLabel: z.optional(z.string().check(z.minLength(1))),
});

export type PoolHsmConfig = z.infer<typeof poolHsmConfigSchema>;

let cached: Config | undefined;
let cachedPoolHsm: PoolHsmConfig | undefined;

export function poolHsmConfig(): PoolHsmConfig {
  cachedPoolHsm ??= loadPoolHsmConfig(process.env);
  return cachedPoolHsm;
}

function loadPoolHsmConfig(env: NodeJS.ProcessEnv): PoolHsmConfig {
  const parsed = poolHsmConfigSchema.safeParse({
    library: env.COFFER_PKCS11_LIBRARY || undefined,
    tokenDirectory: env.COFFER_PKCS11_TOKEN_DIRECTORY || undefined,
    pinParameter: env.COFFER_PKCS11_PIN_PARAMETER || undefined,
    tokenLabel: env.COFFER_PKCS11_TOKEN_LABEL || undefined,
  });
  if (!parsed.success) throw new Error(`invalid Coffer configuration: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function config(): Config {
  cached ??= loadConfig(process.env);
  return cached;
}

/** Tests and the local gateway use this after changing the environment. */
export function resetConfig(): void {
  cached = undefined;
  cachedPoolHsm = undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = configSchema.safeParse({
    objectsTable: env.COFFER_OBJECTS_TABLE,
    auditTable: env.COFFER_AUDIT_TABLE,
    vaultDomain: env.COFFER_VAULT_DOMAIN,
    hostAliases: parseJson(env.COFFER_HOST_ALIASES, 'COFFER_HOST_ALIASES') ?? {},
    trustedIssuers: parseJson(env.COFFER_TRUSTED_ISSUERS, 'COFFER_TRUSTED_ISSUERS'),
    managementAudience: env.COFFER_MANAGEMENT_AUDIENCE,
    subscriptions: parseJson(env.COFFER_SUBSCRIPTIONS, 'COFFER_SUBSCRIPTIONS') ?? [],
    tenantAdministrators: parseJson(env.COFFER_TENANT_ADMINISTRATORS, 'COFFER_TENANT_ADMINISTRATORS') ?? [],
    vaultEndpoints: parseJson(env.COFFER_VAULT_ENDPOINTS, 'COFFER_VAULT_ENDPOINTS') ?? [],
    backupKeyId: env.COFFER_BACKUP_KEY_ID,
    region: env.COFFER_REGION ?? env.AWS_REGION,
    auditRetentionDays: Number(env.COFFER_AUDIT_RETENTION_DAYS ?? 365),
    auditLog: env.COFFER_AUDIT_LOG || undefined,
    deployment: env.COFFER_DEPLOYMENT || undefined,
    eventBus: env.COFFER_EVENT_BUS || undefined,
    clockOffsetsFile: env.COFFER_CLOCK_OFFSETS_FILE || undefined,
    webhookAddresses: env.COFFER_WEBHOOK_ADDRESSES || 'public',
    eventDeliveryRoleArn: env.COFFER_EVENT_DELIVERY_ROLE_ARN || undefined,
    eventDeadLetterQueueArn: env.COFFER_EVENT_DEAD_LETTER_QUEUE_ARN || undefined,
  });
  if (!parsed.success) {
    // A misconfigured deployment must fail loudly at start-up, not at the first request.
    throw new Error(`invalid Coffer configuration: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

function parseJson(value: string | undefined, name: string): unknown {
  if (value === undefined || value === '') return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw new Error(`${name} is not valid JSON`);
  }
}
