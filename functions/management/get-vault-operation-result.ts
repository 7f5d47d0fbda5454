import { VaultError } from '#lib/core/errors';
import { managementOperation } from '#lib/runtime/management';

/**
 * Every vault operation finishes before its answer and none hands out an operation id to poll
 * (lib/vaults/manage.ts), so there is no operation result to answer.
 */
export const handler = managementOperation('GetVaultOperationResult', {}, async ({ operationId }) => {
  throw new VaultError(404, 'OperationNotFound', `The operation '${operationId ?? ''}' was not found.`);
});
