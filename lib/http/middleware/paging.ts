import { listingOf, pageRequest } from '../listing.ts';
import type { Middleware } from '../request.ts';
import type { PipelineServices } from '../services.ts';

/** A paged route's `maxresults` and `$skiptoken`, the token opened with the vault's paging key. */
export function paging(services: () => PipelineServices): Middleware {
  return {
    before: async (request) => {
      const state = request.context.coffer;
      if (!state.route.paged) return;
      const listing = listingOf(state.route, request.event.pathParameters ?? {});
      state.paging = await pageRequest(request.event.queryStringParameters ?? {}, listing, () => services().vaults.pagingKey(state.vault!));
    },
  };
}
