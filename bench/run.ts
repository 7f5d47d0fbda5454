/**
 * `npm run bench`: Coffer's speed and cost, as ratios against baselines measured in this process
 * (a raw DynamoDB GetItem, raw node:crypto signing), plus AWS requests per call and a cost model.
 * It starts its own local stack in a temporary directory; everything stays on loopback.
 * bench/README.md explains what is measured and why.
 */
import '../test/support/loopback-guard.ts';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack } from '../dev/stack.ts';
import { runBenchmarks } from './cases.ts';
import { seconds } from './format.ts';
import { log } from './measure.ts';
import { RowRefused } from './refusal.ts';
import { render } from './report.ts';

const RESULTS_FILE = fileURLToPath(new URL('results/latest.json', import.meta.url));

async function main(): Promise<void> {
  const startedAt = Date.now();
  const dataDir = await mkdtemp(join(tmpdir(), 'coffer-bench-'));
  log(`Coffer benchmark: starting a local stack in ${dataDir}`);
  // Neither of the gateway's background readers and writers runs against the DynamoDB Local the rows
  // read (one SQLite file: their requests would hold up whichever row runs next). The audit delivery
  // is measured apart (bench/costs.ts). The objects table's stream reader polls every 200 ms; in AWS
  // the stream is read by another service (the event source mapping), not by a process that shares
  // the table's SQLite file with the reads being timed.
  const stack = await startStack({ dataDir, progress: log, auditDelivery: false, eventStream: false });
  let stopping: Promise<void> | undefined;
  const shutdown = () => (stopping ??= stack.stop().then(() => rm(dataDir, { recursive: true, force: true })));
  const onSignal = () => {
    log('interrupted: stopping the local stack...');
    void shutdown().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log(`local stack ready in ${seconds(startedAt)} s`);
    const report = await runBenchmarks(stack.info, dataDir);
    await mkdir(dirname(RESULTS_FILE), { recursive: true });
    await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(render(report));
    process.stdout.write(`\nresults: ${relative(process.cwd(), RESULTS_FILE)} · whole run ${seconds(startedAt)} s\n`);
  } catch (error) {
    // Nothing is reported or written when a row's calls did not all succeed.
    if (!(error instanceof RowRefused)) throw error;
    log(`benchmark refused, no results written: ${error.message}`);
    process.exitCode = 1;
  } finally {
    log('stopping the local stack...');
    await shutdown();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

await main();
