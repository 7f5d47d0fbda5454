import { randomUUID } from 'node:crypto';
import { VaultError } from '../core/errors.ts';
import { normalizeLocation } from './arm-resource.ts';

/**
 * A management operation ARM clients poll as a long-running one (a purge: Azure's Vaults_PurgeDeleted
 * and ManagedHsms_PurgeDeleted are `x-ms-long-running-operation`). Coffer finishes the work within the request, so an operation is
 * recorded only once it has succeeded; the record is what `operationResults/{id}` answers.
 */
export interface VaultOperation {
  id: string;
  subscriptionId: string;
  location: string;
  operation: OperationKind;
  /** The purged vault's or pool's name. */
  resourceName: string;
  status: 'Succeeded';
  startTime: string;
  endTime: string;
}

/** A vault's purge, or a managed HSM pool's. */
export type OperationKind = 'purge' | 'purgeManagedHsm';

/** Where operations are kept: by subscription, so one subscription never reads another's. */
export interface OperationStore {
  putOperation(operation: VaultOperation): Promise<void>;
  getOperation(subscriptionId: string, operationId: string): Promise<VaultOperation | undefined>;
}

/** Ids are UUIDs; anything else names no operation, and is not worth a read (nor a key too long for the table). */
const OPERATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class VaultOperations {
  constructor(
    private readonly store: OperationStore,
    private readonly now: () => number = Date.now,
    private readonly newId: () => string = randomUUID,
  ) {}

  /** Runs the work and records it as succeeded; work that fails is answered as its error and leaves no operation. */
  async run(
    subscriptionId: string,
    location: string,
    operation: OperationKind,
    resourceName: string,
    work: () => Promise<void>,
  ): Promise<VaultOperation> {
    const startTime = new Date(this.now()).toISOString();
    await work();
    const record: VaultOperation = {
      id: this.newId(),
      subscriptionId,
      location,
      operation,
      resourceName,
      status: 'Succeeded',
      startTime,
      endTime: new Date(this.now()).toISOString(),
    };
    await this.store.putOperation(record);
    return record;
  }

  /** The operation of the subscription at the location; another subscription's or location's, or an unknown one, is OperationNotFound. */
  async result(subscriptionId: string, location: string, operationId: string): Promise<VaultOperation> {
    const found = OPERATION_ID.test(operationId) ? await this.store.getOperation(subscriptionId, operationId.toLowerCase()) : undefined;
    if (
      !found ||
      found.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase() ||
      normalizeLocation(found.location) !== normalizeLocation(location)
    ) {
      throw new VaultError(404, 'OperationNotFound', `The operation '${operationId.slice(0, 128)}' was not found.`);
    }
    return found;
  }
}
