import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import tls from 'node:tls';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, describe, expect, it } from 'vitest';
import { assertJava } from '../../dev/dynamodb.ts';
import { freePorts, type LocalStackInfo } from '../../dev/stack.ts';

/**
 * `npm start` as a user runs it: the real launcher in its own process, stopped with SIGINT, started
 * again on the same data directory.
 */
const root = resolve(import.meta.dirname, '../..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

interface Ports {
  gateway: number;
  management: number;
  identity: number;
  kms: number;
  dynamodb: number;
  vaults: number[];
}

async function freeStackPorts(): Promise<Ports> {
  const [gateway, management, identity, kms, dynamodb, ...vaults] = (await freePorts(8)) as [number, number, number, number, number, ...number[]];
  return { gateway, management, identity, kms, dynamodb, vaults };
}

const allPorts = (ports: Ports) => [ports.gateway, ports.management, ports.identity, ports.kms, ports.dynamodb, ...ports.vaults];

function launch(
  dataDir: string,
  ports: Ports,
  extraEnv: Record<string, string> = {},
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(tsx, ['dev/start.ts'], {
    cwd: root,
    env: {
      ...process.env,
      COFFER_DATA_DIR: dataDir,
      COFFER_PORT: String(ports.gateway),
      COFFER_IDENTITY_PORT: String(ports.identity),
      COFFER_KMS_PORT: String(ports.kms),
      COFFER_DYNAMODB_PORT: String(ports.dynamodb),
      COFFER_MANAGEMENT_PORT: String(ports.management),
      COFFER_VAULT_PORTS: ports.vaults.join(','),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => output, exited };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((r) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      r(true);
    });
    socket.once('error', () => r(false));
  });
}

describe('npm start', () => {
  it('starts, keeps every object across Ctrl-C and a restart, and stops all its processes', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'coffer-cli-'));
    const ports = await freeStackPorts();
    try {
      const first = launch(dataDir, ports);
      await waitFor(() => first.output().includes('Press Ctrl-C to stop.'), 'the first start');
      expect(first.output()).toMatch(/DynamoDB Local ready/);
      const info = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8')) as LocalStackInfo;
      expect(info.vaultUrl).toBe(`https://localhost:${ports.gateway}`);
      expect(info.managementUrl).toBe(`https://localhost:${ports.management}`);
      expect(info.vaultEndpoints).toEqual(ports.vaults.map((port) => `https://localhost:${port}`));
      expect(first.output()).toContain(`management URL   https://localhost:${ports.management}`);
      for (const key of ['vaultUrl', 'caFile', 'tenantId', 'authorityHost', 'clientId', 'clientSecret'] as const) expect(info[key]).toBeTruthy();

      // Trust this stack's CA in this process too (Node 24), next to the suite's own.
      tls.setDefaultCACertificates([...tls.getCACertificates('default'), readFileSync(info.caFile, 'utf8')]);
      const client = () =>
        new SecretClient(
          info.vaultUrl,
          new ClientSecretCredential(info.tenantId, info.clientId, info.clientSecret, {
            authorityHost: info.authorityHost,
            disableInstanceDiscovery: true,
          }),
          { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } },
        );
      await client().setSecret('survives-restart', 'persisted-value', { tags: { kept: 'yes' } });

      // A second start on the same data directory refuses while the first runs.
      const second = launch(dataDir, await freeStackPorts());
      expect(await second.exited).toBe(1);
      expect(second.output()).toMatch(/already running/);

      first.child.kill('SIGINT');
      expect(await first.exited).toBe(0);
      expect(first.output()).toMatch(/Coffer stopped/);
      expect(existsSync(join(dataDir, 'coffer.pid'))).toBe(false);
      for (const port of allPorts(ports)) expect(await portOpen(port)).toBe(false);

      const again = launch(dataDir, ports);
      await waitFor(() => again.output().includes('Press Ctrl-C to stop.'), 'the restart');
      const reread = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8')) as LocalStackInfo;
      expect(reread.tenantId).toBe(info.tenantId);
      expect(reread.clientId).toBe(info.clientId);
      expect(reread.subscriptionId).toBe(info.subscriptionId);
      const secret = await client().getSecret('survives-restart');
      expect(secret.value).toBe('persisted-value');
      expect(secret.properties.tags).toEqual({ kept: 'yes' });

      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
      for (const port of allPorts(ports)) expect(await portOpen(port)).toBe(false);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 300_000);

  it('refuses to start while another instance holds the data directory', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'coffer-lock-'));
    try {
      await mkdir(dataDir, { recursive: true });
      // This test worker is alive, so its pid stands for a running Coffer.
      await writeFile(join(dataDir, 'coffer.pid'), String(process.pid));
      const run = launch(dataDir, { gateway: 1, management: 1, identity: 1, kms: 1, dynamodb: 1, vaults: [1] });
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain(`Coffer is already running (process ${process.pid})`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a vault endpoint port list it cannot read, before it starts anything', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'coffer-ports-'));
    try {
      const run = launch(dataDir, { gateway: 1, management: 1, identity: 1, kms: 1, dynamodb: 1, vaults: [] }, { COFFER_VAULT_PORTS: '9000-8990' });
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain("COFFER_VAULT_PORTS: '9000-8990' is not a port or a range of ports");
      expect(existsSync(join(dataDir, 'coffer.pid'))).toBe(false);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('explains how to install Java when it is missing', async () => {
    const path = process.env.PATH;
    process.env.PATH = join(tmpdir(), 'no-java-here');
    try {
      await expect(assertJava()).rejects.toThrow(/Java was not found[\s\S]*apt-get install -y openjdk-17-jre-headless/);
    } finally {
      process.env.PATH = path;
    }
  });
});
