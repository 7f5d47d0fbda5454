import { managementOperation } from '#lib/runtime/management';

/**
 * The purge finishes before the answer, so it is a 200 without operation headers: arm-keyvault's
 * poller then completes at once instead of polling an operation result.
 */
export const handler = managementOperation('PurgeDeletedVault', {}, async ({ subscriptionId, location, vaultName, services }) => {
  await services.vaults.purge(subscriptionId ?? '', location ?? '', vaultName ?? '');
  return { status: 200 };
});
