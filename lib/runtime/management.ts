import { RoleAssignments } from '../access/role-assignments.ts';
import { RoleDefinitions } from '../access/role-definitions.ts';
import { managementPlane, operations } from '../http/pipelines.ts';
import { familyServices, pipelineServices } from './services.ts';

/**
 * The management functions' composition root: the shared services and the management domains
 * (vaults, resource groups, role assignments and definitions, audit queries). Each domain adds its
 * service here.
 */
export type ManagementServices = {
  roleAssignments: RoleAssignments;
  roleDefinitions: RoleDefinitions;
};

const managementServices = familyServices<ManagementServices>((shared) => ({
  roleAssignments: new RoleAssignments(shared.accessStore, shared.access),
  roleDefinitions: new RoleDefinitions(shared.accessStore, shared.access),
}));

/** `managementOperation('GetVault', schemas, run)`: a management handler on the management-plane pipeline. */
export const managementOperation = operations(managementPlane, pipelineServices, managementServices);
