/**
 * SigV4 verification for the local stack's AWS endpoints (the local KMS, the local EventBridge).
 * Listening on loopback keeps other machines out, not other processes and users of this one: without
 * a checked signature any local process could ask the KMS to decrypt the data keys DynamoDB Local
 * holds, or put events on the bus. So each request must be signed with the per-stack credential the
 * launcher generates (dev/stack.ts) and keeps in the owner-only data directory. The signature is
 * recomputed with the SDK's own signer over exactly the headers the client signed and compared in
 * constant time; refusals carry the exception names and messages AWS answers with.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignedRequest {
  method: string;
  /** The request target as received: path and query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The refusals every AWS JSON service answers a bad signature with. */
export type SignatureRefusal = 'IncompleteSignatureException' | 'UnrecognizedClientException' | 'InvalidSignatureException';

export interface SignedService {
  /** The Signature V4 service name requests must be scoped to: `events`, `kms`. */
  service: string;
  /** The service's own error for a refusal, as its clients expect it. */
  refuse: (type: SignatureRefusal, message: string) => Error;
}

/** What AWS allows between the signer's clock and its own. */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Whether the request claims a SigV4 signature at all: if not, AWS answers MissingAuthenticationToken. */
export function isSigned(headers: IncomingHttpHeaders): boolean {
  const authorization = headers.authorization ?? '';
  return authorization.startsWith('AWS4-HMAC-SHA256 ') && authorization.includes('Credential=');
}

/**
 * Throws `refuse(...)` as the service would answer unless `request` carries a valid signature by
 * `credentials`, scoped to `service`, made within MAX_CLOCK_SKEW_MS of `now`.
 *
 * The region the request is scoped to is taken as the client gives it (the signature covers it): the
 * functions sign with the vault's configured region (`COFFER_REGION`, "local" on the local stack),
 * and there is one local endpoint per service, so there is no other region's endpoint to replay a
 * request at.
 */
export async function verifySigV4(
  request: SignedRequest,
  credentials: Credentials,
  { service, refuse }: SignedService,
  now = Date.now(),
): Promise<void> {
  const invalidSignature = (message: string) => refuse('InvalidSignatureException', message);
  const incomplete = (message: string) => refuse('IncompleteSignatureException', message);
  const signatureMismatch = () =>
    invalidSignature(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  const match = AUTHORIZATION.exec(request.headers.authorization ?? '');
  if (!match) throw incomplete('Authorization header requires Credential, SignedHeaders and Signature parameters.');
  const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedHeaderList, signature] = match as unknown as string[];
  // Our credential has no session token: a request that carries one was not made with it.
  if (accessKeyId !== credentials.accessKeyId || request.headers['x-amz-security-token'] !== undefined)
    throw refuse('UnrecognizedClientException', 'The security token included in the request is invalid.');

  const amzDate = String(request.headers['x-amz-date'] ?? '');
  const parts = AMZ_DATE.exec(amzDate);
  if (!parts) throw incomplete("Authorization header requires existence of a valid 'X-Amz-Date' header.");
  const [, year, month, day, hour, minute, second] = parts.map(Number) as number[];
  const signedAt = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!);
  if (signedAt < now - MAX_CLOCK_SKEW_MS) {
    throw invalidSignature(`Signature expired: ${amzDate} is now earlier than ${amzFormat(now - MAX_CLOCK_SKEW_MS)} (${amzFormat(now)} - 5 min.)`);
  }
  if (signedAt > now + MAX_CLOCK_SKEW_MS) {
    throw invalidSignature(
      `Signature not yet current: ${amzDate} is still later than ${amzFormat(now + MAX_CLOCK_SKEW_MS)} (${amzFormat(now)} + 5 min.)`,
    );
  }
  if (scopeDate !== amzDate.slice(0, 8))
    throw invalidSignature(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}'`,
    );
  if (scopeService !== service) throw invalidSignature(`Credential should be scoped to correct service: '${service}'.`);

  const signedHeaders = signedHeaderList!.split(';');
  if (!signedHeaders.includes('host')) throw invalidSignature("'Host' must be a signed header.");
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) throw signatureMismatch();
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  // The signer takes a declared payload hash as given; it must be the body's.
  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  if (headers['x-amz-content-sha256'] !== undefined && headers['x-amz-content-sha256'] !== bodyHash) throw signatureMismatch();

  const target = new URL(request.url, 'http://local');
  const signer = new SignatureV4({
    credentials,
    region: scopeRegion!,
    service,
    sha256: Sha256,
    // Sign exactly the headers the client signed, nothing added.
    applyChecksum: false,
  });
  const resigned = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: 'local',
      path: target.pathname,
      query: Object.fromEntries(target.searchParams),
      headers,
      body: request.body,
    },
    { signingDate: new Date(signedAt), signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(String(resigned.headers.authorization ?? ''))?.[1] ?? '';
  const expectedSignedHeaders = /SignedHeaders=([^,]+),/.exec(String(resigned.headers.authorization ?? ''))?.[1];
  if (expectedSignedHeaders !== signedHeaderList || !constantTimeEqual(expected, signature!)) throw signatureMismatch();
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function amzFormat(time: number): string {
  return new Date(time)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** The signer's hash interface over node:crypto, HMAC when given a key (also for tests that sign by hand). */
export class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
