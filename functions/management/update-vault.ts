import { managementOperation } from '#lib/runtime/management';
import { vaultPatchBody } from '#lib/vaults/schemas';
import { vaultResource } from '#lib/vaults/wire';

export const handler = managementOperation(
  'UpdateVault',
  { body: vaultPatchBody, bodyRequired: true },
  async ({ subscriptionId, resourceGroupName, vaultName, body, services }) => ({
    body: vaultResource(await services.vaults.update(subscriptionId ?? '', resourceGroupName ?? '', vaultName ?? '', body)),
  }),
);
