import { type AwsClientOptions, AwsJsonClient, AwsServiceError } from './aws-json.ts';

/**
 * An EventBridge client for the operations Coffer uses, on Coffer's own AWS JSON transport
 * (aws-json.ts), so no function bundles the SDK runtime
 * (docs/adr/0011-aws-calls-without-the-sdk-runtime.md): PutEvents for the event function, and the
 * rule, target, connection and API destination operations an event subscription is realized with
 * (lib/aws/eventbridge-subscriptions.ts). Shapes as the API's (and `@aws-sdk/client-eventbridge`'s).
 */
class EventBridgeServiceException extends AwsServiceError {}

export interface PutEventsRequestEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName: string;
  Resources?: string[];
  /** Epoch seconds on the wire. */
  Time?: number;
}

export interface PutEventsResultEntry {
  EventId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

export interface PutEventsResponse {
  FailedEntryCount?: number;
  /** One per entry, in order: an EventId, or an ErrorCode for an entry that was not put. */
  Entries?: PutEventsResultEntry[];
}

/** PutEvents takes at most 10 entries per request. */
export const PUT_EVENTS_MAX_ENTRIES = 10;

export interface PutRuleRequest {
  Name: string;
  EventBusName: string;
  EventPattern: string;
  State?: 'ENABLED' | 'DISABLED';
  Description?: string;
}

export interface Target {
  Id: string;
  Arn: string;
  RoleArn?: string;
  InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string };
  HttpParameters?: { HeaderParameters?: Record<string, string>; QueryStringParameters?: Record<string, string> };
  RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
  DeadLetterConfig?: { Arn?: string };
}

export interface PutTargetsResponse {
  FailedEntryCount?: number;
  FailedEntries?: { TargetId?: string; ErrorCode?: string; ErrorMessage?: string }[];
}

export interface ConnectionHttpParameter {
  Key: string;
  Value: string;
  IsValueSecret?: boolean;
}

/** An API_KEY connection (the only kind Coffer makes): the key header, and further headers or query parameters kept as secrets. */
export interface ConnectionRequest {
  Name: string;
  Description?: string;
  AuthorizationType: 'API_KEY';
  AuthParameters: {
    ApiKeyAuthParameters: { ApiKeyName: string; ApiKeyValue: string };
    InvocationHttpParameters?: { HeaderParameters?: ConnectionHttpParameter[]; QueryStringParameters?: ConnectionHttpParameter[] };
  };
}

export interface ApiDestinationRequest {
  Name: string;
  Description?: string;
  ConnectionArn: string;
  InvocationEndpoint: string;
  HttpMethod: 'POST';
  InvocationRateLimitPerSecond?: number;
}

export class EventBridgeClient {
  private readonly client: AwsJsonClient;

  constructor(options: AwsClientOptions) {
    this.client = new AwsJsonClient(
      {
        signingName: 'events',
        endpointId: 'EVENTBRIDGE',
        targetPrefix: 'AWSEvents',
        jsonVersion: '1.1',
        errors: EventBridgeServiceException,
        dependency: 'event bus',
      },
      options,
    );
  }

  async putEvents(entries: PutEventsRequestEntry[]): Promise<PutEventsResponse> {
    return (await this.client.call('PutEvents', { Entries: entries })) as PutEventsResponse;
  }

  async putRule(request: PutRuleRequest): Promise<{ RuleArn?: string }> {
    return (await this.client.call('PutRule', request)) as { RuleArn?: string };
  }

  async deleteRule(request: { Name: string; EventBusName: string; Force?: boolean }): Promise<void> {
    await this.client.call('DeleteRule', request);
  }

  async putTargets(request: { Rule: string; EventBusName: string; Targets: Target[] }): Promise<PutTargetsResponse> {
    return (await this.client.call('PutTargets', request)) as PutTargetsResponse;
  }

  async removeTargets(request: { Rule: string; EventBusName: string; Ids: string[]; Force?: boolean }): Promise<PutTargetsResponse> {
    return (await this.client.call('RemoveTargets', request)) as PutTargetsResponse;
  }

  async createConnection(request: ConnectionRequest): Promise<{ ConnectionArn?: string }> {
    return (await this.client.call('CreateConnection', request)) as { ConnectionArn?: string };
  }

  async updateConnection(request: ConnectionRequest): Promise<{ ConnectionArn?: string }> {
    return (await this.client.call('UpdateConnection', request)) as { ConnectionArn?: string };
  }

  async describeConnection(request: { Name: string }): Promise<{ ConnectionArn?: string }> {
    return (await this.client.call('DescribeConnection', request)) as { ConnectionArn?: string };
  }

  async deleteConnection(request: { Name: string }): Promise<void> {
    await this.client.call('DeleteConnection', request);
  }

  async createApiDestination(request: ApiDestinationRequest): Promise<{ ApiDestinationArn?: string }> {
    return (await this.client.call('CreateApiDestination', request)) as { ApiDestinationArn?: string };
  }

  async updateApiDestination(request: ApiDestinationRequest): Promise<{ ApiDestinationArn?: string }> {
    return (await this.client.call('UpdateApiDestination', request)) as { ApiDestinationArn?: string };
  }

  async deleteApiDestination(request: { Name: string }): Promise<void> {
    await this.client.call('DeleteApiDestination', request);
  }

  destroy(): void {
    this.client.destroy();
  }
}
