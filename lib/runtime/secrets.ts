import { operations, dataPlane } from '../http/pipelines.ts';
import { SecretService } from '../secrets/secrets.ts';
import { familyServices, pipelineServices } from './services.ts';

/**
 * The secrets functions' composition root: the shared services and the secrets domain. It does not
 * reach the keys domain, so a secrets function's bundle carries neither it nor its curve library.
 */
export interface SecretsServices {
  secrets: SecretService;
}

const secretsServices = familyServices<SecretsServices>((shared) => ({
  secrets: new SecretService(shared.objects, shared.sealer, shared.backups, shared.clock),
}));

/** `secretsOperation('GetSecret', schemas, run)`: a secrets handler on the data-plane pipeline. */
export const secretsOperation = operations(dataPlane, pipelineServices, secretsServices);
