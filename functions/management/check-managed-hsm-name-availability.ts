import { poolNameCheckBody } from '#lib/hsm/pool-schemas';
import { poolManagementOperation } from '#lib/runtime/pool-management';

export const handler = poolManagementOperation(
  'CheckManagedHsmNameAvailability',
  { body: poolNameCheckBody, bodyRequired: true },
  async ({ body, services }) => ({
    body: await services.pools.checkName(body.name),
  }),
);
