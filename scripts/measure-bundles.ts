/**
 * `npm run bundle:measure [-- --runs 9 --write]`: bundles every function of both stacks (the main one
 * and the managed HSM pools', infra/pool-stack.ts) as `npm run package` does and
 * measures, per function, the bundle and zip sizes and the cold-start import time: a fresh Node
 * process importing the bundle, which is the part of a Lambda cold start the bundle decides (runtime
 * start and the first request's network calls come on top). The median of several runs is reported
 * because a single process start is noisy. `--write` puts the table into the README.
 */
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import type { Metafile } from 'esbuild';
import { routes } from '../lib/http/routes.ts';
import { poolStackRoutes, poolSweep, poolUnmatchedRequests } from '../infra/pool-stack.ts';
import {
  BUNDLE_BUDGET_BYTES,
  type BundledFunction,
  bundleBudgetOf,
  bundleFunctions,
  CERTIFICATE_ISSUANCE_BUNDLE_BUDGET_BYTES,
  largestInputs,
  projectRoot,
} from './bundle.ts';

const run = promisify(execFile);
const DOC = join(projectRoot, 'README.md');
const START = '<!-- bundle-measurements:start -->';
const END = '<!-- bundle-measurements:end -->';

interface Measurement {
  key: string;
  budgetBytes: number;
  bundleBytes: number;
  artifactBytes: number;
  importMs: number;
}

async function importTime(bundle: string): Promise<number> {
  const probe = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(bundle).href)});process.stdout.write(String(performance.now()-t));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], { env: { PATH: process.env.PATH ?? '' } });
  return Number(stdout);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

function rows(measurements: Measurement[]): string[] {
  return [
    '| function | bundle (minified) | zip | share of budget | cold import |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...measurements.map(
      (m) =>
        `| ${m.key} | ${kib(m.bundleBytes)} | ${kib(m.artifactBytes)} | ${Math.round((100 * m.bundleBytes) / m.budgetBytes)}% | ${m.importMs.toFixed(0)} ms |`,
    ),
  ];
}

function table(main: Measurement[], pools: Measurement[], runs: number, largest: { name: string; bytes: number }[]): string {
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bundle:measure\` on Node ${process.versions.node}, ${cpus()[0]?.model.trim() ?? 'unknown CPU'} (${cpus().length} cores); import time is the median of ${runs} fresh processes. Budget: ${kib(BUNDLE_BUDGET_BYTES)} per bundle, ${kib(CERTIFICATE_ISSUANCE_BUNDLE_BUDGET_BYTES)} for the three that make certificate versions and the scheduler, which renews them.`,
    '',
    ...rows(main),
    '',
    `Largest contributors to one bundle (${main[0]?.key}): ${largest.map((l) => `${l.name} ${kib(l.bytes)}`).join(', ')}.`,
    '',
    "The managed HSM pools' stack (infra/pool-stack.ts): the zip of a function that opens an HSM ships the PKCS#11 addon beside the bundle, and its import loads the addon.",
    '',
    ...rows(pools),
  ];
  return lines.join('\n');
}

/** Each function's sizes and the median of `runs` cold imports of its bundle. */
async function measure(bundled: BundledFunction[], runs: number): Promise<Measurement[]> {
  const measurements: Measurement[] = [];
  for (const fn of bundled) {
    await importTime(fn.bundle); // the first run also warms the file cache
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await importTime(fn.bundle));
    measurements.push({
      key: fn.key,
      budgetBytes: bundleBudgetOf(fn.handler),
      bundleBytes: fn.bundleBytes,
      artifactBytes: fn.artifactBytes,
      importMs: median(times),
    });
  }
  return measurements;
}

async function main() {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, write: { type: 'boolean', default: false } } });
  const runs = Number(values.runs);
  const out = join(projectRoot, 'dist', 'measure');
  await rm(out, { recursive: true, force: true });
  const bundled = await bundleFunctions(routes, out);
  // The pools' stack as scripts/package.ts bundles it: its own `$default` function and the sweep of deleted pools beside its operations'.
  const poolFunctions = await bundleFunctions(poolStackRoutes, join(out, 'pools'), [poolUnmatchedRequests, poolSweep], {
    unmatched: false,
    nativeAddons: true,
  });
  const mainStack = await measure(bundled, runs);
  const poolStack = await measure(poolFunctions, runs);
  const metafile = JSON.parse(await readFile(join(out, 'bundles', 'metafile.json'), 'utf8')) as Metafile;
  const markdown = table(mainStack, poolStack, runs, largestInputs(metafile, bundled[0]!.bundle));
  process.stdout.write(`${markdown}\n`);
  if (values.write) {
    const doc = await readFile(DOC, 'utf8');
    const start = doc.indexOf(START);
    const end = doc.indexOf(END);
    if (start === -1 || end < start) throw new Error(`README.md has no ${START} ... ${END} section`);
    await writeFile(DOC, `${doc.slice(0, start + START.length)}\n${markdown}\n${doc.slice(end)}`);
    process.stdout.write('README.md updated\n');
  }
  const over = [...mainStack, ...poolStack].filter((m) => m.bundleBytes > m.budgetBytes);
  if (over.length > 0) {
    process.stderr.write(`over budget: ${over.map((m) => m.key).join(', ')}\n`);
    process.exitCode = 1;
  }
}

await main();
