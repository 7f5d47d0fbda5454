/**
 * Starts one local Coffer stack (free ports, temporary data directory) for the whole test run, the
 * same stack `npm start` runs. Test workers find it through COFFER_LOCAL_JSON and trust its CA through
 * NODE_EXTRA_CA_CERTS, which workers read at their start (they are forked after this runs).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack } from '../../dev/stack.ts';
import { ensureSoftHsm } from './softhsm.ts';

export default async function setup() {
  const dataDir = await mkdtemp(join(tmpdir(), 'coffer-test-'));
  const started = Date.now();
  // The stack's managed HSM pools each get a SoftHSM2 token: a fresh machine installs it first (as root, with apt-get).
  process.stdout.write('making sure SoftHSM2 is installed...\n');
  ensureSoftHsm();
  process.stdout.write('starting the local Coffer stack for the tests...\n');
  const stack = await startStack({ dataDir, progress: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(`local stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.env.COFFER_LOCAL_JSON = join(dataDir, 'local.json');
  process.env.COFFER_TEST_DATA_DIR = dataDir;
  process.env.NODE_EXTRA_CA_CERTS = stack.info.caFile;
  return async () => {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
