import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../lib/http/routes.ts';
import { projectRoot } from '../../scripts/bundle.ts';
import { resourcesOfType, type Template } from './template.ts';

/**
 * The time shift is the local stack's alone (dev/time-shift.ts): the packaged stack, as `npm run
 * package` makes it offline, gives no function an offsets file, so every deployed clock is real
 * time, and has no `/_coffer` route nor any code that answers one.
 */
const run = promisify(execFile);
let out: string;
let template: Template;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'coffer-package-time-'));
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('AWS_') || name.startsWith('COFFER_')) delete env[name];
  await run(process.execPath, ['--import', 'tsx', 'scripts/package.ts', '--stage', 'test', '--region', 'eu-west-1', '--out', out], {
    cwd: projectRoot,
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  template = JSON.parse(await readFile(join(out, 'stack', 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
}, 180_000);

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

describe('the packaged stack has no time shift', () => {
  it('gives no function an offsets file: the setting is empty, which config.ts reads as none', () => {
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(routes.length);
    for (const [id, fn] of functions) {
      const variables = (fn.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
      expect(variables.COFFER_CLOCK_OFFSETS_FILE ?? '', id).toBe('');
      expect(JSON.stringify(variables), id).not.toMatch(/clock-offsets|_coffer/i);
    }
  });

  it('has no /_coffer route in the API, nor in the route table it is made from', () => {
    const keys = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => String(r.Properties!.RouteKey));
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.split(' ')[1] ?? key, key).not.toMatch(/^\/_coffer(\/|$)/i);
    for (const route of routes) expect(route.path).not.toMatch(/^\/_coffer(\/|$)/i);
  });

  it('deploys no code that answers /_coffer: no function bundle carries the time shift', async () => {
    const artifacts = (await readdir(join(out, 'artifacts'))).filter((name) => name.endsWith('.zip'));
    expect(artifacts.length).toBeGreaterThan(routes.length);
    for (const artifact of artifacts) {
      const files = unzipSync(new Uint8Array(await readFile(join(out, 'artifacts', artifact))));
      for (const [path, bytes] of Object.entries(files)) {
        expect(Buffer.from(bytes).includes('_coffer/time'), `${artifact}: ${path}`).toBe(false);
      }
    }
  });
});
