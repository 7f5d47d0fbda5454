/**
 * SigV4 verification for the local stack's AWS endpoints: listening on loopback keeps other machines
 * out, not other processes of this one, so each request to the local EventBridge must be signed with
 * the stack's own credential (dev/stack.ts). The signature is recomputed with the SDK's own signer
 * over exactly the headers the client signed and compared in constant time. (The local KMS has its
 * own copy of these rules in dev/kms/authentication.ts.)
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { type SignedRequest, Sha256 } from './kms/authentication.ts';

export { isSigned, type SignedRequest } from './kms/authentication.ts';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** The refusals every AWS JSON service answers a bad signature with. */
export type SignatureRefusal = 'IncompleteSignatureException' | 'UnrecognizedClientException' | 'InvalidSignatureException';

export interface SignedService {
  /** The Signature V4 service name requests must be scoped to: `events`, `kms`. */
  service: string;
  /** The service's own error for a refusal, as its clients expect it. */
  refuse: (type: SignatureRefusal, message: string) => Error;
}

/**
 * Throws `refuse(...)` as the service would answer unless `request` carries a valid signature by
 * `credentials`, scoped to `service`, made within 5 minutes of `now`. The region is taken as the
 * client gives it (the signature covers it): there is one local endpoint per service.
 */
export async function verifySigV4(
  request: SignedRequest,
  credentials: Credentials,
  { service, refuse }: SignedService,
  now = Date.now(),
): Promise<void> {
  const invalidSignature = (message: string) => refuse('InvalidSignatureException', message);
  const signatureMismatch = () =>
    invalidSignature(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  const match = AUTHORIZATION.exec(request.headers.authorization ?? '');
  if (!match) throw refuse('IncompleteSignatureException', 'Authorization header requires Credential, SignedHeaders and Signature parameters.');
  const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedHeaderList, signature] = match as unknown as string[];
  if (accessKeyId !== credentials.accessKeyId || request.headers['x-amz-security-token'] !== undefined) {
    throw refuse('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  const parts = AMZ_DATE.exec(amzDate);
  if (!parts) throw refuse('IncompleteSignatureException', "Authorization header requires existence of a valid 'X-Amz-Date' header.");
  const [, year, month, day, hour, minute, second] = parts.map(Number) as number[];
  const signedAt = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!);
  if (Math.abs(signedAt - now) > MAX_CLOCK_SKEW_MS)
    throw invalidSignature(`Signature expired or not yet current: ${amzDate} is more than 5 minutes from the server's time.`);
  if (scopeDate !== amzDate.slice(0, 8))
    throw invalidSignature('Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.');
  if (scopeService !== service) throw invalidSignature(`Credential should be scoped to correct service: '${service}'.`);
  const signedHeaders = signedHeaderList!.split(';');
  if (!signedHeaders.includes('host')) throw invalidSignature("'Host' must be a signed header.");
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) throw signatureMismatch();
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  if (headers['x-amz-content-sha256'] !== undefined && headers['x-amz-content-sha256'] !== bodyHash) throw signatureMismatch();
  const target = new URL(request.url, 'http://local');
  const signer = new SignatureV4({ credentials, region: scopeRegion!, service, sha256: Sha256, applyChecksum: false });
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
  const authorization = String(resigned.headers.authorization ?? '');
  const expected = Buffer.from(/Signature=([0-9a-f]{64})$/.exec(authorization)?.[1] ?? '', 'utf8');
  const given = Buffer.from(signature!, 'utf8');
  const sameHeaders = /SignedHeaders=([^,]+),/.exec(authorization)?.[1] === signedHeaderList;
  if (!sameHeaders || expected.length !== given.length || !timingSafeEqual(expected, given)) throw signatureMismatch();
}
