import { managementOperation } from '#lib/runtime/management';
import { deletedVaultResource } from '#lib/vaults/wire';

export const handler = managementOperation('GetDeletedVault', {}, async ({ subscriptionId, location, vaultName, services }) => ({
  body: deletedVaultResource(await services.vaults.getDeleted(subscriptionId ?? '', location ?? '', vaultName ?? '')),
}));
