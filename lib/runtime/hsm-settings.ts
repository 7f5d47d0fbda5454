import { DynamoPoolSettingsStore } from '../aws/dynamo-pool-settings.ts';
import { PoolSettings } from '../hsm/settings.ts';
import { hsmOperations } from './hsm.ts';

/** The composition root of a pool's settings: no keys domain, no HSM. */
export interface HsmSettingsServices {
  settings: PoolSettings;
}

/** `hsmSettingsOperation('GetHsmSetting', schemas, run)`: a pool's settings handler. */
export const hsmSettingsOperation = hsmOperations<HsmSettingsServices>((shared) => ({
  settings: new PoolSettings(new DynamoPoolSettingsStore(shared.dynamo, shared.config.objectsTable)),
}));
