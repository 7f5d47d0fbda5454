/**
 * The pools' backup storage in AWS (docs/adr/0025-pool-full-backup.md): a backup folder is a prefix
 * of the pools' backup bucket (infra/pool-stack.ts), `<deployment prefix><container path>/<folder>/`.
 * The storage URI must name that bucket as S3 names it, `https://<bucket>.s3.<region>.amazonaws.com/<path>`:
 * anything else is 400, so a caller can never make the pool write to a bucket of its choosing. The
 * calls are S3's REST API signed with the SDK's own Signature V4, without the SDK's runtime, as the
 * other AWS clients (docs/adr/0011-aws-calls-without-the-sdk-runtime.md).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { BadParameter, ServiceUnavailable } from '../core/errors.ts';
import { assertSafeName, type BackupLocation, containerSegments, type PoolBackupStorage } from '../hsm/pool-backup-storage.ts';
import { type CredentialSource, environmentCredentials, Sha256 } from './api/aws-json.ts';

export interface S3BackupBucket {
  bucket: string;
  region: string;
  /** The deployment's prefix of the pools' backups in the bucket (its IAM grant covers this prefix only). */
  prefix: string;
  /** Overrides S3's endpoint (tests: a loopback server), addressed path-style. */
  endpoint?: string;
  credentials?: CredentialSource;
}

const REQUEST_TIMEOUT_MS = 5_000;

export function s3PoolBackupStorage(target: S3BackupBucket, location: BackupLocation): PoolBackupStorage {
  const expectedHost = `${target.bucket}.s3.${target.region}.amazonaws.com`;
  if (location.container.hostname !== expectedHost || location.container.port !== '') {
    throw new BadParameter(`storageResourceUri must be https://${expectedHost}/<path>: this deployment's backup bucket.`);
  }
  assertSafeName(location.folder, 'backup folder');
  const segments = containerSegments(location.container).map((segment) => decodeURIComponent(segment));
  for (const segment of segments) assertSafeName(segment, 'storage path segment');
  const folderPrefix = `${target.prefix}${[...segments, location.folder].join('/')}/`;
  const endpoint = new URL(target.endpoint ?? `https://${expectedHost}`);
  // Virtual-hosted style on S3 itself; path style on an endpoint that is not the bucket's host.
  const bucketPath = target.endpoint ? `/${target.bucket}` : '';
  const signer = new SignatureV4({
    service: 's3',
    region: target.region,
    credentials: async () => (target.credentials ?? environmentCredentials)(),
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });

  async function send(method: 'PUT' | 'GET', key: string | undefined, query: Record<string, string>, body?: Uint8Array) {
    const payload = body ?? new Uint8Array();
    const path = `${endpoint.pathname.replace(/\/$/, '')}${bucketPath}/${key === undefined ? '' : key.split('/').map(encodeURIComponent).join('/')}`;
    const signed = await signer.sign({
      method,
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path,
      query,
      headers: {
        host: endpoint.host,
        'x-amz-content-sha256': createHash('sha256').update(payload).digest('hex'),
        ...(body ? { 'content-length': String(payload.length), 'content-type': 'application/octet-stream' } : {}),
      },
      body: body ? payload : undefined,
    });
    const search = new URLSearchParams(query).toString();
    return new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const request = (endpoint.protocol === 'http:' ? http : https).request(
        {
          method,
          hostname: endpoint.hostname,
          port: endpoint.port || undefined,
          path: search ? `${path}?${search}` : path,
          headers: signed.headers,
          timeout: REQUEST_TIMEOUT_MS,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error('S3 did not answer in time')));
      request.on('error', reject);
      request.end(body ? Buffer.from(payload) : undefined);
    }).catch((cause: unknown) => {
      throw new ServiceUnavailable('The backup storage is unavailable; retry the request.', { cause });
    });
  }

  function refused(status: number): Error {
    if (status === 403) return new BadParameter("The backup storage refused the request: this deployment's role may not use that location.");
    return new ServiceUnavailable(`The backup storage answered ${status}; retry the request.`);
  }

  return {
    async put(name, body) {
      assertSafeName(name, 'backup object name');
      const answer = await send('PUT', `${folderPrefix}${name}`, {}, body);
      if (answer.status !== 200) throw refused(answer.status);
    },
    async get(name) {
      assertSafeName(name, 'backup object name');
      const answer = await send('GET', `${folderPrefix}${name}`, {});
      if (answer.status === 404) return undefined;
      if (answer.status !== 200) throw refused(answer.status);
      return answer.body;
    },
    async list() {
      const answer = await send('GET', undefined, { 'list-type': '2', prefix: folderPrefix });
      if (answer.status !== 200) throw refused(answer.status);
      // ListObjectsV2's XML: each object's <Key>; a folder holds two objects, far below one page's 1000.
      const keys = [...answer.body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => decodeXml(match[1]!));
      return keys.filter((key) => key.startsWith(folderPrefix)).map((key) => key.slice(folderPrefix.length));
    },
  };
}

function decodeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_, entity: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[entity]!);
}
