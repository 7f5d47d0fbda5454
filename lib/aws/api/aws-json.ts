import { createHash, createHmac } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import http from 'node:http';
import https from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { ServiceUnavailable, Throttled } from '../../core/errors.ts';

/**
 * The one transport under Coffer's DynamoDB and KMS clients: a signed POST of a JSON document to the
 * service's endpoint, as the AWS JSON protocols (1.0 for DynamoDB, 1.1 for KMS) define it, with the
 * AWS SDK's standard retry policy. Signing is the SDK's own Signature V4 implementation
 * (`@smithy/signature-v4`); what this module leaves out of the SDK is its runtime: the middleware
 * stack, schemas for every operation of the service, endpoint rule sets, event streams and credential
 * chains, about 230 KiB of every function bundle (docs/adr/0011-aws-calls-without-the-sdk-runtime.md).
 */

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Where a client gets its credentials; by default the environment's (`environmentCredentials` below). */
export type CredentialSource = () => AwsCredentials | Promise<AwsCredentials>;

export interface AwsClientOptions {
  region: string;
  /** Overrides the endpoint the environment or the region gives (`AWS_ENDPOINT_URL_<SERVICE>`, then the AWS default). */
  endpoint?: string;
  credentials?: CredentialSource;
  /** Overrides DEPENDENCY_TIMING (the transport's own tests shorten it). */
  timing?: Partial<DependencyTiming>;
}

/**
 * How long a request may wait for DynamoDB or KMS. Every call gets a budget of
 * `callBudgetMs` for all its attempts and the pauses between them, and each attempt at most
 * `attemptTimeoutMs` of it, counted from its start to the answer's last byte (not the socket's idle
 * time, which a dependency that trickles or holds a connection open would keep resetting).
 *
 * The numbers: DynamoDB and KMS answer in milliseconds, so 1.5 s for an attempt is already an outage;
 * a stalled dependency costs a call at most 3 s (two abandoned attempts), and the request ends with
 * that call (503 or 429 with Retry-After). Once a call ran out its budget on a dependency that
 * accepted its requests but never answered, the client's next calls within `failFastMs` fail at once
 * instead of waiting again, so the request's own final audit write (to DynamoDB, for a vault with
 * strict audit) does not add another 3 s: a request's dependency time stays within about 3 s. The
 * functions' timeout is 10 s (serverless.yml `timeoutSeconds`): the 3 s, the identity provider's key
 * set fetch and the work of the request itself fit inside it with room to spare, so a dependency
 * outage is always answered in Azure's error shape and audited, never cut off by Lambda.
 */
export interface DependencyTiming {
  attemptTimeoutMs: number;
  callBudgetMs: number;
  failFastMs: number;
}
export const DEPENDENCY_TIMING: DependencyTiming = { attemptTimeoutMs: 1_500, callBudgetMs: 3_000, failFastMs: 1_000 };

/**
 * Retry-After of a 429 this transport answers for a throttled dependency: DynamoDB and KMS throttling
 * clears within a second or two (DynamoDB's burst capacity, KMS's per-second quotas), and the
 * official SDKs wait exactly this long before their next attempt.
 */
const THROTTLED_RETRY_AFTER_SECONDS = 1;

/**
 * A POST operation of a REST-JSON service (Lambda's Invoke), which the same transport serves: its
 * path (already percent-encoded) names the operation instead of `X-Amz-Target`, the body is the JSON document.
 */
export interface RestOperation {
  path: string;
}

/** One AWS JSON service: how it is signed, where it lives and how its operations are named. */
export interface AwsJsonService {
  /** The Signature V4 service name and the endpoint's first label: `dynamodb`, `kms`. */
  signingName: string;
  /** The suffix of its `AWS_ENDPOINT_URL_<ID>` variable: `DYNAMODB`, `KMS`. */
  endpointId: string;
  /** `X-Amz-Target` is `<prefix>.<Operation>`. */
  targetPrefix: string;
  /** `application/x-amz-json-<version>`. */
  jsonVersion: '1.0' | '1.1';
  /** The class the service's errors are instances of, as the SDK's service exceptions are. */
  errors?: typeof AwsServiceError;
  /** What the caller's answer calls the service when it is unavailable: `object store`, `key management service` (by default its signing name). */
  dependency?: string;
  /**
   * The service's own reading of an error the standard lists below do not settle: `throttling`
   * (retried, then a 429), `quota` (a limit that a retry within the request will not lift: a 503 at
   * once), or undefined to leave it to the standard lists.
   */
  classify?: (error: AwsServiceError) => 'throttling' | 'quota' | undefined;
}

/**
 * Lambda puts the function role's credentials in the environment, and so do the local stack and the
 * tests (dev/local-environment.ts). Read on every call, so a container whose environment changes (the
 * local gateway between stacks) signs with the current ones.
 */
export function environmentCredentials(): AwsCredentials {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('No AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
  }
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

/**
 * An error the service answered, shaped as the AWS SDK shapes them so callers match them the same way:
 * `name` is the error code (`ConditionalCheckFailedException`), `$fault` says whose fault it is, and
 * the error document's other members (`CancellationReasons`...) are properties of the error.
 */
export class AwsServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId?: string | undefined };
  [member: string]: unknown;

  constructor(code: string, message: string, status: number, requestId: string | undefined, members: Record<string, unknown>) {
    super(message);
    Object.assign(this, members);
    this.name = code;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, requestId };
  }
}

/** Observers (the benchmark's request counter) see every attempt here; nothing is published without one. */
export const AWS_REQUEST_CHANNEL = 'coffer:aws-request';

/** What an observer of AWS_REQUEST_CHANNEL receives, once per HTTP attempt. */
export interface AwsRequestMessage {
  service: string;
  operation: string;
  /** The request document as sent (the wire's attribute values, blobs in base64). */
  input: unknown;
  status: number | undefined;
  /** The answer's document, absent when the attempt failed before one arrived. */
  output: unknown;
}

// The AWS SDK's standard retry mode: three attempts; throttling and transient failures are retried
// after a jittered exponential pause (base 500 ms for throttling, 100 ms otherwise), all within the
// call's budget (DEPENDENCY_TIMING): a pause that would leave less than MIN_ATTEMPT_MS for the next
// attempt ends the call instead.
const MAX_ATTEMPTS = 3;
const MIN_ATTEMPT_MS = 100;
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceededException',
  'TransactionInProgressException',
  'BandwidthLimitExceeded',
  'PriorRequestNotComplete',
  'SlowDown',
]);
const TRANSIENT_CODES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

/** What the signer hashes: strings and bytes in any of their forms. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

const asBytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the signer takes. */
export class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', asBytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(asBytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

/** A network failure (refused, reset, hung up, timed out): no answer to go by, so the attempt is retried. */
class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export class AwsJsonClient {
  private readonly endpoint: URL;
  private readonly agent: http.Agent;
  private readonly signer: SignatureV4;
  private readonly requests = channel(AWS_REQUEST_CHANNEL);
  private readonly timing: DependencyTiming;
  /** Until when calls fail at once: the service took requests and answered none within a whole budget. */
  private unresponsiveUntil = 0;

  constructor(
    private readonly service: AwsJsonService,
    options: AwsClientOptions,
  ) {
    this.endpoint = new URL(options.endpoint ?? endpointFor(service, options.region));
    this.timing = { ...DEPENDENCY_TIMING, ...options.timing };
    // Connections are kept and reused across requests and invocations, as the SDK's handler does.
    this.agent =
      this.endpoint.protocol === 'http:' ? new http.Agent({ keepAlive: true, maxSockets: 50 }) : new https.Agent({ keepAlive: true, maxSockets: 50 });
    const credentials = options.credentials ?? environmentCredentials;
    this.signer = new SignatureV4({
      service: service.signingName,
      region: options.region,
      credentials: async () => credentials(),
      sha256: Sha256,
    });
  }

  /** Closes the kept connections (scripts and tests; a function's client lives as long as its container). */
  destroy(): void {
    this.agent.destroy();
  }

  /**
   * Calls `operation` with the request document `input` (bytes anywhere in it travel as base64).
   * Within the call's budget, throttling and transient failures are retried; when the budget or the
   * attempts run out the call throws Throttled (429) if the service was throttling, else
   * ServiceUnavailable (503), both with Retry-After and the last failure as cause. The service's
   * other errors (a failed condition, a bad request) are thrown as it answered them, at once.
   */
  async call(operation: string, input: unknown, rest?: RestOperation): Promise<Record<string, unknown>> {
    const body = JSON.stringify(input, binaryAsBase64);
    const started = Date.now();
    const deadline = started + this.timing.callBudgetMs;
    if (started < this.unresponsiveUntil) {
      throw this.outage(new TransportError(`${this.service.signingName} ${operation}: not tried, the service stopped answering`, 'EUNRESPONSIVE'));
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(operation, body, Math.min(this.timing.attemptTimeoutMs, deadline - Date.now()), rest);
      } catch (error) {
        const kind = this.kind(error);
        if (kind === undefined) throw error;
        if (kind === 'quota') throw this.outage(error);
        const pause = Math.random() * (kind === 'throttling' ? 500 : 100) * 2 ** attempt;
        if (attempt >= MAX_ATTEMPTS || deadline - Date.now() - pause < MIN_ATTEMPT_MS) {
          if (error instanceof TransportError && error.code === 'ETIMEDOUT') this.unresponsiveUntil = Date.now() + this.timing.failFastMs;
          throw this.outage(error);
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  /** How a failed attempt counts: retried as throttling or as transient, a quota, or undefined: the caller's answer. */
  private kind(error: unknown): 'throttling' | 'transient' | 'quota' | undefined {
    if (error instanceof TransportError) return 'transient';
    if (!(error instanceof AwsServiceError)) return undefined;
    const own = this.service.classify?.(error);
    if (own) return own;
    if (THROTTLING.has(error.name)) return 'throttling';
    if (TRANSIENT_STATUS.has(error.$metadata.httpStatusCode) || TRANSIENT_CODES.has(error.name)) return 'transient';
    return undefined;
  }

  /** What the caller hears when the service could not serve the call: 429 if it was throttling, else 503. */
  private outage(cause: unknown): Error {
    const dependency = this.service.dependency ?? this.service.signingName;
    if (this.kind(cause) === 'throttling') {
      return new Throttled(
        `The ${dependency} is throttling requests; retry after the time in the Retry-After header.`,
        THROTTLED_RETRY_AFTER_SECONDS,
        { cause },
      );
    }
    return new ServiceUnavailable(`The ${dependency} is unavailable; retry the request.`, { cause });
  }

  private async attempt(operation: string, body: string, timeoutMs: number, rest?: RestOperation): Promise<Record<string, unknown>> {
    const url = this.endpoint;
    // A REST-JSON operation is named by its path; an AWS JSON one by its X-Amz-Target.
    const protocol: Record<string, string> = rest
      ? { 'content-type': 'application/json' }
      : { 'content-type': `application/x-amz-json-${this.service.jsonVersion}`, 'x-amz-target': `${this.service.targetPrefix}.${operation}` };
    const path = rest ? url.pathname.replace(/\/$/, '') + rest.path : url.pathname;
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path,
      query: {},
      headers: {
        host: url.host,
        ...protocol,
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    let status: number | undefined;
    let output: Record<string, unknown> | undefined;
    try {
      const answer = await this.post(signed.headers, body, timeoutMs, path);
      status = answer.status;
      output = answer.text === '' ? {} : (JSON.parse(answer.text) as Record<string, unknown>);
      if (status >= 300) throw serviceError(this.service.errors ?? AwsServiceError, status, answer.headers, output);
      return output;
    } catch (error) {
      if (error instanceof SyntaxError) throw new TransportError(`${this.service.signingName} ${operation}: the answer is not JSON`, undefined);
      throw error;
    } finally {
      if (this.requests.hasSubscribers) {
        const message: AwsRequestMessage = { service: this.service.signingName, operation, input: JSON.parse(body), status, output };
        this.requests.publish(message);
      }
    }
  }

  /** One HTTP exchange, abandoned `timeoutMs` after it started whatever the socket is doing. */
  private post(
    headers: Record<string, string>,
    body: string,
    timeoutMs: number,
    path: string,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
    const transport = this.endpoint.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const fail = (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new TransportError(error.message, error.code));
      };
      const request = transport.request(this.endpoint, { method: 'POST', path, headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') });
        });
        response.on('error', fail);
      });
      // The socket goes with the abandoned attempt: a late answer on it must not be read as the next one's.
      const timer = setTimeout(() => {
        const timedOut = Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' });
        fail(timedOut);
        request.destroy(timedOut);
      }, timeoutMs);
      request.on('error', fail);
      request.end(body);
    });
  }
}

/** `AWS_ENDPOINT_URL_<ID>`, then `AWS_ENDPOINT_URL`, then the service's regional endpoint. */
export function endpointFor(service: Pick<AwsJsonService, 'signingName' | 'endpointId'>, region: string): string {
  const configured = process.env[`AWS_ENDPOINT_URL_${service.endpointId}`] ?? process.env.AWS_ENDPOINT_URL;
  if (configured) return configured;
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://${service.signingName}.${region}.${suffix}`;
}

/** JSON carries blobs as standard base64 in both protocols. */
function binaryAsBase64(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  return original instanceof Uint8Array ? Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64') : value;
}

function serviceError(
  errors: typeof AwsServiceError,
  status: number,
  headers: http.IncomingHttpHeaders,
  document: Record<string, unknown>,
): AwsServiceError {
  const type = String(document.__type ?? headers['x-amzn-errortype'] ?? `HttpStatus${status}`);
  // `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException`, or `Code:http://...` in the header.
  const code = type.split('#').pop()!.split(':')[0]!;
  const { __type: _type, message, Message, ...members } = document;
  const requestId = headers['x-amzn-requestid'];
  return new errors(code, String(message ?? Message ?? code), status, Array.isArray(requestId) ? requestId[0] : requestId, members);
}
