import { describeError, ServiceUnavailable } from '../../core/errors.ts';
import type { Middleware } from '../request.ts';
import type { PipelineServices } from '../services.ts';
import { auditRecord } from './respond.ts';

/**
 * Just before a change to a strict-audit vault: its audit record, marked incomplete, in the audit
 * store. If the store cannot take it the request fails with 503 and changes nothing; the final record
 * (respond.ts) replaces it, so a record left incomplete means a change whose outcome was never
 * recorded, not a silent one. Reads need no such record: a failed final hand-off withholds their answer.
 */
export function auditIntent(services: () => PipelineServices): Middleware {
  return {
    before: async (request) => {
      const state = request.context.coffer;
      if (state.vault?.strictAudit !== true || state.route.method === 'GET') return;
      const record = {
        ...auditRecord(request.event, state, 0, undefined),
        resultType: 'Failure' as const,
        resultSignature: 'Incomplete',
        resultDescription: 'The request did not finish: its outcome was not recorded.',
      };
      try {
        await services().audit.write(record, { strict: true });
      } catch (error) {
        services().logger.error('audit write failed', { requestId: state.requestId, error: describeError(error) });
        throw new ServiceUnavailable('The audit log is unavailable; the request was not completed.');
      }
    },
  };
}
