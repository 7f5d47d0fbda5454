import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { zipSync } from 'fflate';
import type { Route } from '../lib/http/routes.ts';
import { type EventFunction, eventFunctions } from '../infra/event-functions.ts';
import { functionKey } from '../infra/serverless-config.ts';

/**
 * One self-contained ESM bundle per function: esbuild follows only what the handler imports, so each
 * function carries its own code path and its dependencies (AWS SDK included: the runtime's copy is a
 * different version from the one the tests ran against, and a bundled, minified SDK loads faster).
 *
 * The budget: a function's minified bundle may not exceed BUNDLE_BUDGET_BYTES. Cold-start time grows
 * with the code Node has to parse and evaluate before the first request (docs/deploy.md has the
 * measured import times), so the budget keeps every function well under the point where init time
 * starts to dominate a cold request; a dependency that breaks it has to be justified, or loaded
 * lazily, instead of slipping in.
 */
export const BUNDLE_BUDGET_BYTES = 1024 * 1024;

export const projectRoot = resolve(import.meta.dirname, '..');

/**
 * What a function family's bundle must never carry. The composition roots (lib/runtime/<family>.ts)
 * keep the families apart; one stray import would put another domain into every function of the
 * family, so packaging fails on it instead.
 */
export const FAMILY_EXCLUSIONS: Record<string, RegExp[]> = {
  secrets: [/^lib\/keys\//, /node_modules\/@noble\/curves\//],
  // The audit delivery writes records: nothing of the request pipeline, the vault domains or KMS.
  audit: [/^lib\/(http|access|objects|secrets|keys|crypto)\//, /node_modules\/(@middy|jose|@noble)\//, /node_modules\/@aws-sdk\/client-kms\//],
};

/**
 * What no function's bundle may carry: the SDK's default credential chain and the STS, SSO and
 * sign-in clients it loads (see BUNDLE_ALIASES). Only the environment provider is used.
 */
export const EVERY_FUNCTION_EXCLUSIONS: RegExp[] = [/node_modules\/@aws-sdk\/(nested-clients|credential-provider-(?!env\/)[^/]+)\//];

export interface BundledFunction {
  key: string;
  /** The operation's route; none for a function no route reaches (infra/event-functions.ts). */
  route?: Route;
  bundle: string;
  bundleBytes: number;
  artifact: string;
  artifactBytes: number;
}

/**
 * Modules the SDK imports but a function never runs, replaced at build time. The default credential
 * chain is one: lib/aws/clients.ts passes credentials from the environment, so the chain, and the
 * STS, SSO and sign-in clients it would load, never run (about 100 KiB of every bundle).
 */
const BUNDLE_ALIASES: Record<string, string> = {
  '@aws-sdk/credential-provider-node': './scripts/bundle-stubs/credential-provider-node.ts',
};

// CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
const requireShim = "import{createRequire as __cofferRequire}from'node:module';const require=__cofferRequire(import.meta.url);";

// Fixed timestamps and modes make the zip depend on the code only, so an unchanged function keeps
// its hash and is not updated on deploy.
const ZIP_DATE = new Date('2020-01-01T00:00:00Z');
const ZIP_FILE_MODE = 0o100644;

/** What a function is bundled from, for a route's function and for one no route reaches alike. */
interface FunctionSource {
  key: string;
  handler: string;
  /** How errors name it. */
  name: string;
  route?: Route;
}

/** The routes' functions, then `events` (by default every function no route reaches). */
export async function bundleFunctions(
  routes: readonly Route[],
  outDir: string,
  events: readonly EventFunction[] = eventFunctions,
): Promise<BundledFunction[]> {
  const sources: FunctionSource[] = [
    ...routes.map((route) => ({
      key: functionKey(route),
      handler: route.handler,
      name: `${route.operation} (${route.method} ${route.path})`,
      route,
    })),
    ...events.map((fn) => ({ key: fn.key, handler: fn.handler, name: fn.key })),
  ];
  const entryPoints: Record<string, string> = {};
  for (const fn of sources) {
    const source = join(projectRoot, 'functions', `${fn.handler}.ts`);
    try {
      await access(source);
    } catch {
      throw new Error(`${fn.name}: handler functions/${fn.handler}.ts does not exist`);
    }
    entryPoints[fn.key] = source;
  }
  const bundleDir = join(outDir, 'bundles');
  const result = await build({
    entryPoints,
    outdir: bundleDir,
    entryNames: '[name]/index',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    // Prefer packages' ES module builds: esbuild can only tree-shake ES modules.
    mainFields: ['module', 'main'],
    minify: true,
    treeShaking: true,
    legalComments: 'none',
    banner: { js: requireShim },
    alias: BUNDLE_ALIASES,
    metafile: true,
    logLevel: 'warning',
    absWorkingDir: projectRoot,
  });
  await writeFile(join(bundleDir, 'metafile.json'), JSON.stringify(result.metafile));

  const artifactDir = join(outDir, 'artifacts');
  await mkdir(artifactDir, { recursive: true });
  const bundled: BundledFunction[] = [];
  for (const { key, route, ...fn } of sources) {
    const bundle = join(bundleDir, key, 'index.mjs');
    assertFamilyBoundary({ key, ...fn }, Object.keys(result.metafile.outputs[relative(projectRoot, bundle)]?.inputs ?? {}));
    const code = await readFile(bundle);
    const zip = zipSync({ 'index.mjs': [code, { level: 9, mtime: ZIP_DATE, os: 3, attrs: (ZIP_FILE_MODE << 16) >>> 0 }] });
    const artifact = join(artifactDir, `${key}.zip`);
    await writeFile(artifact, zip);
    bundled.push({ key, route, bundle, bundleBytes: code.length, artifact, artifactBytes: zip.length });
  }
  return bundled;
}

function assertFamilyBoundary(fn: Omit<FunctionSource, 'route'>, inputs: string[]): void {
  const family = fn.handler.split('/')[0] ?? '';
  for (const excluded of FAMILY_EXCLUSIONS[family] ?? []) {
    const offending = inputs.find((input) => excluded.test(input));
    if (offending) throw new Error(`${fn.key}: a ${family} function must not bundle ${offending}`);
  }
  for (const excluded of EVERY_FUNCTION_EXCLUSIONS) {
    const offending = inputs.find((input) => excluded.test(input));
    if (offending) throw new Error(`${fn.key}: no function may bundle ${offending}`);
  }
}

/** Bytes each package contributes to a bundle, largest first: what to look at when a budget breaks. */
export function largestInputs(metafile: Metafile, bundle: string, top = 8): { name: string; bytes: number }[] {
  const output = metafile.outputs[relative(projectRoot, bundle)];
  if (!output) return [];
  const byPackage = new Map<string, number>();
  for (const [file, input] of Object.entries(output.inputs)) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file.split('/').slice(0, 2).join('/');
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
  }
  return [...byPackage.entries()]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}
