import { defineOperation } from '#lib/http/operation';

export const handler = defineOperation('RotateKey', {}, async ({ at, name, services }) => ({ body: await services.keys.rotate(at, name) }));
