import { poolNameCheckBody } from '#lib/hsm/pool-schemas';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation(
  'CheckManagedHsmNameAvailability',
  { body: poolNameCheckBody, bodyRequired: true },
  async ({ body, services }) => ({
    body: await services.pools.checkName(body.name),
  }),
);
