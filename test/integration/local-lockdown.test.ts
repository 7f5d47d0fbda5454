/**
 * The local stack is reachable only by its owner (issue 12, item 9): no port answers on an address
 * other machines can reach, the local KMS serves only requests signed with the stack's own
 * credential, and everything under the data directory is owner-only. Without these, DynamoDB Local
 * (which checks no credential) and a KMS that took any signature gave a stored secret's plaintext to
 * anyone who could reach the ports.
 */
import { execFile } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join, relative } from 'node:path';
import { KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, REGION } from '../../dev/local-environment.ts';
import type { LocalStackInfo } from '../../dev/stack.ts';
import { localStack } from '../support/local.ts';

const info = localStack();

/** Every port the stack listens on, by the part that owns it. */
function stackPorts(stack: LocalStackInfo): { name: string; port: number }[] {
  const portOf = (url: string) => Number(new URL(url).port);
  return [
    { name: 'gateway', port: portOf(stack.vaultUrl) },
    { name: 'management', port: portOf(stack.managementUrl) },
    { name: 'identity provider', port: portOf(stack.authorityHost) },
    { name: 'local KMS', port: portOf(stack.endpoints.kms) },
    { name: 'DynamoDB Local', port: portOf(stack.endpoints.dynamodb) },
    ...stack.vaultEndpoints.map((url) => ({ name: `vault endpoint ${url}`, port: portOf(url) })),
  ];
}

/** Addresses of this machine that other machines could use to reach it (link-local IPv6 needs a scope, so not those). */
function externalAddresses(): { ipv4: string[]; ipv6: string[] } {
  const all = Object.values(networkInterfaces()).flatMap((entries) => entries ?? []);
  const external = all.filter((entry) => !entry.internal);
  return {
    ipv4: external.filter((entry) => entry.family === 'IPv4').map((entry) => entry.address),
    ipv6: external.filter((entry) => entry.family === 'IPv6' && !entry.address.toLowerCase().startsWith('fe80:')).map((entry) => entry.address),
  };
}

/**
 * Connects to each address and port from a child process: the test workers refuse every
 * non-loopback connection (test/support/loopback-guard.ts), and this one must be tried. The child
 * also opens a server on every interface and connects to it through each address, so a refusal
 * below means the port is closed there, not that the address cannot be reached at all.
 */
type Outcome = 'connected' | 'refused' | `failed: ${string}`;
const PROBE = `
const net = require('node:net');
const { targets } = JSON.parse(process.argv[1]);
const attempt = (host, port) => new Promise((resolve) => {
  const socket = net.connect({ host, port });
  const done = (outcome) => { socket.destroy(); resolve(outcome); };
  socket.setTimeout(3000, () => done('failed: timeout'));
  socket.once('connect', () => done('connected'));
  socket.once('error', (error) => done(error.code === 'ECONNREFUSED' ? 'refused' : 'failed: ' + error.code));
});
const control = net.createServer((socket) => socket.destroy());
control.listen(0, '::', async () => {
  const controlPort = control.address().port;
  const results = [];
  for (const { host, port } of targets) results.push({ host, port, outcome: await attempt(host, port) });
  const controls = [];
  for (const host of [...new Set(targets.map((t) => t.host))]) controls.push({ host, outcome: await attempt(host, controlPort) });
  control.close();
  process.stdout.write(JSON.stringify({ results, controls }));
});
`;

async function probe(targets: { host: string; port: number }[]): Promise<{
  results: { host: string; port: number; outcome: Outcome }[];
  controls: { host: string; outcome: Outcome }[];
}> {
  const output = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['-e', PROBE, JSON.stringify({ targets })], { timeout: 60_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`the connection probe failed: ${error.message}\n${stderr}`)) : resolve(stdout),
    );
  });
  return JSON.parse(output);
}

function kmsClient(credentials: { accessKeyId: string; secretAccessKey: string }): KMSClient {
  return new KMSClient({ endpoint: info.endpoints.kms, region: REGION, credentials, maxAttempts: 1 });
}

async function allEntries(root: string): Promise<{ path: string; mode: number; directory: boolean }[]> {
  const entry = await lstat(root);
  if (entry.isSymbolicLink()) return [];
  const here = { path: root, mode: entry.mode & 0o777, directory: entry.isDirectory() };
  if (!entry.isDirectory()) return [here];
  const children = await Promise.all((await readdir(root)).map((name) => allEntries(join(root, name)).catch(() => [])));
  return [here, ...children.flat()];
}

describe('the local stack is locked down', () => {
  it('answers on loopback, and on no other address of this machine', async (context) => {
    const ports = stackPorts(info);
    expect(new Set(ports.map((p) => p.port)).size).toBe(ports.length);
    const { ipv4, ipv6 } = externalAddresses();

    const onLoopback = await probe(ports.map(({ port }) => ({ host: '127.0.0.1', port })));
    expect(onLoopback.results.map((r) => r.outcome)).toEqual(ports.map(() => 'connected'));

    if (ipv4.length === 0) {
      context.skip('this machine has no non-loopback IPv4 address, so there is no other address to try the ports on');
      return;
    }
    const hosts = [...ipv4, ...ipv6];
    const elsewhere = await probe(hosts.flatMap((host) => ports.map(({ port }) => ({ host, port }))));
    // The address itself is reachable: a server listening on every interface answers on it.
    expect(elsewhere.controls).toEqual(hosts.map((host) => ({ host, outcome: 'connected' })));
    const named = elsewhere.results.map(({ host, port, outcome }) => ({ part: ports.find((p) => p.port === port)!.name, host, outcome }));
    expect(named).toEqual(hosts.flatMap((host) => ports.map(({ name }) => ({ part: name, host, outcome: 'refused' }))));
  });

  it("the local KMS serves the stack's own credential and refuses a wrong secret, another key id and a bogus signature", async () => {
    const real = kmsClient(info.awsCredentials);
    const listed = await real.send(new ListKeysCommand({ Limit: 1000 }));
    // The bootstrap made the backup key and every vault its own: the real credential sees them.
    expect(listed.Keys!.length).toBeGreaterThan(0);
    real.destroy();

    const wrongSecret = kmsClient({ accessKeyId: info.awsCredentials.accessKeyId, secretAccessKey: `${info.awsCredentials.secretAccessKey}x` });
    await expect(wrongSecret.send(new ListKeysCommand({}))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 400 },
    });
    wrongSecret.destroy();

    // What every local client used before the stack had a credential of its own.
    const shared = kmsClient(LOCAL_CREDENTIALS);
    await expect(shared.send(new ListKeysCommand({}))).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
    shared.destroy();

    const date = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const kms = new URL(info.endpoints.kms);
    const bogus = await new Promise<{ status: number; body: { __type?: string } }>((resolve, reject) => {
      const req = request(
        kms,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/x-amz-json-1.1',
            'x-amz-target': 'TrentService.ListKeys',
            'x-amz-date': date,
            authorization: `AWS4-HMAC-SHA256 Credential=${info.awsCredentials.accessKeyId}/${date.slice(0, 8)}/${REGION}/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'ab'.repeat(32)}`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect([bogus.status, bogus.body.__type]).toEqual([400, 'InvalidSignatureException']);
  });

  it('keeps every directory and file under the data directory owner-only', async () => {
    const dataDir = process.env.COFFER_TEST_DATA_DIR;
    if (!dataDir) throw new Error('COFFER_TEST_DATA_DIR is not set: run the tests through vitest (npm test)');
    const entries = await allEntries(dataDir);
    const paths = entries.map((entry) => relative(dataDir, entry.path));
    // The files that matter most are among those checked.
    expect(paths).toEqual(
      expect.arrayContaining([
        'aws-credentials.json',
        'local.json',
        'kms/root.key',
        'dynamodb/shared-local-instance.db',
        'logs/gateway.log',
        'logs/kms.log',
        'identity/registry.json',
        'tls/ca-key.pem',
      ]),
    );
    const open = entries.filter((entry) => (entry.mode & 0o077) !== 0).map((entry) => `${entry.mode.toString(8)} ${relative(dataDir, entry.path)}`);
    expect(open).toEqual([]);
    for (const entry of entries.filter((e) => e.directory)) expect(entry.mode).toBe(0o700);
  });
});
