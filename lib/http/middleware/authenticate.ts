import { header, type Middleware } from '../request.ts';
import type { PipelineServices } from '../services.ts';

/**
 * The Bearer token, verified against the vault tenant's trusted issuers. It runs before anything looks
 * at the api-version or the body: SDK clients send their first request without a token and need the
 * 401 challenge to start.
 */
export function authenticate(services: () => PipelineServices): Middleware {
  return {
    before: async (request) => {
      const state = request.context.coffer;
      state.principal = await services().authenticator.authenticate(header(request.event, 'authorization'), state.vault!.tenantId);
    },
  };
}
