import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { type Route, routes } from '../../lib/http/routes.ts';
import { AUDIT_LOG_FILTER_PATTERN } from '../../lib/audit/log-stream.ts';
import { auditDelivery, eventFunctions } from '../../infra/event-functions.ts';
import { CONTROL_PLANE_PARTITIONS, eventPermissions, OBJECTS_READ_ACTIONS, permissions, permissionsFor } from '../../infra/permissions.ts';
import { apiPaths, assertNoConflicts, generateConfig, OPERATIONS_LOG_GROUP, unmatchedRequests } from '../../infra/serverless-config.ts';
import { bundleFunctions, projectRoot } from '../../scripts/bundle.ts';
import {
  certificateDocumentPartition,
  deletedPartition,
  endpointKey,
  headPartition,
  resourceGroupKey,
  subscriptionVaultsPartition,
  vaultKey,
  versionPartition,
} from '../../lib/aws/dynamo/layout.ts';

/** The generation step on its own, without packaging: fast checks of the rules it applies. */
/** The management operations that remove a vault's objects as well as control-plane records. */
const PURGES = ['PurgeDeletedVault'];
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

  it("gives every operation its plane's baseline: the vault record, the caller's role assignments, a strict vault's audit record", () => {
    for (const r of routes) {
      const grants = permissionsFor(r.operation);
      if (r.plane !== 'management') {
        expect(grants.objects, r.operation).toEqual(expect.arrayContaining(['GetItem', 'Query']));
        expect(grants.audit, r.operation).toContain('PutItem');
      } else {
        expect(grants.objects, r.operation).toContain('Query');
      }
    }
    // A management path that names a live vault reads its record and may write its strict audit record.
    for (const operation of ['GetVault', 'UpdateVault', 'CreateRoleAssignment']) {
      expect(permissionsFor(operation).objects).toContain('GetItem');
      expect(permissionsFor(operation).audit).toContain('PutItem');
    }
    expect(permissionsFor('ListSubscriptions')).toMatchObject({ objects: ['Query'], audit: [] });
  });

  it('lets management operations write control-plane records (a purge vault objects too), and data-plane operations anything else', () => {
    for (const r of routes) {
      const expected = r.plane !== 'management' ? 'vaultObjects' : PURGES.includes(r.operation) ? 'both' : 'controlPlane';
      expect(permissionsFor(r.operation).writes, r.operation).toBe(expected);
    }
    expect(routes.some((r) => r.plane === 'management')).toBe(true);
  });
});

describe('roles', () => {
  type Statement = { Sid?: string; Effect: string; Action: string | string[]; Condition?: Record<string, Record<string, unknown>> };
  let generated: ReturnType<typeof generateConfig> | undefined;
  const statementsOf = (operation: string) => {
    generated ??= generateConfig(routes, { artifactFor: (key) => `${key}.zip` });
    const { functions, resources } = generated;
    const role = resources.Resources[functions[operation]!.role] as { Properties: { Policies: { PolicyDocument: { Statement: Statement[] } }[] } };
    return role.Properties.Policies[0]!.PolicyDocument.Statement;
  };
  const actions = (statement: Statement | undefined) => [statement?.Action ?? []].flat().sort();
  const writesOf = (operation: string) =>
    permissionsFor(operation)
      .objects.filter((a) => !OBJECTS_READ_ACTIONS.includes(a))
      .map((a) => `dynamodb:${a}`)
      .sort();

  it('deny data-plane functions every write to control-plane records', () => {
    for (const r of routes.filter((o) => o.plane !== 'management' && writesOf(o.operation).length > 0)) {
      const deny = statementsOf(r.operation).find((s) => s.Sid === 'NoControlPlaneWrites');
      expect(deny?.Effect, r.operation).toBe('Deny');
      expect(actions(deny), r.operation).toEqual(writesOf(r.operation));
      expect(deny?.Condition).toEqual({ 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [...CONTROL_PLANE_PARTITIONS] } });
    }
  });

  it('let management functions write to control-plane records and nowhere else', () => {
    const writers = routes.filter((o) => o.plane === 'management' && !PURGES.includes(o.operation) && writesOf(o.operation).length > 0);
    expect(writers.length).toBeGreaterThan(0);
    for (const r of writers) {
      const statements = statementsOf(r.operation);
      const control = statements.find((s) => s.Sid === 'ControlPlaneRecords');
      expect(control?.Effect, r.operation).toBe('Allow');
      expect(actions(control), r.operation).toEqual(writesOf(r.operation));
      expect(control?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...CONTROL_PLANE_PARTITIONS] } });
      // Their unconditional grant on the table only reads.
      const objects = statements.find((s) => s.Sid === 'VaultObjects');
      expect(
        actions(objects).every((a) => OBJECTS_READ_ACTIONS.includes(a.replace('dynamodb:', '') as never)),
        r.operation,
      ).toBe(true);
      expect(statements.some((s) => s.Sid === 'NoControlPlaneWrites')).toBe(false);
    }
  });

  it('cover the control-plane partitions of the layout, and no partition of a vault object', () => {
    const covered = (partition: string) => CONTROL_PLANE_PARTITIONS.some((p) => partition.startsWith(p.slice(0, -1)));
    const subscription = '8f0c2d6e-3b6f-4f57-9a52-3c1d2b8d1e11';
    for (const partition of [
      vaultKey('payments').pk,
      resourceGroupKey(subscription, 'Payments-RG').pk,
      subscriptionVaultsPartition(subscription),
      endpointKey('localhost:8448').pk,
    ]) {
      expect(covered(partition), partition).toBe(true);
    }
    // Vault names are stored lowercase, and the prefixes are upper case: even a vault called "vault" is not covered.
    for (const vault of ['payments', 'vault', 'sub', 'host', 'rascope']) {
      for (const collection of ['secrets', 'keys', 'certificates'] as const) {
        for (const partition of [headPartition(vault, collection), deletedPartition(vault, collection), versionPartition(vault, collection, 'x')]) {
          expect(covered(partition), partition).toBe(false);
        }
      }
      // The certificate documents (contacts, issuers, operations) are a vault's objects too: data-plane writes.
      for (const kind of ['contacts', 'issuers', 'operations'] as const) {
        expect(covered(certificateDocumentPartition(vault, kind)), kind).toBe(false);
      }
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

  it('writes a {scope*} route out for each scope a role assignment is made at', () => {
    expect(apiPaths(route({ path: '/{scope*}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}' }))).toEqual([
      '/subscriptions/{subscriptionId}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}',
      '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}',
      '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}',
      '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/{objectCollection}/{objectName}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}',
    ]);
    // No route key API Gateway would refuse: a greedy variable only at the end.
    for (const r of routes) for (const path of apiPaths(r)) expect(path, r.operation).not.toMatch(/\{[^}]*\*\}|\+\}./);
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
    const eventRoles = new Set([...eventFunctions, unmatchedRequests].map((fn) => functions[fn.key]!.role));
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

  it("subscribes the audit delivery to the operations' log group, the one every operation logs to, and to no other", () => {
    const { resources } = generateConfig(routes, { artifactFor: (key) => `${key}.zip` });
    const filters = Object.values(resources.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>).filter(
      (r) => r.Type === 'AWS::Logs::SubscriptionFilter',
    );
    expect(filters.map((f) => (f.Properties.LogGroupName as { Ref: string }).Ref)).toEqual([OPERATIONS_LOG_GROUP]);
    const { functions } = generateConfig(routes, { artifactFor: (key) => `${key}.zip` });
    for (const r of routes) {
      expect(functions[r.operation]!.disableLogs, r.operation).toBe(true);
      expect(resources.extensions[`${r.operation}LambdaFunction`], r.operation).toEqual({
        Properties: {
          LoggingConfig: { LogGroup: { Ref: OPERATIONS_LOG_GROUP }, LogFormat: 'JSON', SystemLogLevel: 'WARN', ApplicationLogLevel: 'INFO' },
        },
      });
    }
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
