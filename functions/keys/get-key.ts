import { keysOperation } from '#lib/runtime/keys';

export const handler = keysOperation('GetKey', {}, async ({ at, name, version, services }) => ({
  body: await services.keys.get(at, name, version),
}));
