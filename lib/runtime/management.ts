import { managementPlane, operations } from '../http/pipelines.ts';
import { DynamoResourceGroupStore } from '../aws/dynamo-resource-groups.ts';
import { ResourceGroupService } from '../vaults/resource-groups.ts';
import { SubscriptionService } from '../vaults/subscription-listing.ts';
import { familyServices, pipelineServices } from './services.ts';

/**
 * The management functions' composition root: the shared services and the management domains
 * (vaults, resource groups, role assignments and definitions, audit queries). Each domain adds its
 * service here.
 */
export type ManagementServices = {
  subscriptions: SubscriptionService;
  resourceGroups: ResourceGroupService;
};

const managementServices = familyServices<ManagementServices>((shared) => ({
  subscriptions: new SubscriptionService(shared.config.subscriptions, shared.access, shared.accessStore),
  resourceGroups: new ResourceGroupService(new DynamoResourceGroupStore(shared.dynamo, shared.config.objectsTable), shared.vaultStore),
}));

/** `managementOperation('GetVault', schemas, run)`: a management handler on the management-plane pipeline. */
export const managementOperation = operations(managementPlane, pipelineServices, managementServices);
