import { managementOperation } from '#lib/runtime/management';
import { operationStatusBody } from '#lib/vaults/operations-wire';

export const handler = managementOperation('GetVaultOperationResult', {}, async ({ subscriptionId, location, operationId, services }) => {
  return { body: operationStatusBody(await services.vaultOperations.result(subscriptionId ?? '', location ?? '', operationId ?? '')) };
});
