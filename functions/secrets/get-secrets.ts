import { defineOperation } from '#lib/http/operation';
import { listPage } from '#lib/http/listing';

export const handler = defineOperation('GetSecrets', {}, async (input) => ({
  body: await listPage(input, { path: '/secrets', name: 'secrets' }, (limit, cursor) => input.services.secrets.list(input.at, limit, cursor)),
}));
