import { poolSettingUpdateRequest } from '#lib/hsm/settings-schemas';
import { poolSettingBody } from '#lib/hsm/settings-wire';
import { hsmSettingsOperation } from '#lib/runtime/hsm-settings';

export const handler = hsmSettingsOperation(
  'UpdateHsmSetting',
  { body: poolSettingUpdateRequest, bodyRequired: true },
  async ({ pool, name, body, services }) => ({
    body: poolSettingBody(await services.settings.update(pool.name, name, body.value)),
  }),
);
