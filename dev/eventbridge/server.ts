/**
 * A local endpoint for the EventBridge JSON 1.1 protocol, so the local stack runs the production
 * code unchanged: lib/aws/api/eventbridge.ts (and `@aws-sdk/client-eventbridge`) reach it through
 * AWS_ENDPOINT_URL_EVENTBRIDGE, and nothing in lib/ or functions/ knows it is not AWS.
 *
 * Wire format: `POST /`, `X-Amz-Target: AWSEvents.<Operation>`, `Content-Type:
 * application/x-amz-json-1.1`, JSON bodies, timestamps in epoch seconds; failures are HTTP 400 with
 * `{"__type": "<Exception>", "message": "..."}`.
 *
 * Plain HTTP on loopback only, and every request must carry a SigV4 signature by the stack's own
 * credential (dev/aws-json-endpoint.ts, dev/sigv4.ts), as the local KMS's are. Every event put is
 * logged to `eventsLog` (one JSON line: its id, detail-type, subject, the rules it matched), and
 * each delivery attempt's outcome after it; events carry no secret values, and no connection
 * credential is ever logged.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { startAwsJsonEndpoint } from '../aws-json-endpoint.ts';
import type { Credentials } from '../sigv4.ts';
import { Deliverer } from './delivery.ts';
import { EventBridgeError, eventBridgeError } from './errors.ts';
import { LocalEventBridgeService } from './service.ts';
import { EventBridgeStore } from './store.ts';

export interface LocalEventBridgeOptions {
  /** Where the rules, targets, connections and API destinations are kept (owner-only). */
  dataDir: string;
  credentials: Credentials;
  /** The buses that exist besides `default` (the stack's own: COFFER_EVENT_BUS). */
  buses?: readonly string[];
  /** One JSON line per event put and per delivery attempt (owner-only). */
  eventsLog: string;
  /** Undeliverable events, one JSON line each: what AWS sends the target's dead-letter queue. */
  deadLetterLog: string;
  /** The local CA, trusted for https API destinations on loopback. */
  caFile?: string;
  /** Pause before the first retry of a failed delivery; each next one doubles (default 1 s). */
  retryBaseMs?: number;
  /** 0 or undefined: an ephemeral port. */
  port?: number;
  /** Default '127.0.0.1'; only loopback addresses are accepted. */
  host?: string;
  /** Default 'us-east-1': appears in every ARN. */
  region?: string;
  accountId?: string;
  /** One line per request: operation, status, error type. Never bodies. */
  log?: (line: string) => void;
}

export interface LocalEventBridge {
  /** e.g. http://127.0.0.1:45679: AWS_ENDPOINT_URL_EVENTBRIDGE. */
  endpoint: string;
  close(): Promise<void>;
}

export async function startLocalEventBridge(options: LocalEventBridgeOptions): Promise<LocalEventBridge> {
  const store = await EventBridgeStore.open(resolve(options.dataDir), ['default', ...(options.buses ?? [])]);
  const deliverer = new Deliverer({
    eventsLog: options.eventsLog,
    deadLetterLog: options.deadLetterLog,
    ...(options.caFile ? { caPem: await readFile(options.caFile, 'utf8') } : {}),
    ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {}),
  });
  const service = new LocalEventBridgeService(store, deliverer, {
    region: options.region ?? 'us-east-1',
    accountId: options.accountId ?? '000000000000',
    eventsLog: options.eventsLog,
  });
  return startAwsJsonEndpoint({
    name: 'local EventBridge',
    targetPrefix: 'AWSEvents.',
    signingService: 'events',
    credentials: options.credentials,
    refuse: eventBridgeError,
    isServiceFailure: (error): error is EventBridgeError => error instanceof EventBridgeError,
    unsignedStatus: 403,
    internalErrorType: 'InternalException',
    handle: (operation, body) => service.handle(operation, body),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.log ? { log: options.log } : {}),
    onClose: () => deliverer.close(),
  });
}
