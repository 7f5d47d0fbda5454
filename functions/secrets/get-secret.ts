import { secretsOperation } from '#lib/runtime/secrets';
import { secretBundle } from '#lib/secrets/wire';

export const handler = secretsOperation('GetSecret', {}, async ({ at, name, version, services }) => ({
  body: secretBundle(at, await services.secrets.get(at, name, version)),
}));
