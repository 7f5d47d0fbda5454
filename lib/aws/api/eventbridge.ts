import { type AwsClientOptions, AwsJsonClient, AwsServiceError } from './aws-json.ts';

/**
 * An EventBridge client for the one operation Coffer uses, PutEvents, on Coffer's own AWS JSON
 * transport (aws-json.ts), so the event function bundles no SDK runtime
 * (docs/adr/0011-aws-calls-without-the-sdk-runtime.md). Shapes as the API's (and
 * `@aws-sdk/client-eventbridge`'s).
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

  destroy(): void {
    this.client.destroy();
  }
}
