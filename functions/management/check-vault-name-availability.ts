import { managementOperation } from '#lib/runtime/management';
import { checkNameBody } from '#lib/vaults/schemas';

export const handler = managementOperation('CheckVaultNameAvailability', { body: checkNameBody, bodyRequired: true }, async ({ body, services }) => ({
  body: await services.vaults.checkName(body.name),
}));
