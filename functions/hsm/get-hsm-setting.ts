import { poolSettingBody } from '#lib/hsm/settings-wire';
import { hsmOperation } from '#lib/runtime/hsm';

export const handler = hsmOperation('GetHsmSetting', {}, async ({ pool, name, services }) => ({
  body: poolSettingBody(await services.settings.get(pool.name, name)),
}));
