import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { zipSync } from 'fflate';
import type { Route } from '../lib/http/routes.ts';
import { eventFunctions } from '../infra/event-functions.ts';
import { functionKey, unmatchedRequests } from '../infra/serverless-config.ts';

/**
 * One self-contained ESM bundle per function: esbuild follows only what the handler imports, so each
 * function carries its own code path and its dependencies (the runtime's AWS SDK is never used: the
 * functions call AWS through lib/aws/api, docs/adr/0011-aws-calls-without-the-sdk-runtime.md).
 *
 * The budget: a function's minified bundle may not exceed BUNDLE_BUDGET_BYTES. Cold-start time grows
 * with the code Node has to parse and evaluate before the first request (the README's "Bundle
 * budget" has the measured import times), and 300 KiB is what keeps the import of every function
 * within 100 ms on a 2-core machine; a dependency that breaks it has to be justified, or loaded
 * lazily, instead of slipping in.
 */
export const BUNDLE_BUDGET_BYTES = 300 * 1024;

/**
 * The three functions that make certificate versions (create, import, merge) carry the X.509 and
 * PKCS#12 library (pkijs with asn1js, about 370 KiB minified) on top of what every certificate
 * function carries: they get a budget of their own, and no other function may bundle the library
 * (`CERTIFICATE_LIBRARY`). Their import is about 200 ms here, twice the target
 * (docs/adr/0014-certificates.md, "Bundle size").
 */
export const CERTIFICATE_ISSUANCE_BUNDLE_BUDGET_BYTES = 800 * 1024;
/**
 * The reference rotator (docs/rotation.md) carries the official SecretClient, @azure/identity with
 * MSAL (about 200 KiB of it) and pg: about 510 KiB. It runs on a secret's near expiry, a few times a
 * year per secret and never on a request's path, so its cold start is not the request path's budget.
 */
export const ROTATOR_BUNDLE_BUDGET_BYTES = 600 * 1024;
const CERTIFICATE_ISSUANCE_HANDLERS = [
  'certificates/create-certificate',
  'certificates/import-certificate',
  'certificates/merge-certificate',
  // The scheduler renews certificates (AutoRenew): it issues them as CreateCertificate does.
  'events/run-scheduled-work',
];
/**
 * A function whose family is not its folder's: the scheduler runs on events but does the work of the
 * secrets, keys, certificates and vault domains (rotation, renewal, purge), which the events family
 * must not bundle.
 */
const FAMILY_OF: Record<string, string> = { 'events/run-scheduled-work': 'scheduler' };
const CERTIFICATE_LIBRARY = /node_modules\/(pkijs|asn1js|bytestreamjs|pvutils)\//;

/** A function's budget: the issuing certificate functions', or everyone's. */
export function bundleBudgetOf(handler: string): number {
  return CERTIFICATE_ISSUANCE_HANDLERS.includes(handler) ? CERTIFICATE_ISSUANCE_BUNDLE_BUDGET_BYTES : BUNDLE_BUDGET_BYTES;
}

export const projectRoot = resolve(import.meta.dirname, '..');

/**
 * What a function family's bundle must never carry. The composition roots (lib/runtime/<family>.ts)
 * keep the families apart; one stray import would put another domain into every function of the
 * family, so packaging fails on it instead.
 */
export const FAMILY_EXCLUSIONS: Record<string, RegExp[]> = {
  secrets: [/^lib\/keys\//, /node_modules\/@noble\/curves\//],
  // The audit delivery writes records: nothing of the request pipeline, the vault domains or KMS.
  audit: [/^lib\/(http|access|objects|secrets|keys|crypto)\//, /node_modules\/(@middy|jose|@noble)\//, /^lib\/aws\/(api\/)?kms/],
  // The event publisher reads the stream and vault records and calls PutEvents: no request pipeline, no
  // vault domain, no KMS. Of lib/access only scopes.ts, which builds the vault's resource id (an event's topic).
  // The reference rotator is a client of the vault's API: no vault domain, no table, no KMS; of the
  // AWS adapters only SSM (its client secret) and the bus its failure events go to.
  rotation: [
    /^lib\/(http|auth|access|audit|objects|secrets|keys|certificates|crypto|vaults)\//,
    /^lib\/aws\/(?!(api\/(ssm|aws-json|eventbridge)|rotation-failures)\.ts$)/,
  ],
  events: [
    /^lib\/(http|secrets|keys|certificates|crypto)\//,
    /^lib\/access\/(?!scopes\.ts$)/,
    /node_modules\/(@middy|jose|pkijs|asn1js|@noble)\//,
    /^lib\/aws\/(api\/)?kms/,
  ],
};

/**
 * What no function's bundle may carry: the AWS SDK's clients and their runtime (middleware stack,
 * protocols, credential chains), more than half of every bundle when they were in. Functions call
 * AWS through lib/aws/api, which takes only the SDK's signer (`@smithy/signature-v4`, with the few
 * `@smithy/core` helpers it uses) and its DynamoDB value conversion (`@aws-sdk/util-dynamodb`).
 */
export const EVERY_FUNCTION_EXCLUSIONS: RegExp[] = [
  /node_modules\/@aws-sdk\/(?!util-dynamodb\/)/,
  /node_modules\/@smithy\/(?!core\/|signature-v4\/|types\/)/,
  /node_modules\/@smithy\/core\/dist-es\/submodules\/(retry|endpoints|schema|event-streams|config|checksum)\//,
];

export interface BundledFunction {
  key: string;
  /** The operation's route; none for a function no route reaches (infra/event-functions.ts). */
  route?: Route;
  /** Its source under functions/, without `.ts`: what its bundle budget goes by (`bundleBudgetOf`). */
  handler: string;
  bundle: string;
  bundleBytes: number;
  artifact: string;
  artifactBytes: number;
}

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

/**
 * Native addons a bundle cannot carry: esbuild leaves their imports to Node, and the zip of a function
 * that imports one ships the package's files that load it, under `node_modules/<package>/` beside
 * `index.mjs`, where Node resolves it (docs/adr/0019-pkcs11-adapter.md: pkcs11js' addon, built by
 * scripts/build-pkcs11-addon.sh for the machine that packages, which the pools' stack's architecture
 * matches: `NATIVE_ADDON_ARCHITECTURE`).
 */
export const NATIVE_ADDONS: Record<string, readonly string[]> = {
  pkcs11js: ['package.json', 'index.js', 'build/Release/pkcs11.node'],
};
/** The ELF machine the shipped addons must be built for: the pools' stack runs on x86_64 (infra/pools/serverless.yml). */
const NATIVE_ADDON_ARCHITECTURE = { name: 'x86-64', elfMachine: 0x3e } as const;

export interface BundleOptions {
  /** The main API's `$default` route's function too (the pools' stack bundles its own API's among `events`). */
  unmatched?: boolean;
  /** Leave `NATIVE_ADDONS` to Node and ship them (the pools' stack). */
  nativeAddons?: boolean;
}

/** The routes' functions, then `events` (by default every function no route reaches; the pools' stack's `$default` function). */
export async function bundleFunctions(
  routes: readonly Route[],
  outDir: string,
  events: readonly { key: string; handler: string }[] = eventFunctions,
  options: BundleOptions = {},
): Promise<BundledFunction[]> {
  const sources: FunctionSource[] = [
    ...routes.map((route) => ({
      key: functionKey(route),
      handler: route.handler,
      name: `${route.operation} (${route.method} ${route.path})`,
      route,
    })),
    ...events.map((fn) => ({ key: fn.key, handler: fn.handler, name: fn.key })),
    ...((options.unmatched ?? true) ? [{ key: unmatchedRequests.key, handler: unmatchedRequests.handler, name: unmatchedRequests.key }] : []),
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
    metafile: true,
    logLevel: 'warning',
    absWorkingDir: projectRoot,
    external: options.nativeAddons ? Object.keys(NATIVE_ADDONS) : [],
  });
  await writeFile(join(bundleDir, 'metafile.json'), JSON.stringify(result.metafile));

  const artifactDir = join(outDir, 'artifacts');
  await mkdir(artifactDir, { recursive: true });
  const bundled: BundledFunction[] = [];
  for (const { key, route, ...fn } of sources) {
    const bundle = join(bundleDir, key, 'index.mjs');
    const output = result.metafile.outputs[relative(projectRoot, bundle)];
    assertFamilyBoundary({ key, ...fn }, Object.keys(output?.inputs ?? {}));
    const code = await readFile(bundle);
    const entries: Record<string, Uint8Array> = { 'index.mjs': code };
    const addons = new Set((output?.imports ?? []).filter((i) => i.external && i.path in NATIVE_ADDONS).map((i) => i.path));
    for (const addon of [...addons].sort()) Object.assign(entries, await nativeAddonFiles(addon));
    const zip = zipSync(
      Object.fromEntries(
        Object.entries(entries).map(([path, bytes]) => [path, [bytes, { level: 9, mtime: ZIP_DATE, os: 3, attrs: (ZIP_FILE_MODE << 16) >>> 0 }]]),
      ),
    );
    const artifact = join(artifactDir, `${key}.zip`);
    await writeFile(artifact, zip);
    bundled.push({ key, route, handler: fn.handler, bundle, bundleBytes: code.length, artifact, artifactBytes: zip.length });
  }
  return bundled;
}

/** The files of a native addon's package a function's zip ships, by their path in the zip; refuses an addon built for another machine. */
export async function nativeAddonFiles(addon: string): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  for (const file of NATIVE_ADDONS[addon] ?? []) {
    const bytes = await readFile(join(projectRoot, 'node_modules', addon, file));
    if (file.endsWith('.node')) {
      // ELF: the magic, then e_machine (little-endian) at offset 18.
      const elf = bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
      if (!elf || bytes.readUInt16LE(18) !== NATIVE_ADDON_ARCHITECTURE.elfMachine) {
        throw new Error(
          `node_modules/${addon}/${file} is not a Linux ${NATIVE_ADDON_ARCHITECTURE.name} addon: package on a Linux ${NATIVE_ADDON_ARCHITECTURE.name} machine`,
        );
      }
    }
    files[`node_modules/${addon}/${file}`] = bytes;
  }
  return files;
}

function assertFamilyBoundary(fn: Omit<FunctionSource, 'route'>, inputs: string[]): void {
  const family = FAMILY_OF[fn.handler] ?? fn.handler.split('/')[0] ?? '';
  for (const excluded of FAMILY_EXCLUSIONS[family] ?? []) {
    const offending = inputs.find((input) => excluded.test(input));
    if (offending) throw new Error(`${fn.key}: a ${family} function must not bundle ${offending}`);
  }
  for (const excluded of EVERY_FUNCTION_EXCLUSIONS) {
    const offending = inputs.find((input) => excluded.test(input));
    if (offending) throw new Error(`${fn.key}: no function may bundle ${offending}`);
  }
  const library = CERTIFICATE_ISSUANCE_HANDLERS.includes(fn.handler) ? undefined : inputs.find((input) => CERTIFICATE_LIBRARY.test(input));
  if (library) throw new Error(`${fn.key}: only the functions that make certificate versions may bundle ${library}`);
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
