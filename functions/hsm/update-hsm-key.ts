import { updateKeyBody } from '#lib/keys/schemas';
import { keyBundle } from '#lib/keys/wire';
import { hsmKeyOperation } from '#lib/runtime/hsm-keys';

export const handler = hsmKeyOperation('UpdateHsmKey', { body: updateKeyBody }, async ({ at, name, version, body, keys }) => ({
  body: keyBundle(at, await keys.update(at, name, version, body)),
}));
