import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation('GetVaultOperationResult', {}, async ({ operationId, services }) => {
  services.vaults.operationResult(operationId ?? '');
  return {};
});
