import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../lib/http/routes.ts';
import { resourcesOfType, type Template } from './template.ts';
import { type PackagedStack, packageStack } from './packaging.ts';

/**
 * The time shift is the local stack's alone (dev/time-shift.ts): the packaged stack, as `npm run
 * package` makes it offline, gives no function an offsets file, so every deployed clock is real
 * time, and has no `/_coffer` route nor any code that answers one.
 */
let out: string;
let template: Template;

let packaged: PackagedStack | undefined;

beforeAll(async () => {
  packaged = await packageStack('time');
  ({ out, template } = packaged);
}, 180_000);

afterAll(async () => {
  await packaged?.remove();
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
