/**
 * `npm start`: the local Coffer vault. Data lives in `.coffer/` (kept across restarts); everything a
 * client needs is written to `.coffer/local.json`. Ctrl-C stops every part cleanly.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startStack } from './stack.ts';

const dataDir = resolve(process.env.COFFER_DATA_DIR ?? '.coffer');
const lockFile = join(dataDir, 'coffer.pid');
const ports = {
  gateway: Number(process.env.COFFER_PORT ?? 8443),
  identity: Number(process.env.COFFER_IDENTITY_PORT ?? 8444),
  kms: Number(process.env.COFFER_KMS_PORT ?? 8445),
  dynamodb: Number(process.env.COFFER_DYNAMODB_PORT ?? 8446),
};

async function acquireLock(): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  try {
    const pid = Number((await readFile(lockFile, 'utf8')).trim());
    if (pid && pid !== process.pid && isAlive(pid)) {
      console.error(
        `Coffer is already running (process ${pid}) with data in ${dataDir}.\nStop it with Ctrl-C in its terminal (or \`kill ${pid}\`) before starting another.`,
      );
      process.exit(1);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // 'wx' makes two simultaneous starts race on the file system, not on our read above.
  await rm(lockFile, { force: true });
  try {
    await writeFile(lockFile, String(process.pid), { flag: 'wx' });
  } catch {
    console.error(`Another Coffer is starting with data in ${dataDir}.`);
    process.exit(1);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

await acquireLock();
console.log(`Starting Coffer (data in ${dataDir})`);
let stack: Awaited<ReturnType<typeof startStack>>;
try {
  // COFFER_STRICT_AUDIT=1 on the first start makes the default vault write each audit record before its response.
  stack = await startStack({ dataDir, ports, progress: (line) => console.log(line), strictAudit: process.env.COFFER_STRICT_AUDIT === '1' });
} catch (error) {
  console.error(`\nCoffer could not start: ${(error as Error).message}`);
  await rm(lockFile, { force: true });
  process.exit(1);
}

const { info } = stack;
console.log(`
Coffer is running.
  vault URL        ${info.vaultUrl}   (also ${info.vaultHostUrl} where *.localhost resolves)
  tenant           ${info.tenantId}
  authority host   ${info.authorityHost}
  client id        ${info.clientId}   (Key Vault Administrator; secret and certificate in local.json)
  CA certificate   ${info.caFile}     (export NODE_EXTRA_CA_CERTS=${info.caFile})
  connection info  ${join(dataDir, 'local.json')}
  request log      ${info.gatewayLog}
Press Ctrl-C to stop.`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping Coffer...`);
  await stack.stop();
  await rm(lockFile, { force: true });
  console.log('Coffer stopped. Data is kept in', dataDir);
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
