import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../scripts/bundle.ts';
import type { Template } from './template.ts';

export const runFile = promisify(execFile);

export interface PackagedStack {
  /** `--out`: the template under `stack/`, the artifacts and bundles beside it. */
  out: string;
  template: Template;
  remove(): Promise<void>;
}

/**
 * `npm run package`'s script as a deployment runs it, into a temporary directory: offline, and with
 * none of the machine's AWS or Coffer settings, which packaging must not need (nor pick up: a test
 * runner's COFFER_* would otherwise reach the functions' environment).
 */
export async function packageStack(name: string, stage = 'test'): Promise<PackagedStack> {
  const out = await mkdtemp(join(tmpdir(), `coffer-package-${name}-`));
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_') || key.startsWith('COFFER_')) delete env[key];
  await runFile(process.execPath, ['--import', 'tsx', 'scripts/package.ts', '--stage', stage, '--region', 'eu-west-1', '--out', out], {
    cwd: projectRoot,
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  const template = JSON.parse(await readFile(join(out, 'stack', 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  return { out, template, remove: () => rm(out, { recursive: true, force: true }) };
}
