import { defineOperation } from '#lib/http/operation';
import { secretBundle } from '#lib/secrets/wire';

export const handler = defineOperation('RecoverDeletedSecret', {}, async ({ at, name, services }) => ({
  body: secretBundle(at, await services.secrets.recover(at, name)),
}));
