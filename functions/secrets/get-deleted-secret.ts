import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetDeletedSecret', {}, async ({ at, name, services }) => ({
  body: await services.secrets.getDeleted(at, name),
}));
