import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('RecoverDeletedSecret', {}, async ({ at, name, services }) => ({
  body: await services.secrets.recover(at, name),
}));
