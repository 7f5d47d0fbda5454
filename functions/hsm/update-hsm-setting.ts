import { poolSettingUpdateRequest } from '#lib/hsm/settings-schemas';
import { poolSettingBody } from '#lib/hsm/settings-wire';
import { hsmOperation } from '#lib/runtime/hsm';

export const handler = hsmOperation(
  'UpdateHsmSetting',
  { body: poolSettingUpdateRequest, bodyRequired: true },
  async ({ pool, name, body, services }) => ({
    body: poolSettingBody(await services.settings.update(pool.name, name, body.value)),
  }),
);
