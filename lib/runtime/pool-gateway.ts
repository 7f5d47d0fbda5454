import { LambdaClient } from '../aws/api/lambda.ts';
import { DynamoPoolStore } from '../aws/dynamo-managed-hsm-pools.ts';
import { poolAuditPartition, PoolHost } from '../hsm/pool-host.ts';
import { poolResourceId } from '../hsm/pools.ts';
import type { RequestLocator } from '../http/middleware/context.ts';
import { unmatchedRequests } from '../http/middleware/unmatched.ts';
import { hostOf } from '../http/request.ts';
import { managedHsmDataRoutes, type Route } from '../http/routes.ts';
import { config } from './config.ts';
import { familyServices, pipelineServices } from './services.ts';

/**
 * The composition root of the function behind the pools' API's `$default` route (infra/pool-stack.ts):
 * what no route key of a pool's data plane matched, resolved against `managedHsmDataRoutes` by the
 * main API's own rule (lib/http/middleware/unmatched.ts) and handed to the pool operation's function,
 * or refused (404, 405) in Azure's error shape and audited in the pool's partition when the host
 * names a live pool. It carries the pools' record store, not their HSM: it opens no pool.
 */
const POOL_STACK_VARIABLE = 'COFFER_POOL_STACK';

const poolHost = familyServices(
  (shared) => new PoolHost(new DynamoPoolStore(shared.dynamo, shared.config.objectsTable), shared.config.vaultDomain, shared.config.vaultEndpoints),
);

/** A refusal's record goes to the pool the host names, as that pool's operations' records do; a host naming no live pool is no pool's. */
const poolOfHost: RequestLocator = async (event, _services, state) => {
  const located = await poolHost()
    .locate(hostOf(event))
    .catch(() => undefined);
  if (!located) return;
  state.tenantId = located.pool.tenantId;
  state.resourceId = poolResourceId(located.pool);
  state.auditPartition = poolAuditPartition(located.pool.name);
};

let lambda: LambdaClient | undefined;

/** Serverless names a pool function `<pools' stack>-<operation>`; the stack's name is this function's setting. */
function operationFunction(route: Route): string {
  const stack = process.env[POOL_STACK_VARIABLE];
  if (!stack) throw new Error(`${POOL_STACK_VARIABLE} is not set: the pools' operations cannot be named`);
  return `${stack}-${route.operation}`;
}

export const routePoolUnmatchedRequests = unmatchedRequests({
  services: pipelineServices,
  managementHost: () => new URL(config().managementAudience).host,
  table: managedHsmDataRoutes,
  locateRefusal: poolOfHost,
  forward: async (route, event) => {
    lambda ??= new LambdaClient({ region: config().region });
    return lambda.invoke(operationFunction(route), event);
  },
});
