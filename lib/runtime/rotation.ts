import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { EventBridgeClient } from '../aws/api/eventbridge.ts';
import { SsmClient } from '../aws/api/ssm.ts';
import { rotationFailurePublisher } from '../aws/rotation-failures.ts';
import { KeyVaultSecretStore } from '../rotation/key-vault-store.ts';
import { PostgresRoleDatabase } from '../rotation/postgres.ts';
import { PostgresPasswordRotator, type RotationResult } from '../rotation/rotation.ts';
import {
  eventGridEventOf,
  handleWebhook,
  onDemandRequest,
  rotateAll,
  summary,
  triggerOf,
  type WebhookRequest,
  type WebhookResponse,
} from '../rotation/trigger.ts';

/**
 * The reference rotator's composition root (docs/rotation.md). The rotator is a client of the vault
 * like any application: the official SecretClient with its own service principal's credential, over
 * HTTPS, authorized and audited by the vault. It reads none of Coffer's tables or keys, so it has
 * none of the functions' environment (lib/runtime/environment.ts), only these variables:
 */
const ROTATOR_VARIABLES = {
  /** The one vault whose secrets it rotates: events about any other vault are refused. */
  vaultUrl: 'COFFER_ROTATION_VAULT_URL',
  /** The rotator's service principal, as @azure/identity's EnvironmentCredential names them. */
  tenantId: 'AZURE_TENANT_ID',
  clientId: 'AZURE_CLIENT_ID',
  /** The client secret itself (the local rotator), or, in AWS, the SSM SecureString parameter holding it, read at the start. */
  clientSecret: 'AZURE_CLIENT_SECRET',
  clientSecretParameter: 'COFFER_ROTATION_CLIENT_SECRET_PARAMETER',
  /** The tenant's identity provider (its token endpoint is `<authorityHost>/<tenant>/oauth2/v2.0/token`). */
  authorityHost: 'AZURE_AUTHORITY_HOST',
  /**
   * `false` turns off the SDK's check that the vault's host ends with the challenge's resource domain:
   * a vault addressed by `localhost` cannot (README, "Using the local vault").
   */
  challengeResourceCheck: 'COFFER_ROTATION_CHALLENGE_RESOURCE_CHECK',
  /** The bus a failed rotation's event goes to (lib/rotation/failure-event.ts); unset, failures are only logged. */
  eventBus: 'COFFER_EVENT_BUS',
  /** Lambda's own. */
  region: 'AWS_REGION',
} as const;

export interface Rotation {
  vaultUrl: string;
  rotator: PostgresPasswordRotator;
}

/** A rotator of `vaultUrl`'s secrets, with the credential given; its failures announced on `failureBus` when given. */
export function rotationWith(
  vaultUrl: string,
  credential: ConstructorParameters<typeof SecretClient>[1],
  options: { challengeResourceCheck?: boolean; failureBus?: { client: EventBridgeClient; busName: string } } = {},
): Rotation {
  const client = new SecretClient(vaultUrl, credential, { disableChallengeResourceVerification: options.challengeResourceCheck === false });
  const url = vaultUrl.replace(/\/+$/, '');
  const bus = options.failureBus;
  return {
    vaultUrl: url,
    rotator: new PostgresPasswordRotator({
      store: new KeyVaultSecretStore(client),
      database: new PostgresRoleDatabase(),
      ...(bus ? { announceFailure: rotationFailurePublisher(bus.client, bus.busName, url) } : {}),
    }),
  };
}

export async function rotationFromEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<Rotation> {
  const read = (setting: keyof typeof ROTATOR_VARIABLES) => {
    const value = env[ROTATOR_VARIABLES[setting]];
    if (!value) throw new Error(`${ROTATOR_VARIABLES[setting]} is not set`);
    return value;
  };
  const parameter = env[ROTATOR_VARIABLES.clientSecretParameter];
  // Lambda sets AWS_REGION; SSM answers for the function role only, and decrypts with the parameter's key.
  const clientSecret = parameter ? await new SsmClient({ region: read('region') }).secureString(parameter) : read('clientSecret');
  const authorityHost = env[ROTATOR_VARIABLES.authorityHost];
  const credential = new ClientSecretCredential(read('tenantId'), read('clientId'), clientSecret, {
    ...(authorityHost ? { authorityHost, disableInstanceDiscovery: true } : {}),
  });
  const busName = env[ROTATOR_VARIABLES.eventBus];
  return rotationWith(read('vaultUrl'), credential, {
    challengeResourceCheck: env[ROTATOR_VARIABLES.challengeResourceCheck] !== 'false',
    ...(busName ? { failureBus: { client: new EventBridgeClient({ region: read('region') }), busName } } : {}),
  });
}

/**
 * One invocation: an EventBridge event whose detail is a SecretNearExpiry (a rule's target), the
 * Event Grid event alone (InputPath `$.detail`), an array of them, or `{"secretName": "..."}` on
 * demand. A failed rotation throws, so Lambda's asynchronous retries and failure destination see it.
 */
export async function rotateForInvocation(rotation: Rotation, input: unknown): Promise<Record<string, string>[]> {
  const onDemand = onDemandRequest(input);
  if (onDemand) return [summary(await rotation.rotator.rotate(onDemand))];
  const events = Array.isArray(input) ? input : [input];
  const results: RotationResult[] = await rotateAll(
    rotation.rotator,
    events.map((event) => triggerOf(eventGridEventOf(event), rotation.vaultUrl)),
  );
  return results.map(summary);
}

export function rotationWebhook(rotation: Rotation, request: WebhookRequest): Promise<WebhookResponse> {
  return handleWebhook(request, rotation.rotator, rotation.vaultUrl);
}
