/**
 * The local KMS service: dispatches each KMS operation to its implementation in operations/, with
 * AWS's request validation, key-state rules and response shapes. Inputs and outputs are the JSON 1.1
 * members exactly as the AWS SDK sends and expects them; blobs are Buffers here and become base64 in
 * server.ts.
 */
import { kmsError } from './errors.ts';
import { Input } from './input.ts';
import { aliasOperations } from './operations/aliases.ts';
import { KmsContext, type Operations, type Response } from './operations/context.ts';
import { encryptionOperations } from './operations/encryption.ts';
import { keyLifecycleOperations } from './operations/key-lifecycle.ts';
import { keyMaterialImportOperations } from './operations/key-material-import.ts';
import { signatureOperations } from './operations/signatures.ts';
import { tagOperations } from './operations/tags.ts';
import { KeyStore } from './store.ts';

/** Every operation the KMS API defines: the ones not implemented here fail as unsupported, not unknown. */
const KMS_OPERATIONS = new Set(
  (
    'CancelKeyDeletion ConnectCustomKeyStore CreateAlias CreateCustomKeyStore CreateGrant CreateKey Decapsulate Decrypt DeleteAlias ' +
    'DeleteCustomKeyStore DeleteImportedKeyMaterial DeriveSharedSecret DescribeCustomKeyStores DescribeKey DisableKey ' +
    'DisableKeyRotation DisconnectCustomKeyStore EnableKey EnableKeyRotation Encapsulate Encrypt GenerateDataKey GenerateDataKeyPair ' +
    'GenerateDataKeyPairWithoutPlaintext GenerateDataKeyWithoutPlaintext GenerateMac GenerateRandom GetKeyLastUsage GetKeyPolicy ' +
    'GetKeyRotationStatus GetParametersForImport GetPublicKey ImportKeyMaterial ListAliases ListGrants ListKeyPolicies ' +
    'ListKeyRotations ListKeys ListResourceTags ListRetirableGrants PutKeyPolicy ReEncrypt ReplicateKey RetireGrant RevokeGrant ' +
    'RotateKeyOnDemand ScheduleKeyDeletion Sign TagResource UntagResource UpdateAlias UpdateCustomKeyStore UpdateKeyDescription ' +
    'UpdatePrimaryRegion Verify VerifyMac'
  ).split(' '),
);

export interface ServiceOptions {
  region: string;
  accountId: string;
}

export class LocalKmsService {
  private readonly operations: Operations;

  private constructor(
    private readonly store: KeyStore,
    region: string,
    accountId: string,
  ) {
    const kms = new KmsContext(store, region, accountId);
    this.operations = {
      ...keyLifecycleOperations(kms),
      ...aliasOperations(kms),
      ...tagOperations(kms),
      ...encryptionOperations(kms),
      ...signatureOperations(kms),
      ...keyMaterialImportOperations(kms),
    };
  }

  static async open(dataDir: string, options: ServiceOptions): Promise<LocalKmsService> {
    return new LocalKmsService(await KeyStore.open(dataDir), options.region, options.accountId);
  }

  async handle(operation: string, body: Record<string, unknown>): Promise<Response> {
    const run = Object.hasOwn(this.operations, operation) ? this.operations[operation] : undefined;
    if (!run) {
      if (KMS_OPERATIONS.has(operation)) {
        throw kmsError('UnsupportedOperationException', `The local KMS does not implement ${operation}.`);
      }
      throw kmsError('UnknownOperationException', `Unknown operation TrentService.${operation}.`);
    }
    if (this.expire()) await this.store.save();
    return run(new Input(body));
  }

  /** Waits for pending store writes, so a restart on the same directory sees everything acknowledged. */
  flush(): Promise<void> {
    return this.store.flush();
  }

  /**
   * Deletion and material expiry happen lazily, when the next request arrives: nothing runs in the
   * background, and what a request sees is always consistent with the clock at that moment.
   */
  private expire(): boolean {
    const now = Date.now();
    let changed = false;
    for (const key of [...this.store.keys.values()]) {
      if (key.state === 'PendingDeletion' && key.deletionDate !== undefined && key.deletionDate <= now) {
        this.store.keys.delete(key.keyId);
        for (const alias of [...this.store.aliases.values()]) {
          // AWS deletes a key's aliases with the key.
          if (alias.targetKeyId === key.keyId) this.store.aliases.delete(alias.name);
        }
        changed = true;
      } else if (key.material && key.expirationModel === 'KEY_MATERIAL_EXPIRES' && key.validTo !== undefined && key.validTo <= now) {
        delete key.material;
        delete key.validTo;
        if (key.state !== 'PendingDeletion') key.state = 'PendingImport';
        changed = true;
      }
    }
    return changed;
  }
}
