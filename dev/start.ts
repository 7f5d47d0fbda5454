/**
 * `npm start`: the local Coffer vault. Data lives in `.coffer/` (kept across restarts); everything a
 * client needs is written to `.coffer/local.json`. Ctrl-C stops every part cleanly.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { makePrivateDirectory } from './files.ts';
import { startStack } from './stack.ts';

// Everything this process and its children create in the data directory is owner-only from the
// first moment: it holds the KMS root key, principals' secrets, the stack's AWS credential and logs.
process.umask(0o077);

const dataDir = resolve(process.env.COFFER_DATA_DIR ?? '.coffer');
const lockFile = join(dataDir, 'coffer.pid');
const fixed = {
  gateway: Number(process.env.COFFER_PORT ?? 8443),
  identity: Number(process.env.COFFER_IDENTITY_PORT ?? 8444),
  kms: Number(process.env.COFFER_KMS_PORT ?? 8445),
  dynamodb: Number(process.env.COFFER_DYNAMODB_PORT ?? 8446),
  // After the vault endpoints (8448-8463): the functions find it in their environment, a developer's
  // EventBridge client in local.json, at the same address after every restart.
  eventbridge: Number(process.env.COFFER_EVENTBRIDGE_PORT ?? 8464),
};
/** How many vaults get a loopback endpoint of their own (README "Several vaults at once"). */
const VAULT_ENDPOINTS = 16;
// Fixed, not free, ports: local.json and the vaults' claimed endpoints (their vaultUri) must mean the
// same after a restart. By default the management plane takes the first port after the gateway's
// that no other part uses (8447), and the vault endpoints the 16 after that (8448-8463).
const management = Number(process.env.COFFER_MANAGEMENT_PORT ?? portsAfter(fixed.gateway, 1, Object.values(fixed))[0]);
const ports = { ...fixed, management };
const vaultEndpointPorts = process.env.COFFER_VAULT_PORTS
  ? parsePortList(process.env.COFFER_VAULT_PORTS)
  : portsAfter(management, VAULT_ENDPOINTS, Object.values(ports));

function portsAfter(start: number, count: number, taken: number[]): number[] {
  const chosen: number[] = [];
  for (let port = start + 1; chosen.length < count && port <= 65_535; port++) if (!taken.includes(port)) chosen.push(port);
  return chosen;
}

/** `8448-8463`, `9000,9002,9004`, or both mixed. */
function parsePortList(value: string): number[] {
  const list = value.split(',').flatMap((part) => {
    const [first, last = first] = part.trim().split('-').map(Number);
    if (!Number.isInteger(first) || !Number.isInteger(last) || first! < 1 || last! > 65_535 || last! < first!) {
      console.error(`COFFER_VAULT_PORTS: '${part.trim()}' is not a port or a range of ports (e.g. 8448-8463).`);
      process.exit(1);
    }
    return Array.from({ length: last! - first! + 1 }, (_, i) => first! + i);
  });
  return [...new Set(list)];
}

async function acquireLock(): Promise<void> {
  await makePrivateDirectory(dataDir);
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
    await writeFile(lockFile, String(process.pid), { flag: 'wx', mode: 0o600 });
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
  stack = await startStack({
    dataDir,
    ports,
    vaultEndpointPorts,
    progress: (line) => console.log(line),
    strictAudit: process.env.COFFER_STRICT_AUDIT === '1',
    // Azure's per-vault limits, as a vault enforces them; COFFER_VAULT_LIMITS=off for a load test.
    vaultLimits: process.env.COFFER_VAULT_LIMITS !== 'off',
  });
} catch (error) {
  console.error(`\nCoffer could not start: ${(error as Error).message}`);
  await rm(lockFile, { force: true });
  process.exit(1);
}

const { info } = stack;
console.log(`
Coffer is running.
  vault URL        ${info.vaultUrl}   (also ${info.vaultHostUrl} where *.localhost resolves)
  management URL   ${info.managementUrl}   (scope ${info.managementScope})
  subscription     ${info.subscriptionId}   (resource group ${info.resourceGroup})
  vault endpoints  ${endpointSummary(info.vaultEndpoints)}   (one per vault created; vaultUri)
  tenant           ${info.tenantId}
  authority host   ${info.authorityHost}
  client id        ${info.clientId}   (Key Vault Administrator; secret and certificate in local.json)
  CA certificate   ${info.caFile}     (export NODE_EXTRA_CA_CERTS=${info.caFile})
  connection info  ${join(dataDir, 'local.json')}
  request log      ${info.gatewayLog}
  events log       ${info.eventsLog}   (every Key Vault event on the local EventBridge ${info.endpoints.eventbridge})
Press Ctrl-C to stop.`);

function endpointSummary(endpoints: string[]): string {
  if (endpoints.length <= 2) return endpoints.join(', ') || 'none';
  return `${endpoints[0]} ... ${endpoints.at(-1)} (${endpoints.length})`;
}

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
