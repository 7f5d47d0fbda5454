import { poolSettingsList } from '#lib/hsm/settings-wire';
import { hsmOperation } from '#lib/runtime/hsm';

export const handler = hsmOperation('GetHsmSettings', {}, async ({ pool, services }) => ({
  body: poolSettingsList(await services.settings.list(pool.name)),
}));
