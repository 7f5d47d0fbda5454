import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('BackupKey', {}, async ({ at, params, services }) => ({
  body: await services.keys.backup(at, params.name!),
  objectId: `${at.baseUrl}/keys/${params.name}`,
}));
