import { managementOperation } from '#lib/runtime/management';
import { vaultResource } from '#lib/vaults/wire';

export const handler = managementOperation('GetVault', {}, async ({ subscriptionId, resourceGroupName, vaultName, services }) => ({
  body: vaultResource(await services.vaults.get(subscriptionId ?? '', resourceGroupName ?? '', vaultName ?? '')),
}));
