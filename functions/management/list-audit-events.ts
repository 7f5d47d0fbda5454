import { auditEventList } from '#lib/audit/wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation(
  'ListAuditEvents',
  {},
  async ({ subscriptionId, resourceGroupName, vaultName, query, management, services }) => {
    const page = await services.auditEvents.list(
      { subscriptionId: subscriptionId ?? '', resourceGroup: resourceGroupName ?? '', name: vaultName ?? '' },
      query,
    );
    return { body: auditEventList(page, `${management.baseUrl}${management.scope}/auditEvents`) };
  },
);
