import { defineOperation } from '#lib/http/operation';
import { listPage } from '#lib/http/listing';

export const handler = defineOperation('GetKeys', {}, async (input) => ({
  body: await listPage(input, { path: '/keys', name: 'keys' }, (limit, cursor) => input.services.keys.list(input.at, limit, cursor)),
}));
