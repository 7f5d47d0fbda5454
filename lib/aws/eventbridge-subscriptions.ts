import {
  deliveryHeaders,
  type EventSubscription,
  endpointBaseUrl,
  inputTransformer,
  queryParametersOf,
  retryPolicyOf,
  rulePattern,
  type SubscriptionRealizer,
} from '../events/subscriptions.ts';
import type { EventBridgeClient } from './api/eventbridge.ts';

/**
 * An event subscription on the deployment's bus: a rule (its pattern is the subscription's filter)
 * whose one target is an API destination (the webhook's base URL) through a connection (the
 * `aeg-subscription-name` header as its API key, and the webhook URL's query parameters as secret
 * invocation parameters, so they are kept in Secrets Manager rather than in the target). Every name
 * comes from the subscription's uid, so a retried create or delete converges on the same resources.
 *
 * Rules live on the bus (`es-<uid>`); connections and API destinations are per account, so their
 * names start with the bus's (`<bus>-es-<uid>`), which the IAM policy's name prefixes follow
 * (infra/permissions.ts).
 */
const TARGET_ID = 'webhook';
const MAX_BUS_NAME = 40;

export interface SubscriptionDelivery {
  /** The bus the events are on (COFFER_EVENT_BUS). */
  bus: string;
  /** The role EventBridge assumes to invoke the API destinations; none locally. */
  roleArn?: string;
  /** Where EventBridge puts what it could not deliver; none locally (the local EventBridge keeps a dead-letter log). */
  deadLetterQueueArn?: string;
}

export function ruleName(uid: string): string {
  return `es-${uid}`;
}

export function accountResourceName(bus: string, uid: string): string {
  return `${bus}-es-${uid}`;
}

export class EventBridgeSubscriptionRealizer implements SubscriptionRealizer {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly delivery: SubscriptionDelivery,
  ) {}

  async realize(subscription: EventSubscription): Promise<void> {
    const bus = this.bus();
    const name = accountResourceName(bus, subscription.uid);
    const description = `Event subscription ${subscription.name} of ${subscription.topic}`.slice(0, 512);
    const query = queryParametersOf(subscription.endpointUrl).map((parameter) => ({ ...parameter, IsValueSecret: true }));
    const connection = {
      Name: name,
      Description: description,
      AuthorizationType: 'API_KEY' as const,
      AuthParameters: {
        ApiKeyAuthParameters: { ApiKeyName: 'aeg-subscription-name', ApiKeyValue: subscription.name.toUpperCase() },
        ...(query.length > 0 ? { InvocationHttpParameters: { QueryStringParameters: query } } : {}),
      },
    };
    const connectionArn = (
      await upsert(
        () => this.client.createConnection(connection),
        () => this.client.updateConnection(connection),
      )
    ).ConnectionArn;
    if (!connectionArn) throw new Error(`EventBridge answered no ConnectionArn for ${name}`);
    const destination = {
      Name: name,
      Description: description,
      ConnectionArn: connectionArn,
      InvocationEndpoint: endpointBaseUrl(subscription.endpointUrl),
      HttpMethod: 'POST' as const,
    };
    const destinationArn = (
      await upsert(
        () => this.client.createApiDestination(destination),
        () => this.client.updateApiDestination(destination),
      )
    ).ApiDestinationArn;
    if (!destinationArn) throw new Error(`EventBridge answered no ApiDestinationArn for ${name}`);
    const rule = ruleName(subscription.uid);
    await this.client.putRule({
      Name: rule,
      EventBusName: bus,
      EventPattern: JSON.stringify(rulePattern(subscription)),
      State: 'ENABLED',
      Description: description,
    });
    const answer = await this.client.putTargets({
      Rule: rule,
      EventBusName: bus,
      Targets: [
        {
          Id: TARGET_ID,
          Arn: destinationArn,
          ...(this.delivery.roleArn ? { RoleArn: this.delivery.roleArn } : {}),
          InputTransformer: inputTransformer(subscription.eventDeliverySchema),
          HttpParameters: { HeaderParameters: deliveryHeaders(subscription) },
          RetryPolicy: retryPolicyOf(subscription),
          ...(this.delivery.deadLetterQueueArn ? { DeadLetterConfig: { Arn: this.delivery.deadLetterQueueArn } } : {}),
        },
      ],
    });
    if (answer.FailedEntryCount) {
      const failed = answer.FailedEntries?.[0];
      throw new Error(`EventBridge refused the target of ${rule}: ${failed?.ErrorCode ?? 'unknown'}`);
    }
  }

  /** Target, rule, API destination, connection: each already gone is fine, so a retried delete converges. */
  async remove(subscription: Pick<EventSubscription, 'uid'>): Promise<void> {
    const bus = this.bus();
    const rule = ruleName(subscription.uid);
    const name = accountResourceName(bus, subscription.uid);
    await absentIsFine(() => this.client.removeTargets({ Rule: rule, EventBusName: bus, Ids: [TARGET_ID] }));
    await absentIsFine(() => this.client.deleteRule({ Name: rule, EventBusName: bus }));
    await absentIsFine(() => this.client.deleteApiDestination({ Name: name }));
    await absentIsFine(() => this.client.deleteConnection({ Name: name }));
  }

  /** Connection and API destination names are at most 64 characters: the bus's name and `-es-<uid>`. Checked per call, so a misnamed bus fails subscriptions only, not the management plane. */
  private bus(): string {
    if (this.delivery.bus.length > MAX_BUS_NAME) throw new Error(`the event bus name is longer than ${MAX_BUS_NAME} characters`);
    return this.delivery.bus;
  }
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

async function upsert<T>(create: () => Promise<T>, update: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (error) {
    if (errorName(error) !== 'ResourceAlreadyExistsException') throw error;
    return update();
  }
}

async function absentIsFine(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
  }
}
