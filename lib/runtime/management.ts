import { managementPlane, operations } from '../http/pipelines.ts';
import { familyServices, pipelineServices } from './services.ts';

/**
 * The management functions' composition root: the shared services and the management domains
 * (vaults, resource groups, role assignments and definitions, audit queries). Each domain adds its
 * service here.
 */
// biome-ignore lint/complexity/noBannedTypes: the domains add their services one by one
export type ManagementServices = {};

const managementServices = familyServices<ManagementServices>(() => ({}));

/** `managementOperation('GetVault', schemas, run)`: a management handler on the management-plane pipeline. */
export const managementOperation = operations(managementPlane, pipelineServices, managementServices);
