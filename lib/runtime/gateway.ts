import { LambdaClient } from '../aws/api/lambda.ts';
import { unmatchedRequests } from '../http/middleware/unmatched.ts';
import type { Route } from '../http/routes.ts';
import { config } from './config.ts';
import { pipelineServices } from './services.ts';

/**
 * The composition root of the function behind API Gateway's `$default` route
 * (lib/http/middleware/unmatched.ts): the shared pipeline services for its audited refusals, and
 * Lambda to hand what the route table matches to the operation's own function, which serverless
 * names `<stack>-<operation>` (infra/serverless-config.ts `functionKey`; the stack's name is the
 * deployment's, COFFER_DEPLOYMENT).
 */
let lambda: LambdaClient | undefined;

function operationFunction(route: Route): string {
  const deployment = config().deployment;
  if (!deployment) throw new Error('COFFER_DEPLOYMENT is not set: the operations cannot be named');
  return `${deployment}-${route.operation}`;
}

export const routeUnmatchedRequests = unmatchedRequests({
  services: pipelineServices,
  managementHost: () => new URL(config().managementAudience).host,
  forward: async (route, event) => {
    lambda ??= new LambdaClient({ region: config().region });
    return lambda.invoke(operationFunction(route), event);
  },
});
