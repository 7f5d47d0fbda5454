import { BadParameter, NotFound } from '../core/errors.ts';

/**
 * A managed HSM pool's settings (settings.json; docs/adr/0022-pool-data-plane.md): Managed HSM has
 * one, `AllowKeyManagementOperationsThroughARM`, a boolean whose value travels as the string `true`
 * or `false`, off until an administrator turns it on. A pool stores only what was set; a setting
 * never set answers its default.
 */
export interface PoolSetting {
  name: string;
  value: string;
  type: 'boolean';
}

const KNOWN = [{ name: 'AllowKeyManagementOperationsThroughARM', type: 'boolean', default: 'false' }] as const;

/** lib/aws/dynamo-pool-settings.ts implements it. */
export interface PoolSettingsStore {
  /** The values set in the pool, by setting name. */
  values(pool: string): Promise<Record<string, string>>;
  put(pool: string, name: string, value: string): Promise<void>;
  /** Everything the pool set, at its purge. */
  deletePool(pool: string): Promise<void>;
}

export class PoolSettings {
  constructor(private readonly store: PoolSettingsStore) {}

  async list(pool: string): Promise<PoolSetting[]> {
    const values = await this.store.values(pool);
    return KNOWN.map((known) => ({ name: known.name, value: values[known.name] ?? known.default, type: known.type }));
  }

  async get(pool: string, name: string): Promise<PoolSetting> {
    const known = settingNamed(name);
    return { name: known.name, value: (await this.store.values(pool))[known.name] ?? known.default, type: known.type };
  }

  /** A boolean setting takes `true` or `false`, in any case, and answers it in lower case. */
  async update(pool: string, name: string, value: string): Promise<PoolSetting> {
    const known = settingNamed(name);
    const normal = value.toLowerCase();
    if (normal !== 'true' && normal !== 'false') {
      throw new BadParameter(`The value of the setting '${known.name}' is a boolean: 'true' or 'false'.`);
    }
    await this.store.put(pool, known.name, normal);
    return { name: known.name, value: normal, type: known.type };
  }
}

/** Setting names compare case-insensitively, as Key Vault's names do; the answer spells the setting's own. */
function settingNamed(name: string): (typeof KNOWN)[number] {
  const known = KNOWN.find((setting) => setting.name.toLowerCase() === name.toLowerCase());
  if (!known) {
    const printable = name.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
    throw new NotFound(
      'SettingNotFound',
      `The setting '${printable}' does not exist. A managed HSM's settings are: ${KNOWN.map((s) => s.name).join(', ')}.`,
    );
  }
  return known;
}
