import { wholeList } from '#lib/hsm/pool-keys-wire';
import { keyItemPage } from '#lib/keys/wire';
import { hsmKeyOperation } from '#lib/runtime/hsm-keys';

export const handler = hsmKeyOperation('GetHsmKeys', {}, async ({ at, keys }) => ({
  body: await wholeList(
    (limit, cursor) => keys.list(at, limit, cursor),
    (page) => keyItemPage(at, page),
  ),
}));
