import { routeUnmatchedRequests } from '#lib/runtime/gateway';

/** API Gateway's `$default` route: what no route key matched, routed by the route table or refused and audited (lib/http/middleware/unmatched.ts). */
export const handler = routeUnmatchedRequests;
