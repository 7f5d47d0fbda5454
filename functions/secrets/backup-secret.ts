import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('BackupSecret', {}, async ({ at, params, services }) => ({
  body: await services.secrets.backup(at, params.name!),
  objectId: `${at.baseUrl}/secrets/${params.name}`,
}));
