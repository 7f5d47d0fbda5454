import { defineOperation } from '#lib/http/operation';
import { secretBundle } from '#lib/secrets/wire';

export const handler = defineOperation('GetSecret', {}, async ({ at, name, version, services }) => ({
  body: secretBundle(at, await services.secrets.get(at, name, version)),
}));
