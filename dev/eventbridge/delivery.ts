import http from 'node:http';
import https from 'node:https';
import { appendPrivateLine } from '../files.ts';
import type { ApiDestination, Connection, Rule, Target } from './store.ts';
import { targetBody } from './transform.ts';

/**
 * Delivery of matched events to API destination targets, as EventBridge does it: an HTTP request
 * (the destination's method) to its endpoint with the target's input, the connection's
 * authorization and parameters and the target's HttpParameters; retried with exponential backoff
 * (and jitter) while the target's RetryPolicy allows (MaximumRetryAttempts, default 185;
 * MaximumEventAgeInSeconds, default 24 hours) on the answers EventBridge retries (401, 407, 409,
 * 429, 5xx, no answer); an event that cannot be delivered goes to the dead-letter log, where AWS
 * sends it to the target's DeadLetterConfig queue, with the same attributes.
 *
 * Only loopback endpoints are ever contacted (http, or https trusting the local CA): a destination
 * anywhere else is refused at delivery and dead-lettered, so the local stack sends nothing off the
 * machine whatever a rule says. Pending retries live in memory: a restart drops them.
 */
export interface DeliveryOptions {
  eventsLog: string;
  deadLetterLog: string;
  /** PEM of the local CA, trusted for https destinations. */
  caPem?: string;
  /** The first retry's pause; each next one doubles, up to maxRetryDelayMs. */
  retryBaseMs?: number;
  maxRetryDelayMs?: number;
  /** An attempt's bound, as API destinations' 5 seconds. */
  attemptTimeoutMs?: number;
}

export interface Delivery {
  event: Record<string, unknown>;
  rule: Rule;
  target: Target;
  destination: ApiDestination | undefined;
  connection: Connection | undefined;
}

const DEFAULT_MAX_ATTEMPTS = 185;
const DEFAULT_MAX_AGE_SECONDS = 86_400;
const RETRIED_STATUS = new Set([401, 407, 409, 429]);
const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/i;

export class Deliverer {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  private readonly httpAgent = new http.Agent({ keepAlive: false });
  private readonly httpsAgent: https.Agent;

  constructor(private readonly options: DeliveryOptions) {
    this.httpsAgent = new https.Agent({ keepAlive: false, ...(options.caPem ? { ca: options.caPem } : {}) });
  }

  /** Starts delivering (in the background: PutEvents answers before its targets are called). */
  deliver(delivery: Delivery): void {
    this.attempt(delivery, 0, Date.now());
  }

  private attempt(delivery: Delivery, retries: number, firstAt: number): void {
    if (this.closed) return;
    const run = this.send(delivery)
      .then((outcome) => this.settle(delivery, outcome, retries, firstAt))
      .finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  private settle(delivery: Delivery, outcome: Outcome, retries: number, firstAt: number): void {
    const { event, rule, target } = delivery;
    const base = { time: new Date().toISOString(), kind: 'delivery', id: event.id, rule: rule.Name, target: target.Id, attempt: retries + 1 };
    if (outcome.ok) {
      this.log({ ...base, outcome: 'delivered', status: outcome.status });
      return;
    }
    const maxRetries = target.RetryPolicy?.MaximumRetryAttempts ?? DEFAULT_MAX_ATTEMPTS;
    const maxAgeMs = (target.RetryPolicy?.MaximumEventAgeInSeconds ?? DEFAULT_MAX_AGE_SECONDS) * 1000;
    const retryBase = this.options.retryBaseMs ?? 1_000;
    const pause = Math.min(this.options.maxRetryDelayMs ?? 60_000, retryBase * 2 ** retries) * (0.75 + Math.random() * 0.5);
    const exhausted = !outcome.retryable
      ? undefined
      : retries >= maxRetries
        ? 'MaximumRetryAttempts'
        : Date.now() + pause - firstAt > maxAgeMs
          ? 'MaximumEventAgeInSeconds'
          : undefined;
    if (outcome.retryable && !exhausted) {
      this.log({ ...base, outcome: 'retrying', ...outcome.detail, retryInMs: Math.round(pause) });
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.attempt(delivery, retries + 1, firstAt);
      }, pause);
      this.timers.add(timer);
      return;
    }
    this.log({ ...base, outcome: 'dead-lettered', ...outcome.detail, ...(exhausted ? { exhaustedRetryCondition: exhausted } : {}) });
    // The message and attributes EventBridge sends the dead-letter queue.
    appendPrivateLine(
      this.options.deadLetterLog,
      `${JSON.stringify({
        time: base.time,
        deadLetterQueue: target.DeadLetterConfig?.Arn,
        attributes: {
          RULE_ARN: rule.Arn,
          TARGET_ARN: target.Arn,
          ERROR_CODE: outcome.errorCode,
          ERROR_MESSAGE: outcome.errorMessage,
          ...(exhausted ? { EXHAUSTED_RETRY_CONDITION: exhausted } : {}),
          RETRY_ATTEMPTS: retries,
        },
        event,
      })}\n`,
    );
  }

  private async send(delivery: Delivery): Promise<Outcome> {
    const { destination, connection, target, rule, event } = delivery;
    if (!destination || !connection) {
      return refused(
        'RESOURCE_NOT_FOUND',
        `The target ${target.Arn} is not an API destination the local EventBridge has (it delivers to API destinations only).`,
      );
    }
    let url: URL;
    try {
      url = new URL(endpointWithPathParameters(destination.InvocationEndpoint, target.HttpParameters?.PathParameterValues ?? []));
    } catch {
      return refused('SDK_CLIENT_ERROR', 'The API destination endpoint is not a URL.');
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !LOOPBACK_HOST.test(url.hostname)) {
      return refused('NOT_LOOPBACK', `The local EventBridge contacts loopback endpoints only, not ${url.protocol}//${url.host}.`);
    }
    const auth = connection.AuthParameters;
    const invocation = auth.InvocationHttpParameters ?? {};
    for (const { Key, Value } of invocation.QueryStringParameters ?? []) url.searchParams.append(Key, Value);
    for (const [key, value] of Object.entries(target.HttpParameters?.QueryStringParameters ?? {})) url.searchParams.append(key, value);
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Amazon/EventBridge/ApiDestinations',
    };
    for (const [key, value] of Object.entries(target.HttpParameters?.HeaderParameters ?? {})) headers[key.toLowerCase()] = value;
    for (const { Key, Value } of invocation.HeaderParameters ?? []) headers[Key.toLowerCase()] = Value;
    if (auth.ApiKeyAuthParameters) headers[auth.ApiKeyAuthParameters.ApiKeyName.toLowerCase()] = auth.ApiKeyAuthParameters.ApiKeyValue;
    if (auth.BasicAuthParameters) {
      const { Username, Password } = auth.BasicAuthParameters;
      headers.authorization = `Basic ${Buffer.from(`${Username}:${Password}`).toString('base64')}`;
    }
    const method = destination.HttpMethod.toUpperCase();
    const body = method === 'GET' || method === 'HEAD' ? undefined : targetBody(target, { event, ruleArn: rule.Arn, ruleName: rule.Name });
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    try {
      const status = await this.request(url, method, headers, body);
      if (status >= 200 && status < 300) return { ok: true, status };
      const retryable = status >= 500 || RETRIED_STATUS.has(status);
      return { ok: false, retryable, errorCode: 'SDK_CLIENT_ERROR', errorMessage: `The endpoint answered ${status}.`, detail: { status } };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        ok: false,
        retryable: true,
        errorCode: 'SDK_CLIENT_ERROR',
        errorMessage: `No answer from the endpoint: ${message}`,
        detail: { error: message },
      };
    }
  }

  private request(url: URL, method: string, headers: Record<string, string>, body: string | undefined): Promise<number> {
    const transport = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
    const timeoutMs = this.options.attemptTimeoutMs ?? 5_000;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, { method, headers, agent }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      });
      request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      request.on('error', reject);
      request.end(body);
    });
  }

  private log(line: Record<string, unknown>): void {
    appendPrivateLine(this.options.eventsLog, `${JSON.stringify(line)}\n`);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

type Outcome =
  | { ok: true; status: number }
  | { ok: false; retryable: boolean; errorCode: string; errorMessage: string; detail: Record<string, unknown> };

function refused(errorCode: string, errorMessage: string): Outcome {
  return { ok: false, retryable: false, errorCode, errorMessage, detail: { refused: errorMessage } };
}

/** An endpoint's `*` wildcards take the target's PathParameterValues in order. */
function endpointWithPathParameters(endpoint: string, values: readonly string[]): string {
  let index = 0;
  return endpoint.replace(/\*/g, () => encodeURIComponent(values[index++] ?? ''));
}
