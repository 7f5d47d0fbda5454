import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('GetDeletedKey', {}, async ({ at, name, services }) => ({ body: await services.keys.getDeleted(at, name) }));
