/**
 * `npm run package [-- --stage prod --region eu-west-1 --out dist --param memorySize=2048]` builds
 * everything a deploy needs, offline and without AWS credentials:
 *
 *   <out>/bundles/<Function>/index.mjs   one esbuild bundle per operation
 *   <out>/artifacts/<Function>.zip       the Lambda deployment packages
 *   <out>/config/generated.json          functions, routes and roles generated from the route table
 *   <out>/stack/                         `serverless package` output: the CloudFormation templates
 *   <out>/pools/{bundles,artifacts,config,stack}/   the same for the managed HSM pools' stack
 *                                        (infra/pool-stack.ts, infra/pools/serverless.yml)
 *
 * Deploy what was built with `npx serverless deploy --stage <stage> --region <region> --package <out>/stack`,
 * then the pools' stack (docs/deploy.md, "Managed HSM pools").
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { routes } from '../lib/http/routes.ts';
import { eventFunctions } from '../infra/event-functions.ts';
import {
  finishPoolTemplate,
  generatePoolStackConfig,
  mainStackExports,
  poolStackRoutes,
  poolSweep,
  poolUnmatchedRequests,
} from '../infra/pool-stack.ts';
import { rotatePostgresPassword } from '../infra/rotation-function.ts';
import { apiInvokeRole, generateConfig } from '../infra/serverless-config.ts';
import { type BundledFunction, bundleBudgetOf, bundleFunctions, projectRoot } from './bundle.ts';

export interface PackageOptions {
  stage: string;
  region: string;
  out: string;
  /** serverless params (`name=value`) overriding serverless.yml's tunables. */
  params?: string[];
  /** The optional reference rotator (docs/rotation.md) too. */
  rotator?: boolean;
  /** The pools' stack's optional CloudHSM part (its cluster, VPC, PKCS#11 layer and backup bucket). */
  cloudHsm?: boolean;
  /** Where progress goes; tests pass a quiet one. */
  log?: (line: string) => void;
}

export interface PackageResult {
  functions: BundledFunction[];
  templateFile: string;
  stackDir: string;
  /** The managed HSM pools' stack, packaged beside the main one. */
  pools: { functions: BundledFunction[]; templateFile: string; stackDir: string };
}

/** Files the generated config is derived from; infra/generated.cjs refuses a config older than them. */
const SOURCES = [
  'lib/http/routes.ts',
  'infra/permissions.ts',
  'infra/serverless-config.ts',
  'infra/event-functions.ts',
  'infra/rotation-function.ts',
  'lib/audit/log-stream.ts',
  'lib/runtime/environment.ts',
];
/** The pools' stack is generated from these too. */
const POOL_SOURCES = [...SOURCES, 'infra/pool-stack.ts'];

export async function packageStack(options: PackageOptions): Promise<PackageResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const out = resolve(projectRoot, options.out);
  await assertBuildDirectory(out);
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });

  let started = Date.now();
  const functions = await bundleFunctions(routes, out, options.rotator ? [...eventFunctions, rotatePostgresPassword] : eventFunctions);
  log(`bundled ${functions.length} functions in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  warnOverBudget(functions, log);

  const config = generateConfig(routes, { artifactFor: (key) => join(out, 'artifacts', `${key}.zip`), rotator: options.rotator ?? false });
  // What the pools' stack imports of this one (infra/pool-stack.ts): outputs only, no resource.
  Object.assign(config.resources.Outputs, mainStackExports());
  await writeGeneratedConfig(out, SOURCES, config);

  started = Date.now();
  const stackDir = join(out, 'stack');
  const params = (options.params ?? []).flatMap((param) => ['--param', param]);
  await runServerless(['package', '--stage', options.stage, '--region', options.region, '--package', stackDir, ...params], out, log);
  await finishTemplate(stackDir);
  log(`serverless package done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${relative(projectRoot, stackDir)}/`);

  const pools = await packagePoolStack(join(out, 'pools'), options, params, log);
  return { functions, templateFile: join(stackDir, 'cloudformation-template-update-stack.json'), stackDir, pools };
}

/**
 * The managed HSM pools' stack (infra/pool-stack.ts): its functions bundled with the native addons
 * they import, its generated config, and `serverless package` of infra/pools/serverless.yml.
 */
async function packagePoolStack(
  out: string,
  options: PackageOptions,
  params: string[],
  log: (line: string) => void,
): Promise<PackageResult['pools']> {
  let started = Date.now();
  // Its own API's `$default` function and the sweep of deleted pools beside the operations': the main stack's are the main API's and the vaults'.
  const functions = await bundleFunctions(poolStackRoutes, out, [poolUnmatchedRequests, poolSweep], { unmatched: false, nativeAddons: true });
  log(`bundled ${functions.length} pool functions in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  warnOverBudget(functions, log);
  const config = generatePoolStackConfig({ artifactFor: (key) => join(out, 'artifacts', `${key}.zip`), cloudHsm: options.cloudHsm ?? false });
  await writeGeneratedConfig(out, POOL_SOURCES, config);

  started = Date.now();
  const stackDir = join(out, 'stack');
  await runServerless(
    ['package', '--stage', options.stage, '--region', options.region, '--package', stackDir, ...params],
    out,
    log,
    join(projectRoot, 'infra', 'pools'),
  );
  // The invoke role API Gateway assumes is this stack's, for the main stack's API and the pools' own.
  await finishTemplate(stackDir, (resources) => finishPoolTemplate(resources, options.stage));
  log(`serverless package of the pools' stack done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${relative(projectRoot, stackDir)}/`);
  return { functions, templateFile: join(stackDir, 'cloudformation-template-update-stack.json'), stackDir };
}

/** Each function over its own budget (`bundleBudgetOf`: the certificate-issuing functions have theirs), with its size and that budget. */
function warnOverBudget(functions: readonly BundledFunction[], log: (line: string) => void): void {
  const overBudget = functions.filter((f) => f.bundleBytes > bundleBudgetOf(f.handler));
  if (overBudget.length > 0) {
    log(`warning: over the bundle budget: ${overBudget.map((f) => `${f.key} (${f.bundleBytes} of ${bundleBudgetOf(f.handler)} bytes)`).join(', ')}`);
  }
}

/** `<out>/config/generated.json`, with the digests of the files it was generated from (infra/generated.cjs checks them). */
async function writeGeneratedConfig(out: string, sourceFiles: readonly string[], config: unknown): Promise<void> {
  const sources: Record<string, string> = {};
  for (const source of sourceFiles)
    sources[source] = createHash('sha256')
      .update(await readFile(join(projectRoot, source)))
      .digest('hex');
  await mkdir(join(out, 'config'), { recursive: true });
  await writeFile(join(out, 'config', 'generated.json'), `${JSON.stringify({ sources, config }, null, 2)}\n`);
}

/**
 * The compiled template, finished (infra/serverless-config.ts `apiInvokeRole`), in both places
 * `serverless deploy --package` reads it: the template file it uploads and the state it restores.
 */
type TemplateResources = Parameters<typeof apiInvokeRole>[0];

async function finishTemplate(stackDir: string, then: (resources: TemplateResources) => TemplateResources = (r) => r): Promise<void> {
  const templateFile = join(stackDir, 'cloudformation-template-update-stack.json');
  const stateFile = join(stackDir, 'serverless-state.json');
  const template = JSON.parse(await readFile(templateFile, 'utf8'));
  const state = JSON.parse(await readFile(stateFile, 'utf8'));
  const invoked = Object.values(template.Resources as TemplateResources).some(
    (r) => r.Type === 'AWS::Lambda::Permission' && r.Properties?.Principal === 'apigateway.amazonaws.com',
  );
  // A pools' stack with no management row has no route, so no invoke permission to replace.
  template.Resources = then(invoked ? apiInvokeRole(template.Resources) : template.Resources);
  state.service.provider.compiledCloudFormationTemplate = template;
  await writeFile(templateFile, JSON.stringify(template, null, 2));
  await writeFile(stateFile, JSON.stringify(state, null, 2));
}

const BUILD_ENTRIES = new Set(['bundles', 'artifacts', 'config', 'stack', 'measure', 'pools']);

/** The output directory is emptied first: refuse one that holds anything but an earlier build. */
async function assertBuildDirectory(out: string): Promise<void> {
  if (out === projectRoot || projectRoot.startsWith(out + sep)) throw new Error(`--out ${out} would contain the project`);
  const entries = await readdir(out).catch(() => [] as string[]);
  const foreign = entries.filter((entry) => !BUILD_ENTRIES.has(entry));
  if (foreign.length > 0) throw new Error(`--out ${out} holds other files (${foreign.slice(0, 3).join(', ')}): choose an empty directory`);
}

/**
 * The Serverless CLI (osls) with fake credentials, its update and telemetry checks off, and the
 * offline guard loaded: packaging reads no AWS account and reaches no network.
 */
async function runServerless(args: string[], buildDir: string, log: (line: string) => void, serviceDir = projectRoot): Promise<void> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'offline-packaging',
    AWS_SECRET_ACCESS_KEY: 'offline-packaging',
    AWS_EC2_METADATA_DISABLED: 'true',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    SLS_INTERACTIVE_SETUP_DISABLE: '1',
    COFFER_BUILD_DIR: buildDir,
  };
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'])
    delete env[name];
  const cli = join(projectRoot, 'node_modules', 'serverless', 'bin', 'serverless.js');
  const guard = pathToFileURL(join(projectRoot, 'scripts', 'offline-guard.mjs')).href;
  const output: string[] = [];
  const code = await new Promise<number | null>((resolveExit, reject) => {
    const child = spawn(process.execPath, ['--import', guard, cli, ...args], { cwd: serviceDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('error', reject);
    child.once('exit', resolveExit);
  });
  const text = output.join('').trim();
  if (code !== 0) throw new Error(`serverless ${args.join(' ')} failed (exit ${code}):\n${text}`);
  if (text) log(text);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      stage: { type: 'string', default: 'dev' },
      region: { type: 'string', default: 'us-east-1' },
      out: { type: 'string', default: 'dist' },
      param: { type: 'string', multiple: true, default: [] },
      rotator: { type: 'boolean', default: false },
      cloudhsm: { type: 'boolean', default: false },
    },
  });
  packageStack({
    stage: values.stage,
    region: values.region,
    out: values.out,
    params: values.param,
    rotator: values.rotator,
    cloudHsm: values.cloudhsm,
  }).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
