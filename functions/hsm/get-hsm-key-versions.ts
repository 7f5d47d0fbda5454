import { wholeList } from '#lib/hsm/pool-keys-wire';
import { keyItemPage } from '#lib/keys/wire';
import { hsmKeyOperation } from '#lib/runtime/hsm-keys';

export const handler = hsmKeyOperation('GetHsmKeyVersions', {}, async ({ at, name, keys }) => ({
  body: await wholeList(
    (limit, cursor) => keys.listVersions(at, name, limit, cursor),
    (page) => keyItemPage(at, page, true),
  ),
}));
