/**
 * A local endpoint for the AWS KMS JSON 1.1 protocol, so the local stack runs the production code
 * unchanged: `@aws-sdk/client-kms` reaches it through AWS_ENDPOINT_URL_KMS and nothing in lib/ or
 * functions/ knows it is not AWS.
 *
 * Wire format, as the SDK speaks it: `POST /`, `X-Amz-Target: TrentService.<Operation>`,
 * `Content-Type: application/x-amz-json-1.1`, a JSON body with blobs in base64 and timestamps in
 * epoch seconds; failures are HTTP 400 with `{"__type": "<Exception>", "message": "..."}`.
 *
 * Plain HTTP on loopback only, and every request must carry a SigV4 signature by the stack's own
 * credential (dev/aws-json-endpoint.ts, dev/sigv4.ts): the endpoint holds every local key, so neither another machine nor
 * another local process without that credential may use it.
 */
import { resolve } from 'node:path';
import { startAwsJsonEndpoint } from '../aws-json-endpoint.ts';
import type { Credentials } from '../sigv4.ts';
import { KmsError, kmsError } from './errors.ts';
import { LocalKmsService } from './service.ts';

export interface LocalKmsOptions {
  dataDir: string;
  /** The only credential whose signatures are accepted (the launcher's per-stack one). */
  credentials: Credentials;
  /** 0 or undefined: an ephemeral port. */
  port?: number;
  /** Default '127.0.0.1'; only loopback addresses are accepted. */
  host?: string;
  /** Default 'us-east-1': appears in every ARN, and ARNs naming another region are not found. */
  region?: string;
  /** Default '000000000000'. */
  accountId?: string;
  /** One line per request: operation, status, error type. Never key material, plaintext or bodies. */
  log?: (line: string) => void;
}

export interface LocalKms {
  /** e.g. http://127.0.0.1:45678: the `endpoint` of a KMSClient, or AWS_ENDPOINT_URL_KMS. */
  endpoint: string;
  close(): Promise<void>;
}

export async function startLocalKms(options: LocalKmsOptions): Promise<LocalKms> {
  const region = options.region ?? 'us-east-1';
  const service = await LocalKmsService.open(resolve(options.dataDir), {
    region,
    accountId: options.accountId ?? '000000000000',
  });
  return startAwsJsonEndpoint({
    name: 'local KMS',
    targetPrefix: 'TrentService.',
    signingService: 'kms',
    credentials: options.credentials,
    refuse: kmsError,
    isServiceFailure: (error): error is KmsError => error instanceof KmsError,
    unsignedStatus: 400,
    internalErrorType: 'KMSInternalException',
    handle: (operation, body) => service.handle(operation, body),
    toWire,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.log ? { log: options.log } : {}),
    onClose: () => service.flush(),
  });
}

/** Buffers are blobs, which JSON 1.1 carries as base64 strings. */
function toWire(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, toWire(entry)]));
  }
  return value;
}
