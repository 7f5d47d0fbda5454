import { RoleAssignments } from '../access/role-assignments.ts';
import { RoleDefinitions } from '../access/role-definitions.ts';
import { AuditQueries } from '../audit/query.ts';
import { openSkipToken, sealSkipToken } from '../http/paging.ts';
import { managementPlane, operations } from '../http/pipelines.ts';
import { DynamoPoolStore } from '../aws/dynamo-managed-hsm-pools.ts';
import { DynamoOperationStore } from '../aws/dynamo-operations.ts';
import { DynamoResourceGroupStore } from '../aws/dynamo-resource-groups.ts';
import { KmsKeyProtection } from '../aws/kms.ts';
import type { EventSubscriptions } from '../events/subscriptions.ts';
import { VaultManager } from '../vaults/manage.ts';
import { VaultOperations } from '../vaults/operations.ts';
import { ResourceGroupService } from '../vaults/resource-groups.ts';
import { SubscriptionService } from '../vaults/subscription-listing.ts';
import { eventSubscriptionsOf } from './event-subscriptions.ts';
import { familyServices, pipelineServices } from './services.ts';

/**
 * The management functions' composition root: the shared services and the management domains
 * (vaults and their operations, resource groups, role assignments and definitions, audit queries; the
 * pools' life cycle has a root of its own, lib/runtime/pool-management.ts). Each domain adds its
 * service here.
 */
export type ManagementServices = {
  subscriptions: SubscriptionService;
  resourceGroups: ResourceGroupService;
  vaults: VaultManager;
  vaultOperations: VaultOperations;
  roleAssignments: RoleAssignments;
  roleDefinitions: RoleDefinitions;
  auditEvents: AuditQueries;
  eventSubscriptions: EventSubscriptions;
};

const managementServices = familyServices<ManagementServices>((shared) => {
  const eventSubscriptions = eventSubscriptionsOf(shared);
  const poolStore = new DynamoPoolStore(shared.dynamo, shared.config.objectsTable);
  const vaults = new VaultManager(
    shared.vaultStore,
    new KmsKeyProtection(shared.kms),
    {
      vaultDomain: shared.config.vaultDomain,
      vaultEndpoints: shared.config.vaultEndpoints,
      deployment: shared.config.deployment,
      tenantOf: (id) => shared.pipeline.subscriptions.tenantOf(id),
      changed: (name) => shared.vaults.forget(name),
      assignments: shared.accessStore,
      revoked: (principal) => shared.access.forget(principal),
      purging: (name) => eventSubscriptions.removeAll(name),
    },
    shared.clock,
  );
  return {
    subscriptions: new SubscriptionService(shared.config.subscriptions, shared.access, shared.accessStore),
    resourceGroups: new ResourceGroupService(new DynamoResourceGroupStore(shared.dynamo, shared.config.objectsTable), {
      vaultsIn: async (subscriptionId) => [...(await shared.vaultStore.vaultsIn(subscriptionId)), ...(await poolStore.poolsIn(subscriptionId))],
    }),
    vaults,
    vaultOperations: new VaultOperations(new DynamoOperationStore(shared.dynamo, shared.config.objectsTable)),
    roleAssignments: new RoleAssignments(shared.accessStore, shared.access),
    roleDefinitions: new RoleDefinitions(shared.accessStore, shared.access),
    // Audit pages are signed like the data plane's lists: with the vault's paging key.
    auditEvents: new AuditQueries(
      shared.auditStore,
      vaults,
      shared.vaults,
      { seal: sealSkipToken, open: openSkipToken },
      shared.config.auditRetentionDays,
    ),
    eventSubscriptions,
  };
});

/** `managementOperation('GetVault', schemas, run)`: a management handler on the management-plane pipeline. */
export const managementOperation = operations(managementPlane, pipelineServices, managementServices);
