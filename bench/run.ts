/**
 * `npm run bench`: Coffer's speed and cost, as ratios against baselines measured in this process
 * (a raw DynamoDB GetItem, raw node:crypto signing), plus AWS requests per call and a cost model.
 * It starts its own local stack in a temporary directory; everything stays on loopback.
 * bench/README.md explains what is measured and why.
 *
 * Options: `--smoke` runs everything with a call or a few each, to show that every row still
 * succeeds (test/integration/bench-smoke.test.ts runs it); `--results <file>` writes the results
 * there instead of bench/results/latest.json (smoke: bench/results/smoke.json).
 */
import '../test/support/loopback-guard.ts';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startStack } from '../dev/stack.ts';
import { type BenchMode, runBenchmarks } from './cases.ts';
import { seconds } from './format.ts';
import { log } from './measure.ts';
import { RowRefused } from './refusal.ts';
import { render } from './report.ts';
import { BENCH_STACK } from './setup.ts';

/** A smoke run's results go to a file of their own: its numbers must never stand in for a measured run's. */
const RESULTS_FILES: Record<BenchMode, string> = {
  full: fileURLToPath(new URL('results/latest.json', import.meta.url)),
  smoke: fileURLToPath(new URL('results/smoke.json', import.meta.url)),
};

const { values: args } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, results: { type: 'string' } } });
const mode: BenchMode = args.smoke ? 'smoke' : 'full';
const resultsFile = args.results === undefined ? RESULTS_FILES[mode] : resolve(args.results);

async function main(): Promise<void> {
  const startedAt = Date.now();
  const dataDir = await mkdtemp(join(tmpdir(), 'coffer-bench-'));
  log(`Coffer benchmark${mode === 'smoke' ? ' (smoke run: a few calls per row, numbers mean nothing)' : ''}: starting a local stack in ${dataDir}`);
  // Without the audit delivery and the stream reader (BENCH_STACK says why).
  const stack = await startStack({ dataDir, progress: log, ...BENCH_STACK });
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
    const report = await runBenchmarks(stack.info, dataDir, mode);
    await mkdir(dirname(resultsFile), { recursive: true });
    await writeFile(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(render(report));
    process.stdout.write(`\nresults: ${relative(process.cwd(), resultsFile)} · whole run ${seconds(startedAt)} s\n`);
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
