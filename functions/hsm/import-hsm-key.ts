import { importKeyBody } from '#lib/keys/schemas';
import { keyBundle } from '#lib/keys/wire';
import { hsmKeyOperation } from '#lib/runtime/hsm-keys';

export const handler = hsmKeyOperation('ImportHsmKey', { body: importKeyBody, bodyRequired: true }, async ({ at, name, body, keys }) => ({
  body: keyBundle(at, await keys.import(at, name, body)),
}));
