import { keysOperation } from '#lib/runtime/keys';

export const handler = keysOperation('PurgeDeletedKey', {}, async ({ at, name, services }) => {
  await services.keys.purge(at, name);
  return { status: 204 };
});
