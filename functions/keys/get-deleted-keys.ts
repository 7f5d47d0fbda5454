import { defineOperation } from '#lib/http/operation';
import { listPage } from '#lib/http/listing';

export const handler = defineOperation('GetDeletedKeys', {}, async (input) => ({
  body: await listPage(input, { path: '/deletedkeys', name: 'deletedkeys' }, (limit, cursor) => input.services.keys.listDeleted(input.at, limit, cursor)),
}));
