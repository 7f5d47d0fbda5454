import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('DeleteSecret', {}, async ({ at, name, services }) => ({ body: await services.secrets.delete(at, name) }));
