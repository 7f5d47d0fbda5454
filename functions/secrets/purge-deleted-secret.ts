import { secretsOperation } from '#lib/runtime/secrets';

export const handler = secretsOperation('PurgeDeletedSecret', {}, async ({ at, name, services }) => {
  await services.secrets.purge(at, name);
  return { status: 204 };
});
