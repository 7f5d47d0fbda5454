import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3PoolBackupStorage } from '../../../lib/aws/s3-pool-backup-storage.ts';
import { parseStorageUri } from '../../../lib/hsm/pool-backup-storage.ts';
import { vaultErrorOf } from '../../support/domain.ts';

/**
 * The S3 adapter of the pools' backups (docs/adr/0025-pool-full-backup.md) against a loopback server
 * playing S3, never another host: the bucket's URI only is accepted, each object goes under the
 * deployment's prefix and the folder, and every request is signed (SigV4 for s3 in the bucket's region,
 * with the payload's SHA-256).
 */
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }[] = [];
const objects = new Map<string, Buffer>();
let server: Server;
let endpoint = '';

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: request.method!, url: request.url!, headers: request.headers, body });
      const url = new URL(request.url!, 'http://loopback');
      if (request.method === 'PUT') {
        objects.set(decodeURIComponent(url.pathname), body);
        response.writeHead(200).end();
      } else if (url.searchParams.get('list-type') === '2') {
        const prefix = `/backups-bucket/${url.searchParams.get('prefix')}`;
        const keys = [...objects.keys()]
          .filter((k) => k.startsWith(prefix))
          .map((k) => `<Contents><Key>${k.slice('/backups-bucket/'.length)}</Key></Contents>`);
        response.writeHead(200, { 'content-type': 'application/xml' }).end(`<ListBucketResult>${keys.join('')}</ListBucketResult>`);
      } else {
        const object = objects.get(decodeURIComponent(url.pathname));
        if (object) response.writeHead(200).end(object);
        else response.writeHead(404).end('<Error><Code>NoSuchKey</Code></Error>');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const target = () => ({
  bucket: 'backups-bucket',
  region: 'eu-west-1',
  prefix: 'managed-hsm/',
  endpoint,
  credentials: () => ({ accessKeyId: 'AKIDLOOPBACK', secretAccessKey: 'loopback-secret' }),
});
const location = (uri: string, folder = 'mhsm-pool-20261202120000') => ({ container: parseStorageUri(uri), folder });

describe("the pools' S3 backup storage", () => {
  it('puts, lists and gets a folder under the prefix with signed requests, and answers undefined for a missing object', async () => {
    const storage = s3PoolBackupStorage(target(), location('https://backups-bucket.s3.eu-west-1.amazonaws.com/team'));
    await storage.put('manifest.json', Buffer.from('{"a":1}'));
    await storage.put('keys.bin', Buffer.from([1, 2, 3]));
    expect((await storage.list()).sort()).toEqual(['keys.bin', 'manifest.json']);
    expect(await storage.get('keys.bin')).toEqual(Buffer.from([1, 2, 3]));
    expect(await storage.get('absent.json')).toBeUndefined();

    const put = seen.find((r) => r.method === 'PUT' && r.url.endsWith('/manifest.json'))!;
    expect(put.url).toBe('/backups-bucket/managed-hsm/team/mhsm-pool-20261202120000/manifest.json');
    expect(put.body.toString()).toBe('{"a":1}');
    expect(put.headers['x-amz-content-sha256']).toBe(createHash('sha256').update('{"a":1}').digest('hex'));
    expect(put.headers.authorization).toContain('x-amz-content-sha256');
    for (const request of seen) {
      expect(request.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDLOOPBACK\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
      );
      expect(request.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
      expect(request.headers.host).toBe(new URL(endpoint).host);
    }
    const list = seen.find((r) => r.url.includes('list-type=2'))!;
    expect(new URL(list.url, 'http://x').searchParams.get('prefix')).toBe('managed-hsm/team/mhsm-pool-20261202120000/');
  });

  it("refuses any URI but the bucket's own, and names that could leave the folder", async () => {
    for (const uri of [
      'https://other-bucket.s3.eu-west-1.amazonaws.com/team',
      'https://backups-bucket.s3.us-east-1.amazonaws.com/team',
      'https://backups-bucket.s3.eu-west-1.amazonaws.com.evil.example/team',
      'https://account.blob.core.windows.net/team',
    ]) {
      const error = await vaultErrorOf(Promise.resolve().then(() => s3PoolBackupStorage(target(), location(uri))));
      expect(error.status).toBe(400);
    }
    expect(
      (
        await vaultErrorOf(
          Promise.resolve().then(() => s3PoolBackupStorage(target(), location('https://backups-bucket.s3.eu-west-1.amazonaws.com/team', '..'))),
        )
      ).status,
    ).toBe(400);
    const storage = s3PoolBackupStorage(target(), location('https://backups-bucket.s3.eu-west-1.amazonaws.com/team'));
    expect((await vaultErrorOf(storage.get('../keys.bin'))).status).toBe(400);
  });
});
