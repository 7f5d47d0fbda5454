import { MAX_ACCESS_POLICIES } from '../access/access-policies.ts';
import type { AccessStore } from '../access/assignments.ts';
import { type VaultClock, vaultClock } from '../core/clock.ts';
import { VaultError } from '../core/errors.ts';
import type { DataKeyProvider } from '../crypto/envelope.ts';
import { editAccessPolicies } from './access-policy-edits.ts';
import {
  assertPurgeAllowed,
  badRequest,
  checkTenant,
  LocalEndpoints,
  publicNetworkAccess,
  SoftDeletableResources,
  softDeleteSettings,
} from './arm-resource.ts';
import type { AccessPolicyUpdateBody, VaultCreateBody, VaultPatchBody } from './schemas.ts';
import { isReservedName, pagingKeyContext, VAULT_NAME, type Vault, type VaultStore, vaultResourceId } from './vault.ts';

/** The KMS operations a vault's life needs: its own key at creation, deletion of its keys at purge. */
export interface ManagedVaultKeys extends DataKeyProvider {
  createVaultKey(vaultName: string, tags: Record<string, string>): Promise<string>;
  scheduleKeyDeletion(arn: string): Promise<boolean>;
}

export interface VaultManagerSettings {
  vaultDomain: string;
  /** Local endpoints a new vault claims one of; empty where vault host names resolve. */
  vaultEndpoints: readonly string[];
  /** Tagged on the vault's KMS key: the function roles may use only their own deployment's keys. */
  deployment?: string | undefined;
  /** The tenant a subscription belongs to. */
  tenantOf(subscriptionId: string): string | undefined;
  /** Told of every change, so a container's cached vault record is dropped at once. */
  changed?(name: string): void;
  /**
   * The role assignments at the vault's scope and below, removed when it is purged: a later vault of
   * the same name starts with none of the purged one's grants. Soft delete keeps them for a recovery.
   */
  assignments?: Pick<AccessStore, 'assignmentsUnder' | 'deleteAssignment'>;
  /** Told of every principal a purge took an assignment from, so its cached access is dropped at once. */
  revoked?(principal: { tenantId: string; objectId: string }): void;
  /** Before a purge removes the vault's records: what lives outside them goes first (its event subscriptions' rules). */
  purging?(name: string): Promise<void>;
}

/**
 * The vault lifecycle behind the management plane (docs/adr/0013): create, recover, update, soft
 * delete, purge and access policies, with ARM's rules and wording. Every write is conditional on the
 * revision it read, so concurrent management calls never lose one another's change.
 */
export class VaultManager extends SoftDeletableResources<Vault> {
  private readonly endpoints: LocalEndpoints;

  constructor(
    private readonly store: VaultStore,
    private readonly keys: ManagedVaultKeys,
    private readonly settings: VaultManagerSettings,
    /** The vault's clock: its dates, and when purge protection lets it go, follow the vault's time. */
    private readonly clock: VaultClock = vaultClock(),
  ) {
    super(
      {
        read: (name) => store.getVault(name),
        inSubscription: (subscriptionId) => store.vaultsIn(subscriptionId),
        resourceGroupExists: (subscriptionId, group) => store.resourceGroupExists(subscriptionId, group),
      },
      {
        write: (next, expected) => store.updateVault(next, expected),
        reread: (name) => store.getVault(name),
        now: (name) => clock(name),
        changed: (name) => settings.changed?.(name),
      },
      { what: 'vault', type: 'Microsoft.KeyVault/vaults' },
    );
    this.endpoints = new LocalEndpoints(settings.vaultEndpoints);
  }

  async checkName(name: string): Promise<{ nameAvailable: boolean; reason?: string; message?: string }> {
    if (!VAULT_NAME.test(name)) return { nameAvailable: false, reason: 'AccountNameInvalid', message: invalidNameMessage(name) };
    if (isReservedName(name)) return { nameAvailable: false, reason: 'AlreadyExists', message: alreadyExistsMessage(name) };
    const existing = await this.store.getVault(name.toLowerCase());
    if (!existing) return { nameAvailable: true };
    return { nameAvailable: false, reason: 'AlreadyExists', message: alreadyExistsMessage(name) };
  }

  /** PUT: creates the vault, recovers a deleted one (`createMode: recover`), or replaces the given settings of an existing one. */
  async createOrUpdate(
    subscriptionId: string,
    resourceGroup: string,
    name: string,
    body: VaultCreateBody,
    /**
     * Coffer's own choices at creation, not on ARM's wire: the local bootstrap's default vault takes
     * them. `requestStartedAt`: when the creating request began (epoch milliseconds), the time its
     * audit record carries; the vault's `created` is that request's second, not a later one, so
     * the audit query, which reads a vault's records from its creation on, finds that record.
     */
    options: { strictAudit?: boolean; requestStartedAt?: number } = {},
  ): Promise<{ vault: Vault; created: boolean }> {
    if (!VAULT_NAME.test(name)) throw new VaultError(400, 'VaultNameNotValid', invalidNameMessage(name));
    if (isReservedName(name)) throw new VaultError(409, 'VaultAlreadyExists', alreadyExistsMessage(name));
    const props = body.properties ?? {};
    const createMode = this.createMode(props.createMode);
    const existing = await this.store.getVault(name.toLowerCase());
    if (existing && existing.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase())
      throw new VaultError(409, 'VaultAlreadyExists', alreadyExistsMessage(name));
    if (createMode === 'recover') return { vault: await this.recover(existing, subscriptionId, resourceGroup, name), created: false };
    if (existing?.deleted)
      throw new VaultError(
        409,
        'ConflictError',
        `Exist soft deleted vault with the same name. The vault '${name}' can only be recovered (createMode 'recover') or purged.`,
      );
    if (existing && existing.resourceGroup.toLowerCase() !== resourceGroup.toLowerCase())
      throw new VaultError(409, 'VaultAlreadyExists', alreadyExistsMessage(name));
    this.checkTenant(subscriptionId, props.tenantId, true);
    if (existing) return { vault: await this.change(existing, (vault) => applyProperties(vault, body.tags, props, false)), created: false };
    return { vault: await this.create(subscriptionId, resourceGroup, name, body, options), created: true };
  }

  /** PATCH: only the given fields change. */
  async update(subscriptionId: string, resourceGroup: string, name: string, body: VaultPatchBody): Promise<Vault> {
    const props = body.properties ?? {};
    if (props.createMode !== undefined) throw badRequest("The property 'createMode' is only accepted by a PUT.");
    this.checkTenant(subscriptionId, props.tenantId, false);
    const vault = await this.get(subscriptionId, resourceGroup, name);
    return this.change(vault, (current) => applyProperties(current, body.tags, props, false));
  }

  /** Removes a deleted vault for good: its objects, its item, its endpoint; its KMS keys are scheduled for deletion. */
  async purge(subscriptionId: string, location: string, name: string): Promise<void> {
    const vault = await this.getDeleted(subscriptionId, location, name);
    assertPurgeAllowed(vault, this.clock(vault.name), 'DeleteVault', 'vault');
    // Before the vault item goes: a purge that fails half-way is retried on the still-deleted vault.
    await this.removeAssignments(vault);
    await this.settings.purging?.(vault.name);
    const hsmArns = await this.store.purgeVault(vault);
    for (const arn of [...hsmArns, vault.kmsKeyArn]) await this.keys.scheduleKeyDeletion(arn);
    const endpoint = this.endpoints.claimedBy(vault.vaultUri);
    if (endpoint) await this.store.releaseEndpoint(endpoint, vault.name);
    this.settings.changed?.(vault.name);
  }

  /** `add` merges permissions into the entry of the same identity, `replace` sets them, `remove` takes them out (dropping emptied entries). */
  async updateAccessPolicy(subscriptionId: string, resourceGroup: string, name: string, kind: string, body: AccessPolicyUpdateBody): Promise<Vault> {
    const operation = kind.toLowerCase();
    if (operation !== 'add' && operation !== 'replace' && operation !== 'remove') {
      throw badRequest(`The access policy update kind '${kind}' is not valid: use 'add', 'replace' or 'remove'.`);
    }
    const vault = await this.get(subscriptionId, resourceGroup, name);
    return this.change(vault, (current) => {
      const entries = editAccessPolicies(current.accessPolicies, body.properties.accessPolicies, operation);
      if (entries.length > MAX_ACCESS_POLICIES) throw badRequest(`A vault holds at most ${MAX_ACCESS_POLICIES} access policies.`);
      return { ...current, accessPolicies: entries };
    });
  }

  /**
   * The vault's clock at the creating request's start: now, less the whole seconds the request has
   * taken so far (a request that began at 12:00:00.9 and gets here at 12:00:01.1 creates a vault of
   * 12:00:00, the second its audit record is timed in).
   */
  private creationTime(name: string, requestStartedAt: number | undefined): number {
    const now = this.clock(name);
    if (requestStartedAt === undefined) return now;
    const elapsed = Math.max(0, Math.floor(Date.now() / 1000) - Math.floor(requestStartedAt / 1000));
    return now - elapsed;
  }

  private async create(
    subscriptionId: string,
    resourceGroup: string,
    name: string,
    body: VaultCreateBody,
    options: { strictAudit?: boolean; requestStartedAt?: number },
  ): Promise<Vault> {
    const props = body.properties ?? {};
    const location = this.requireLocation(body.location);
    if (!props.sku) throw badRequest("The property 'sku' is required.");
    await this.requireResourceGroup(subscriptionId, resourceGroup);
    const lower = name.toLowerCase();
    const template: Vault = {
      name: lower,
      tenantId: this.settings.tenantOf(subscriptionId)!,
      subscriptionId,
      resourceGroup,
      location,
      vaultUri: `https://${lower}.${this.settings.vaultDomain}/`,
      enableRbacAuthorization: false,
      accessPolicies: [],
      publicNetworkAccess: 'Enabled',
      tags: {},
      revision: 1,
      kmsKeyArn: '',
      sku: 'standard',
      softDeleteRetentionDays: 90,
      purgeProtection: false,
      pagingKeyCiphertext: new Uint8Array(),
      created: this.creationTime(lower, options.requestStartedAt),
      strictAudit: options.strictAudit ?? false,
    };
    // Validated before anything is created: a refused PUT leaves no KMS key or endpoint claim behind.
    const shaped = applyProperties(template, body.tags, props, true);
    const endpoint = await this.endpoints.claim((host) => this.store.claimEndpoint(host, lower));
    let kmsKeyArn: string | undefined;
    try {
      kmsKeyArn = await this.keys.createVaultKey(lower, {
        'coffer:tenant': shaped.tenantId,
        ...(this.settings.deployment ? { 'coffer:deployment': this.settings.deployment } : {}),
      });
      const pagingKey = await this.keys.generateDataKey(kmsKeyArn, pagingKeyContext(lower));
      const vault: Vault = {
        ...shaped,
        kmsKeyArn,
        pagingKeyCiphertext: pagingKey.ciphertext,
        ...(endpoint ? { vaultUri: `https://${endpoint}/` } : {}),
      };
      if (await this.store.createVault(vault)) return vault;
    } catch (error) {
      // The caller gets the failure that stopped the create, not one of the clean-up's.
      await this.abandonCreate(lower, endpoint, kmsKeyArn).catch(() => undefined);
      throw error;
    }
    await this.abandonCreate(lower, endpoint, kmsKeyArn);
    throw new VaultError(409, 'VaultAlreadyExists', alreadyExistsMessage(name));
  }

  /**
   * Undoes a create that did not write its record. A claim is by name, so a concurrent create of the
   * same name claimed the same endpoint: it is released only when no vault of that name holds it.
   */
  private async abandonCreate(name: string, endpoint: string | undefined, kmsKeyArn: string | undefined): Promise<void> {
    if (endpoint) {
      const holder = await this.store.getVault(name);
      if (!holder || this.endpoints.claimedBy(holder.vaultUri) !== endpoint) await this.store.releaseEndpoint(endpoint, name);
    }
    if (kmsKeyArn) await this.keys.scheduleKeyDeletion(kmsKeyArn);
  }

  private checkTenant(subscriptionId: string, tenantId: string | undefined, required: boolean): void {
    checkTenant((id) => this.settings.tenantOf(id), subscriptionId, tenantId, required);
  }

  private async removeAssignments(vault: Vault): Promise<void> {
    const store = this.settings.assignments;
    if (!store) return;
    for (const assignment of await store.assignmentsUnder(vaultResourceId(vault))) {
      await store.deleteAssignment(assignment);
      this.settings.revoked?.({ tenantId: assignment.tenantId, objectId: assignment.principalId });
    }
  }
}

/** The PUT/PATCH properties onto a record, with ARM's refusals; nothing is written when one applies. */
function applyProperties(
  vault: Vault,
  tags: Record<string, string> | undefined,
  props: NonNullable<VaultCreateBody['properties']>,
  creating: boolean,
): Vault {
  const next: Vault = { ...vault };
  if (tags !== undefined) next.tags = { ...tags };
  if (props.sku !== undefined) {
    const sku = props.sku.name?.toLowerCase();
    if ((props.sku.family ?? 'A') !== 'A' || (sku !== 'standard' && sku !== 'premium')) {
      throw badRequest(`The sku '${props.sku.family ?? ''}/${props.sku.name ?? ''}' is not valid: use family 'A' and name 'standard' or 'premium'.`);
    }
    next.sku = sku;
  }
  Object.assign(next, softDeleteSettings(vault, props, creating, 'vault'));
  if (props.enableRbacAuthorization !== undefined) next.enableRbacAuthorization = props.enableRbacAuthorization;
  if (props.accessPolicies !== undefined) {
    if (props.accessPolicies.length > MAX_ACCESS_POLICIES) throw badRequest(`A vault holds at most ${MAX_ACCESS_POLICIES} access policies.`);
    next.accessPolicies = props.accessPolicies.map((e) => structuredClone(e));
  }
  if (props.publicNetworkAccess !== undefined) next.publicNetworkAccess = publicNetworkAccess(props.publicNetworkAccess);
  return next;
}

function invalidNameMessage(name: string): string {
  return `The vault name '${name.slice(0, 64)}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens.`;
}

function alreadyExistsMessage(name: string): string {
  return `The vault name '${name}' is already in use. Vault names are globally unique so it is possible that the name is already taken.`;
}
