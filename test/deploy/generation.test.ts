import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { type Route, routes } from '../../lib/http/routes.ts';
import { AUDIT_LOG_FILTER_PATTERN } from '../../lib/audit/log-stream.ts';
import { auditDelivery, eventFunctions } from '../../infra/event-functions.ts';
import { eventPermissions, permissions, permissionsFor } from '../../infra/permissions.ts';
import { apiPaths, assertNoConflicts, generateConfig } from '../../infra/serverless-config.ts';
import { bundleFunctions, projectRoot } from '../../scripts/bundle.ts';

/** The generation step on its own, without packaging: fast checks of the rules it applies. */
const route = (overrides: Partial<Route>): Route => ({
  operation: 'Example',
  method: 'GET',
  path: '/things/{name}',
  handler: 'things/get',
  plane: 'data',
  permission: 'things/read',
  scope: 'vault',
  audit: 'ThingGet',
  ...overrides,
});

describe('permissions map', () => {
  it('has an entry for every operation of the route table, and none for operations it does not have', () => {
    for (const r of routes) expect(() => permissionsFor(r.operation), r.operation).not.toThrow();
    expect(Object.keys(permissions).sort()).toEqual(routes.map((r) => r.operation).sort());
  });

  it('refuses to generate a function for an operation without permissions', () => {
    expect(() => generateConfig([route({ operation: 'NewOperation' })], { artifactFor: () => 'x.zip' })).toThrow(
      /no entry for operation NewOperation/,
    );
  });

  it('gives every operation the baseline: its vault record and its audit record', () => {
    for (const r of routes) {
      const grants = permissionsFor(r.operation);
      expect(grants.objects).toContain('GetItem');
      expect(grants.audit).toEqual(['PutItem']);
    }
  });
});

describe('route keys', () => {
  it('keeps an ordinary route as it is', () => {
    expect(apiPaths(route({}))).toEqual(['/things/{name}']);
  });

  it('adds the tail-less key and makes the tail greedy for an optional-tail route', () => {
    expect(apiPaths(route({ path: '/things/{name}/{version}', optionalTail: true }))).toEqual(['/things/{name}', '/things/{name}/{version+}']);
  });

  it('adds the version-less key for an optional-version route', () => {
    expect(apiPaths(route({ path: '/things/{name}/{version}/release', optionalVersion: true }))).toEqual([
      '/things/{name}/{version}/release',
      '/things/{name}/release',
    ]);
    expect(() => apiPaths(route({ path: '/things/{name}/release', optionalVersion: true }))).toThrow(/optionalVersion/);
  });

  it('rejects an optional tail that is not a parameter', () => {
    expect(() => apiPaths(route({ path: '/things/{name}/sign', optionalTail: true }))).toThrow(/optionalTail/);
  });

  it('rejects routes API Gateway would not tell apart, whatever their parameter names', () => {
    expect(() => assertNoConflicts([route({}), route({ operation: 'Other', path: '/things/{id}' })])).toThrow(/conflicts/);
    // The tail-less key of an optional-tail route counts too.
    expect(() =>
      assertNoConflicts([route({ path: '/things/{name}/{version}', optionalTail: true }), route({ operation: 'Other', path: '/things/{id}' })]),
    ).toThrow(/conflicts/);
    expect(() => assertNoConflicts(routes)).not.toThrow();
  });

  it('shares one role between operations with identical permissions and no more', () => {
    const { functions, resources } = generateConfig(routes, { artifactFor: (key) => `${key}.zip` });
    // The functions no route reaches have roles of their own (checked below).
    const eventRoles = new Set(eventFunctions.map((fn) => functions[fn.key]!.role));
    const roles = Object.keys(resources.Resources).filter((id) => id.endsWith('Role') && !eventRoles.has(id));
    const distinct = new Set(routes.map((r) => JSON.stringify(permissionsFor(r.operation))));
    expect(roles).toHaveLength(distinct.size);
    for (const r of routes) {
      const sameGrants = routes.filter((o) => JSON.stringify(permissionsFor(o.operation)) === JSON.stringify(permissionsFor(r.operation)));
      expect(new Set(sameGrants.map((o) => functions[o.operation]!.role)).size).toBe(1);
    }
  });
});

describe('functions no route reaches', () => {
  it('each have a role of their own, with what infra/permissions.ts grants them', () => {
    const { functions, resources } = generateConfig(routes, { artifactFor: (key) => `${key}.zip` });
    const routeRoles = new Set(routes.map((r) => functions[r.operation]!.role));
    for (const fn of eventFunctions) {
      const role = functions[fn.key]!.role;
      expect(routeRoles.has(role), fn.key).toBe(false);
      expect(resources.Resources[role], fn.key).toMatchObject({ Type: 'AWS::IAM::Role' });
      expect(Object.keys(eventPermissions), fn.key).toContain(fn.key);
    }
  });

  it("subscribes the audit delivery to every operation's log group, and to no other", () => {
    const { resources } = generateConfig(routes, { artifactFor: (key) => `${key}.zip` });
    const filters = Object.values(resources.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>).filter(
      (r) => r.Type === 'AWS::Logs::SubscriptionFilter',
    );
    expect(filters.map((f) => (f.Properties.LogGroupName as { Ref: string }).Ref).sort()).toEqual(routes.map((r) => `${r.operation}LogGroup`).sort());
    for (const filter of filters) {
      expect(filter.Properties.FilterPattern).toBe(AUDIT_LOG_FILTER_PATTERN);
      expect(filter.Properties.DestinationArn).toEqual({ 'Fn::GetAtt': [`${auditDelivery.key}LambdaFunction`, 'Arn'] });
    }
  });
});

describe('packaging a route whose handler is missing', () => {
  it('fails and names the missing handler instead of skipping the route', async () => {
    const out = await mkdtemp(join(tmpdir(), 'coffer-bundle-'));
    try {
      await expect(bundleFunctions([route({ operation: 'GetThing', handler: 'things/get' })], out)).rejects.toThrow(
        'GetThing (GET /things/{name}): handler functions/things/get.ts does not exist',
      );
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe('offline guard', () => {
  it('stops the packaging CLI from opening a connection to anything but loopback', async () => {
    const probe =
      "import net from 'node:net'; try { net.connect(443, 'aws.amazon.com'); console.log('connected') } catch (e) { console.log(e.message) }";
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', './scripts/offline-guard.mjs', '--input-type=module', '-e', probe], {
      cwd: projectRoot,
    });
    expect(stdout).toContain('offline packaging: refused a connection to aws.amazon.com');
  });
});
