import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('DeleteKey', {}, async ({ at, name, services }) => ({ body: await services.keys.delete(at, name) }));
