import { parsePathParameters } from '../path-parameters.ts';
import type { Middleware } from '../request.ts';

/** The path parameters, validated by the route's schema: the handler gets them typed. */
export function pathParameters(): Middleware {
  return {
    before: (request) => {
      const state = request.context.coffer;
      state.params = state.route.params ? parsePathParameters(state.route.params, request.event.pathParameters ?? {}) : {};
    },
  };
}
