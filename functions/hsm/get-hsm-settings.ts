import { poolSettingsList } from '#lib/hsm/settings-wire';
import { hsmSettingsOperation } from '#lib/runtime/hsm-settings';

export const handler = hsmSettingsOperation('GetHsmSettings', {}, async ({ pool, services }) => ({
  body: poolSettingsList(await services.settings.list(pool.name)),
}));
