import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { lambdaContext, lambdaEvent, type HttpRequest } from '../../../dev/lambda-event.ts';
import { AccessControl } from '../../../lib/access/access-control.ts';
import type { AccessStore, RoleAssignment } from '../../../lib/access/assignments.ts';
import { roleIds } from '../../../lib/access/roles.ts';
import { vaultScope } from '../../../lib/access/scopes.ts';
import type { AuditHandling, AuditRecord } from '../../../lib/audit/audit.ts';
import type { Principal } from '../../../lib/auth/principal.ts';
import { NotFound, Unauthorized } from '../../../lib/core/errors.ts';
import type { Event, Middleware, RequestContext, RequestState, Result } from '../../../lib/http/request.ts';
import { type OperationName, type Route, routeFor } from '../../../lib/http/routes.ts';
import type { PipelineServices } from '../../../lib/http/services.ts';
import type { Vault } from '../../../lib/vaults/vault.ts';

/**
 * Stubs of what the pipeline gets injected, and a way to run middleware around a stub handler: no
 * DynamoDB, KMS or identity provider.
 */
export const HOST = 'vault1.vault.test';
export const principal: Principal = { tenantId: 'tenant-1', objectId: 'oid-1', appId: 'app-1', issuer: 'https://issuer.test/tenant-1' };
export const GOOD_TOKEN = 'Bearer good-token';

export const SUBSCRIPTION = '00000000-0000-0000-0000-00000000000a';

export function vault(overrides: Partial<Vault> = {}): Vault {
  return {
    name: 'vault1',
    tenantId: 'tenant-1',
    subscriptionId: SUBSCRIPTION,
    resourceGroup: 'rg1',
    location: 'test-region',
    vaultUri: `https://${HOST}/`,
    enableRbacAuthorization: true,
    accessPolicies: [],
    publicNetworkAccess: 'Enabled',
    tags: {},
    revision: 1,
    kmsKeyArn: 'arn:aws:kms:local:000000000000:key/vault1',
    sku: 'standard',
    softDeleteRetentionDays: 90,
    purgeProtection: false,
    pagingKeyCiphertext: new Uint8Array(),
    created: 0,
    ...overrides,
  };
}

export interface StubServices extends PipelineServices {
  records: AuditRecord[];
  /** How each record was to be made durable, in the order of `records`. */
  handlings: AuditHandling[];
  logs: { level: 'debug' | 'error'; message: string; fields: Record<string, unknown> }[];
  calls: {
    resolve: (string | undefined)[];
    authenticate: { header: string | undefined; tenantId: string | undefined; audience: string }[];
    pagingKey: number;
  };
}

/** An assignment of `role` to the stub principal at `scope` (the stub vault by default). */
export function assignment(role: string, scope = vaultScope(vault()), principalId = principal.objectId): RoleAssignment {
  return {
    name: `${role.slice(0, 8)}-0000-0000-0000-000000000000`,
    scope,
    roleDefinitionId: `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
    principalId,
    principalType: 'ServicePrincipal',
    tenantId: 'tenant-1',
    createdOn: '2026-01-01T00:00:00Z',
    updatedOn: '2026-01-01T00:00:00Z',
    createdBy: 'test',
    updatedBy: 'test',
  };
}

/** An access store holding only `assignments`: enough for the pipeline's decisions. */
export function assignmentsStore(assignments: RoleAssignment[]): AccessStore {
  const unused = async (): Promise<never> => {
    throw new Error('not used by the pipeline');
  };
  return {
    assignmentsOf: async (tenantId, principalId) =>
      assignments.filter((a) => a.tenantId === tenantId && a.principalId.toLowerCase() === principalId.toLowerCase()),
    getRoleDefinition: async () => undefined,
    createAssignment: unused,
    getAssignment: unused,
    deleteAssignment: unused,
    assignmentsUnder: unused,
    putRoleDefinition: unused,
    deleteRoleDefinition: unused,
    roleDefinitionsIn: unused,
  };
}

export function stubServices(
  options: {
    vault?: Vault;
    auditFails?: boolean;
    assignments?: RoleAssignment[];
    tenantAdministrators?: { tenantId: string; objectId: string }[];
  } = {},
): StubServices {
  const served = options.vault ?? vault();
  const records: AuditRecord[] = [];
  const handlings: AuditHandling[] = [];
  const logs: StubServices['logs'] = [];
  const calls: StubServices['calls'] = { resolve: [], authenticate: [], pagingKey: 0 };
  return {
    records,
    handlings,
    logs,
    calls,
    region: 'test-region',
    access: new AccessControl(assignmentsStore(options.assignments ?? [assignment(roleIds.administrator)]), {
      tenantAdministrators: options.tenantAdministrators ?? [],
    }),
    subscriptions: { tenantOf: (id) => (id.toLowerCase() === SUBSCRIPTION ? 'tenant-1' : undefined) },
    vaults: {
      get: async (name) => (name.toLowerCase() === served.name ? served : undefined),
      resolve: async (host) => {
        calls.resolve.push(host);
        if (host !== HOST) throw new NotFound('VaultNotFound', 'No vault is served at this host name.');
        return served;
      },
      pagingKey: async () => {
        calls.pagingKey++;
        return new Uint8Array(32).fill(7);
      },
    },
    authenticator: {
      authenticate: async (header, tenantId, audience) => {
        calls.authenticate.push({ header, tenantId, audience });
        if (header !== GOOD_TOKEN)
          throw new Unauthorized('AKV10000: Request is missing a Bearer or PoP token.', { 'WWW-Authenticate': 'Bearer challenge' });
        return principal;
      },
    },
    audit: {
      write: async (record, handling) => {
        if (options.auditFails) throw new Error('audit table unavailable', { cause: new Error('socket hang up') });
        records.push(record);
        handlings.push(handling);
      },
    },
    logger: {
      getLevelName: () => 'DEBUG',
      debug: (message, fields) => logs.push({ level: 'debug', message, fields }),
      error: (message, fields) => logs.push({ level: 'error', message, fields }),
    },
  };
}

/** An event for `url` on the stub vault's host, with the good token unless headers say otherwise. */
export function request(method: string, url: string, extra: Partial<HttpRequest> = {}): Event {
  return lambdaEvent({ method, url: `https://${HOST}${url}`, ...extra, headers: { authorization: GOOD_TOKEN, ...extra.headers } });
}

export function context(operation = 'Test'): Context {
  return lambdaContext(operation);
}

/**
 * Runs `middleware` after a seeded request state (what the earlier middleware would have set), then a
 * stub handler that records the state it saw.
 */
export async function runMiddleware(
  middleware: Middleware[],
  event: Event,
  seed: { operation?: OperationName; route?: Route } & Partial<Omit<RequestState, 'route'>> = {},
): Promise<{ state: RequestState; response: Result }> {
  const { operation, route, ...rest } = seed;
  let seen: RequestState | undefined;
  const seedState: Middleware = {
    before: (request) => {
      request.context.coffer = { requestId: 'req-1', startedAt: Date.now(), route: route ?? routeFor(operation ?? 'GetSecret'), ...rest };
    },
  };
  let handler = middy<Event, Result, Error, RequestContext>().use(seedState);
  for (const m of middleware) handler = handler.use(m);
  const response = await handler.handler(async (_event, ctx) => {
    seen = ctx.coffer;
    return { statusCode: 200, body: '' };
  })(event, context() as RequestContext);
  return { state: seen!, response };
}
