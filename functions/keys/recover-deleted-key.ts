import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('RecoverDeletedKey', {}, async ({ at, name, services }) => ({ body: await services.keys.recover(at, name) }));
