import { wholeList } from '#lib/hsm/pool-keys-wire';
import { deletedKeyItemPage } from '#lib/keys/wire';
import { hsmKeyOperation } from '#lib/runtime/hsm-keys';

export const handler = hsmKeyOperation('GetDeletedHsmKeys', {}, async ({ at, keys }) => ({
  body: await wholeList(
    (limit, cursor) => keys.listDeleted(at, limit, cursor),
    (page) => deletedKeyItemPage(at, page),
  ),
}));
