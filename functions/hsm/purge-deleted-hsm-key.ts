import { hsmKeyOperation } from '#lib/runtime/hsm-keys';

export const handler = hsmKeyOperation('PurgeDeletedHsmKey', {}, async ({ at, name, keys }) => {
  await keys.purge(at, name);
  return { status: 204 };
});
