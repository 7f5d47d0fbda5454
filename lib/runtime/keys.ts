import { operations, dataPlane } from '../http/pipelines.ts';
import { KmsKeyProtection } from '../aws/kms.ts';
import { KeyService } from '../keys/keys.ts';
import { familyServices, pipelineServices } from './services.ts';

/** The keys functions' composition root: the shared services, the keys domain and its HSM (KMS) keys. */
export interface KeysServices {
  keys: KeyService;
}

const keysServices = familyServices<KeysServices>(({ config, logger, kms, objects, sealer, backups, clock }) => ({
  keys: new KeyService(
    objects,
    sealer,
    backups,
    new KmsKeyProtection(kms),
    (message, details) => logger.warn(message, details),
    config.deployment ? { 'coffer:deployment': config.deployment } : {},
    clock,
  ),
}));

/** `keysOperation('Sign', schemas, run)`: a keys handler on the data-plane pipeline. */
export const keysOperation = operations(dataPlane, pipelineServices, keysServices);
