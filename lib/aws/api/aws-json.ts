import { createHash, createHmac } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import http from 'node:http';
import https from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';

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
  /**
   * What to throw when the service stayed unavailable (throttled, failing or unreachable) through
   * every attempt; by default the last attempt's error.
   */
  unavailable?: (cause: unknown) => Error;
}

/**
 * Lambda puts the function role's credentials in the environment, and so do the local stack and the
 * tests (dev/local-environment.ts). Read on every call, so a container whose environment changes (the
 * local gateway between stacks) signs with the current ones.
 */
function environmentCredentials(): AwsCredentials {
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
// after a jittered exponential pause (base 500 ms for throttling, 100 ms otherwise, capped at 20 s).
const MAX_ATTEMPTS = 3;
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
/**
 * One attempt may take this long before it is abandoned and retried: DynamoDB and KMS answer in
 * milliseconds, and three attempts must fit in the functions' 10 s timeout (serverless.yml).
 */
const ATTEMPT_TIMEOUT_MS = 2_500;

/** What the signer hashes: strings and bytes in any of their forms. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

const asBytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the signer takes. */
class Sha256 {
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

/** A network failure: no answer to go by, so the attempt is retried. */
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

  constructor(
    private readonly service: AwsJsonService,
    options: AwsClientOptions,
  ) {
    this.endpoint = new URL(options.endpoint ?? endpointFor(service, options.region));
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

  /** Calls `operation` with the request document `input` (bytes anywhere in it travel as base64). */
  async call(operation: string, input: unknown): Promise<Record<string, unknown>> {
    const body = JSON.stringify(input, binaryAsBase64);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(operation, body);
      } catch (error) {
        const base = retryBase(error);
        if (base === undefined) throw error;
        if (attempt >= MAX_ATTEMPTS) throw this.service.unavailable?.(error) ?? error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(20_000, base * 2 ** attempt)));
      }
    }
  }

  private async attempt(operation: string, body: string): Promise<Record<string, unknown>> {
    const url = this.endpoint;
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: {
        host: url.host,
        'content-type': `application/x-amz-json-${this.service.jsonVersion}`,
        'x-amz-target': `${this.service.targetPrefix}.${operation}`,
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    let status: number | undefined;
    let output: Record<string, unknown> | undefined;
    try {
      const answer = await this.post(signed.headers, body);
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

  private post(headers: Record<string, string>, body: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
    const transport = this.endpoint.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const request = transport.request(this.endpoint, { method: 'POST', headers, agent: this.agent, timeout: ATTEMPT_TIMEOUT_MS }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', (error: NodeJS.ErrnoException) => reject(new TransportError(error.message, error.code)));
      });
      request.on('timeout', () => request.destroy(Object.assign(new Error('the request timed out'), { code: 'ETIMEDOUT' })));
      request.on('error', (error: NodeJS.ErrnoException) => reject(new TransportError(error.message, error.code)));
      request.end(body);
    });
  }
}

/** `AWS_ENDPOINT_URL_<ID>`, then `AWS_ENDPOINT_URL`, then the service's regional endpoint. */
export function endpointFor(service: AwsJsonService, region: string): string {
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

/** The base of the pause before another attempt, or undefined when the error is the caller's answer. */
function retryBase(error: unknown): number | undefined {
  if (error instanceof TransportError) return 100;
  if (error instanceof AwsServiceError && THROTTLING.has(error.name)) return 500;
  if (error instanceof AwsServiceError && (TRANSIENT_STATUS.has(error.$metadata.httpStatusCode) || TRANSIENT_CODES.has(error.name))) return 100;
  return undefined;
}
