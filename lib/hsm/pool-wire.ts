import { normalizeLocation } from '../vaults/arm-resource.ts';
import { MANAGED_HSM_SKUS, type ManagedHsmPool, poolResourceId } from './pools.ts';

const PROVISIONED_MESSAGE = 'The Managed HSM is provisioned and ready to use.';

/** The management API's shape of a pool (`ManagedHsm`), as `@azure/arm-keyvault` deserializes it. */
export function poolResource(pool: ManagedHsmPool) {
  return {
    id: poolResourceId(pool),
    name: pool.name,
    type: 'Microsoft.KeyVault/managedHSMs',
    location: pool.location,
    tags: pool.tags,
    sku: { family: MANAGED_HSM_SKUS[pool.sku], name: pool.sku },
    systemData: {
      createdAt: new Date(pool.created * 1000).toISOString(),
      lastModifiedAt: new Date((pool.updated ?? pool.created) * 1000).toISOString(),
    },
    properties: {
      tenantId: pool.tenantId,
      initialAdminObjectIds: pool.initialAdminObjectIds,
      hsmUri: pool.hsmUri,
      enableSoftDelete: true,
      softDeleteRetentionInDays: pool.softDeleteRetentionDays,
      enablePurgeProtection: pool.purgeProtection,
      publicNetworkAccess: pool.publicNetworkAccess,
      // The work of creating a pool is done within the request: a PUT answers it provisioned, so
      // arm-keyvault's poller finishes on the PUT's own answer.
      provisioningState: 'Succeeded',
      statusMessage: PROVISIONED_MESSAGE,
      securityDomainProperties: { activationStatus: pool.activation.status, activationStatusMessage: pool.activation.message },
    },
  };
}

export function deletedPoolResource(pool: ManagedHsmPool) {
  const location = normalizeLocation(pool.location);
  return {
    id: `/subscriptions/${pool.subscriptionId}/providers/Microsoft.KeyVault/locations/${location}/deletedManagedHSMs/${pool.name}`,
    name: pool.name,
    type: 'Microsoft.KeyVault/deletedManagedHSMs',
    properties: {
      mhsmId: poolResourceId(pool),
      location,
      deletionDate: pool.deleted?.deletionDate,
      scheduledPurgeDate: pool.deleted?.scheduledPurgeDate,
      purgeProtectionEnabled: pool.purgeProtection,
      tags: pool.tags,
    },
  };
}
