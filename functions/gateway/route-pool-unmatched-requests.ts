import { routePoolUnmatchedRequests } from '#lib/runtime/pool-gateway';

/** The pools' API's `$default` route: what no pool route key matched, routed by the pools' table or refused and audited (lib/runtime/pool-gateway.ts). */
export const handler = routePoolUnmatchedRequests;
