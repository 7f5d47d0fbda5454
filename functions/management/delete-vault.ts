import { managementOperation } from '#lib/runtime/management';

/** ARM answers 200 when it deleted the vault and 204 when there was none. */
export const handler = managementOperation('DeleteVault', {}, async ({ subscriptionId, resourceGroupName, vaultName, services }) => ({
  status: (await services.vaults.delete(subscriptionId ?? '', resourceGroupName ?? '', vaultName ?? '')) ? 200 : 204,
}));
