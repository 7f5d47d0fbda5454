import { secretsOperation } from '#lib/runtime/secrets';
import { secretBundle } from '#lib/secrets/wire';

export const handler = secretsOperation('RecoverDeletedSecret', {}, async ({ at, name, services }) => ({
  body: secretBundle(at, await services.secrets.recover(at, name)),
}));
