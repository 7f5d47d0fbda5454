import type { PoolSetting } from './settings.ts';

/** A Setting (settings.json): `{name, value, type}`. */
export function poolSettingBody(setting: PoolSetting) {
  return { name: setting.name, value: setting.value, type: setting.type };
}

/** SettingsListResult: `{settings: [...]}`, one page. */
export function poolSettingsList(settings: readonly PoolSetting[]) {
  return { settings: settings.map(poolSettingBody) };
}
