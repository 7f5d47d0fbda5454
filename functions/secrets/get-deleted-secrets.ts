import { defineOperation } from '#lib/http/operation';
import { listPage } from '#lib/http/listing';

export const handler = defineOperation('GetDeletedSecrets', {}, async (input) => ({
  body: await listPage(input, { path: '/deletedsecrets', name: 'deletedsecrets' }, (limit, cursor) =>
    input.services.secrets.listDeleted(input.at, limit, cursor),
  ),
}));
