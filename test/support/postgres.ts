import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';

/**
 * A real PostgreSQL server for a test: Debian's binaries (scripts/ensure-postgres.sh installs them
 * where they are missing), a fresh cluster in a temporary directory, listening on 127.0.0.1 only, on
 * a free port, with password (SCRAM) authentication for every connection. PostgreSQL refuses to run
 * as root, so as root the cluster belongs to the `postgres` system user and runs as it (runuser).
 */
export interface PostgresServer {
  host: '127.0.0.1';
  port: number;
  superuser: { username: string; password: string };
  /** A client logged in as the superuser, to the `postgres` database. */
  admin(): Promise<pg.Client>;
  stop(): Promise<void>;
}

const ENSURE_SCRIPT = resolve(import.meta.dirname, '../../scripts/ensure-postgres.sh');

export async function startPostgres(): Promise<PostgresServer> {
  const bindir = ensurePostgres();
  const dir = await mkdtemp(join(tmpdir(), 'coffer-postgres-'));
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? systemUser('postgres') : undefined;
  if (user) await chown(dir, user.uid, user.gid);
  await chmod(dir, 0o700);
  const password = `su-${Math.random().toString(36).slice(2)}${Date.now()}`;
  const passwordFile = join(dir, 'superuser-password');
  await writeFile(passwordFile, password, { mode: 0o600 });
  if (user) await chown(passwordFile, user.uid, user.gid);
  const data = join(dir, 'data');
  const run = (binary: string, args: string[]) =>
    (asRoot ? ['runuser', ['-u', 'postgres', '--', join(bindir, binary), ...args]] : [join(bindir, binary), args]) as [string, string[]];

  const [initdb, initArgs] = run('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--pwfile',
    passwordFile,
    '--auth=scram-sha-256',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  execFileSync(initdb, initArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await freePort();
  const [postgres, serverArgs] = run('postgres', [
    '-D',
    data,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${dir}`,
    '-c',
    'fsync=off',
  ]);
  const server: ChildProcess = spawn(postgres, serverArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const superuser = { username: 'postgres', password };
  const admin = async () => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: superuser.username, password, database: 'postgres' });
    await client.connect();
    return client;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`postgres exited with ${server.exitCode}: ${stderr}`);
    try {
      await (await admin()).end();
      break;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 30 s: ${String(error)}; ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    host: '127.0.0.1',
    port,
    superuser,
    admin,
    stop: async () => {
      if (server.exitCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        // pg_ctl's fast shutdown ends the sessions without waiting on clients; runuser would not pass a signal on.
        const [pgCtl, stopArgs] = run('pg_ctl', ['-D', data, 'stop', '-m', 'fast', '-w']);
        execFileSync(pgCtl, stopArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function ensurePostgres(): string {
  let output: string;
  try {
    output = execFileSync('bash', [ENSURE_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
  } catch (error) {
    const stdout = (error as { stdout?: string }).stdout ?? '';
    throw new Error(`PostgreSQL is needed and cannot be had: ${stdout.trim().split('\n').at(-1) ?? String(error)}`);
  }
  const last = output.trim().split('\n').at(-1) ?? '';
  if (!last.startsWith('READY ')) throw new Error(`scripts/ensure-postgres.sh answered ${last}`);
  return last.slice('READY '.length);
}

function systemUser(name: string): { uid: number; gid: number } {
  const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim()));
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`no system user ${name}: Debian's postgresql package creates it`);
  return { uid: uid!, gid: gid! };
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}
