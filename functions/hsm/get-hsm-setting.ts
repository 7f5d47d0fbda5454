import { poolSettingBody } from '#lib/hsm/settings-wire';
import { hsmSettingsOperation } from '#lib/runtime/hsm-settings';

export const handler = hsmSettingsOperation('GetHsmSetting', {}, async ({ pool, name, services }) => ({
  body: poolSettingBody(await services.settings.get(pool.name, name)),
}));
