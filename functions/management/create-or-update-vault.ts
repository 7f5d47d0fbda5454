import { managementOperation } from '#lib/runtime/management';
import { vaultCreateBody } from '#lib/vaults/schemas';
import { vaultResource } from '#lib/vaults/wire';

export const handler = managementOperation(
  'CreateOrUpdateVault',
  { body: vaultCreateBody, bodyRequired: true },
  async ({ subscriptionId, resourceGroupName, vaultName, body, services, startedAt }) => {
    const { vault, created } = await services.vaults.createOrUpdate(subscriptionId ?? '', resourceGroupName ?? '', vaultName ?? '', body, {
      requestStartedAt: startedAt,
    });
    return { status: created ? 201 : 200, body: vaultResource(vault) };
  },
);
