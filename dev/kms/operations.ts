/**
 * The KMS operations, with AWS's request validation, key-state rules and response shapes. Inputs
 * and outputs are the JSON 1.1 members exactly as the AWS SDK sends and expects them; blobs are
 * Buffers here and become base64 in server.ts.
 */
import { constants, createPrivateKey, createPublicKey, generateKeyPair, privateDecrypt, publicEncrypt, randomBytes, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { blobKeyId, openBlob, sealBlob } from './ciphertext.ts';
import { KmsError, kmsError, validationError } from './errors.ts';
import { createImportParameters, normalizeKeyMaterial, sameKeyMaterial, unwrapKeyMaterial } from './import.ts';
import { Input } from './input.ts';
import { signMessage, verifySignature } from './signing.ts';
import type { MessageType } from './signing.ts';
import {
  ALL_ENCRYPTION_ALGORITHMS,
  ALL_SIGNING_ALGORITHMS,
  ALL_WRAPPING_ALGORITHMS,
  ALL_WRAPPING_KEY_SPECS,
  KEY_SPECS,
  KEY_USAGES,
  SIGNING,
  SIGNING_ALGORITHMS,
  SPECS,
  UNIMPLEMENTED_KEY_SPECS,
  UNIMPLEMENTED_KEY_USAGES,
  WRAPPING_ALGORITHMS,
  encryptionAlgorithmsFor,
  rsaOaepPlaintextLimit,
  signingAlgorithmsFor,
} from './specs.ts';
import type { EncryptionAlgorithm, KeySpec, KeyUsage, SigningAlgorithm, WrappingAlgorithm, WrappingKeySpec } from './specs.ts';
import { KeyStore } from './store.ts';
import type { AliasRecord, ExpirationModel, KeyRecord, Origin, Tag } from './store.ts';

const generateKeyPairAsync = promisify(generateKeyPair);
const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_PLAINTEXT = 4096;
const MAX_CIPHERTEXT = 6144;
const MAX_TAGS = 50;
const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]+$/;

export type Response = Record<string, unknown>;
type Handler = (input: Input) => Response | Promise<Response>;

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
  private readonly handlers: Record<string, Handler>;

  private constructor(
    private readonly store: KeyStore,
    private readonly region: string,
    private readonly accountId: string,
  ) {
    this.handlers = {
      CreateKey: (i) => this.createKey(i),
      DescribeKey: (i) => ({ KeyMetadata: this.metadata(this.resolve(i.requiredString('KeyId', { max: 2048 }))) }),
      ListKeys: (i) => this.listKeys(i),
      UpdateKeyDescription: (i) => this.updateKeyDescription(i),
      EnableKey: (i) => this.setEnabled(i, true),
      DisableKey: (i) => this.setEnabled(i, false),
      ScheduleKeyDeletion: (i) => this.scheduleKeyDeletion(i),
      CancelKeyDeletion: (i) => this.cancelKeyDeletion(i),
      CreateAlias: (i) => this.createAlias(i),
      UpdateAlias: (i) => this.updateAlias(i),
      DeleteAlias: (i) => this.deleteAlias(i),
      ListAliases: (i) => this.listAliases(i),
      TagResource: (i) => this.tagResource(i),
      UntagResource: (i) => this.untagResource(i),
      ListResourceTags: (i) => this.listResourceTags(i),
      GenerateDataKey: (i) => this.generateDataKey(i, true),
      GenerateDataKeyWithoutPlaintext: (i) => this.generateDataKey(i, false),
      Encrypt: (i) => this.encrypt(i),
      Decrypt: (i) => this.decrypt(i),
      ReEncrypt: (i) => this.reEncrypt(i),
      GenerateRandom: (i) => this.generateRandom(i),
      GetPublicKey: (i) => this.getPublicKey(i),
      Sign: (i) => this.sign(i),
      Verify: (i) => this.verify(i),
      GetParametersForImport: (i) => this.getParametersForImport(i),
      ImportKeyMaterial: (i) => this.importKeyMaterial(i),
      DeleteImportedKeyMaterial: (i) => this.deleteImportedKeyMaterial(i),
    };
  }

  static async open(dataDir: string, options: ServiceOptions): Promise<LocalKmsService> {
    return new LocalKmsService(await KeyStore.open(dataDir), options.region, options.accountId);
  }

  async handle(operation: string, body: Record<string, unknown>): Promise<Response> {
    const handler = Object.hasOwn(this.handlers, operation) ? this.handlers[operation] : undefined;
    if (!handler) {
      if (KMS_OPERATIONS.has(operation)) {
        throw kmsError('UnsupportedOperationException', `The local KMS does not implement ${operation}.`);
      }
      throw kmsError('UnknownOperationException', `Unknown operation TrentService.${operation}.`);
    }
    if (this.expire()) await this.store.save();
    return handler(new Input(body));
  }

  /** Waits for pending store writes, so a restart on the same directory sees everything acknowledged. */
  flush(): Promise<void> {
    return this.store.flush();
  }

  // ---- keys -------------------------------------------------------------------------------------

  private async createKey(input: Input): Promise<Response> {
    const keySpecMember = input.string('KeySpec');
    const legacySpec = input.string('CustomerMasterKeySpec');
    if (keySpecMember !== undefined && legacySpec !== undefined && keySpecMember !== legacySpec) {
      throw kmsError('ValidationException', 'KeySpec and CustomerMasterKeySpec must not both be specified.');
    }
    const requestedSpec = keySpecMember ?? legacySpec ?? 'SYMMETRIC_DEFAULT';
    if ((UNIMPLEMENTED_KEY_SPECS as readonly string[]).includes(requestedSpec)) {
      throw kmsError('UnsupportedOperationException', `The local KMS does not implement key spec ${requestedSpec}.`);
    }
    const keySpec = oneOf('KeySpec', requestedSpec, KEY_SPECS);
    const requestedUsage = input.string('KeyUsage') ?? 'ENCRYPT_DECRYPT';
    if ((UNIMPLEMENTED_KEY_USAGES as readonly string[]).includes(requestedUsage)) {
      throw kmsError('UnsupportedOperationException', `The local KMS does not implement key usage ${requestedUsage}.`);
    }
    const keyUsage = oneOf('KeyUsage', requestedUsage, KEY_USAGES);
    if (!SPECS[keySpec].usages.includes(keyUsage)) {
      throw kmsError('ValidationException', `KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}.`);
    }
    const requestedOrigin = input.string('Origin') ?? 'AWS_KMS';
    if (requestedOrigin === 'AWS_CLOUDHSM' || requestedOrigin === 'EXTERNAL_KEY_STORE') {
      throw kmsError('UnsupportedOperationException', `The local KMS has no custom key stores (Origin ${requestedOrigin}).`);
    }
    const origin: Origin = oneOf('Origin', requestedOrigin, ['AWS_KMS', 'EXTERNAL'] as const);
    if (input.boolean('MultiRegion')) throw kmsError('UnsupportedOperationException', 'The local KMS does not implement multi-Region keys.');
    if (input.has('CustomKeyStoreId') || input.has('XksKeyId')) {
      throw kmsError('UnsupportedOperationException', 'The local KMS has no custom key stores.');
    }
    // Key policies are accepted so infrastructure code can pass them, but nothing here enforces IAM.
    input.string('Policy', { max: 32768 });
    input.boolean('BypassPolicyLockoutSafetyCheck');
    const description = input.string('Description', { min: 0, max: 8192 }) ?? '';
    const tags = mergeTags([], parseTags(input.list('Tags') ?? []));

    const keyId = randomUUID();
    const material = origin === 'AWS_KMS' ? await generateMaterial(keySpec) : undefined;
    const key: KeyRecord = {
      keyId,
      createdAt: Date.now(),
      description,
      keySpec,
      keyUsage,
      origin,
      state: material ? 'Enabled' : 'PendingImport',
      tags,
      ...(material ? { material: this.store.sealMaterial(keyId, material) } : {}),
    };
    this.store.keys.set(keyId, key);
    await this.store.save();
    return { KeyMetadata: this.metadata(key) };
  }

  private listKeys(input: Input): Response {
    const limit = input.integer('Limit', { min: 1, max: 1000 }) ?? 100;
    const keys = [...this.store.keys.values()].map((key) => ({ sort: `${String(key.createdAt).padStart(16, '0')}|${key.keyId}`, key }));
    const { items, nextMarker } = page(keys, (entry) => entry.sort, limit, input.string('Marker', { max: 1024 }));
    return {
      Keys: items.map(({ key }) => ({ KeyId: key.keyId, KeyArn: this.keyArn(key.keyId) })),
      Truncated: nextMarker !== undefined,
      ...(nextMarker ? { NextMarker: nextMarker } : {}),
    };
  }

  private async updateKeyDescription(input: Input): Promise<Response> {
    const key = this.resolve(input.requiredString('KeyId', { max: 2048 }));
    const description = input.string('Description', { min: 0, max: 8192 });
    if (description === undefined) throw validationError('Description', 'Member must not be null');
    this.refusePendingDeletion(key);
    key.description = description;
    await this.store.save();
    return {};
  }

  private async setEnabled(input: Input, enabled: boolean): Promise<Response> {
    const key = this.resolve(input.requiredString('KeyId', { max: 2048 }));
    this.refusePendingDeletion(key);
    if (key.state === 'PendingImport') throw kmsError('KMSInvalidStateException', `${this.keyArn(key.keyId)} is pending import.`);
    key.state = enabled ? 'Enabled' : 'Disabled';
    await this.store.save();
    return {};
  }

  private async scheduleKeyDeletion(input: Input): Promise<Response> {
    const key = this.resolve(input.requiredString('KeyId', { max: 2048 }));
    const days = input.integer('PendingWindowInDays', { min: 7, max: 30 }) ?? 30;
    this.refusePendingDeletion(key);
    key.state = 'PendingDeletion';
    key.deletionDate = Date.now() + days * DAY_MS;
    key.pendingWindowInDays = days;
    await this.store.save();
    return { KeyId: this.keyArn(key.keyId), DeletionDate: seconds(key.deletionDate), KeyState: key.state, PendingWindowInDays: days };
  }

  private async cancelKeyDeletion(input: Input): Promise<Response> {
    const key = this.resolve(input.requiredString('KeyId', { max: 2048 }));
    if (key.state !== 'PendingDeletion') {
      throw kmsError('KMSInvalidStateException', `${this.keyArn(key.keyId)} is not pending deletion (current state: ${key.state}).`);
    }
    // AWS leaves a rescued key disabled, so whoever cancels decides deliberately to use it again.
    key.state = key.material ? 'Disabled' : 'PendingImport';
    delete key.deletionDate;
    delete key.pendingWindowInDays;
    await this.store.save();
    return { KeyId: this.keyArn(key.keyId) };
  }

  // ---- aliases ----------------------------------------------------------------------------------

  private async createAlias(input: Input): Promise<Response> {
    const name = this.aliasName(input.requiredString('AliasName', { max: 256 }));
    const key = this.aliasTarget(input.requiredString('TargetKeyId', { max: 2048 }));
    if (this.store.aliases.has(name)) {
      throw kmsError('AlreadyExistsException', `An alias with the name ${this.aliasArn(name)} already exists`);
    }
    const now = Date.now();
    this.store.aliases.set(name, { name, targetKeyId: key.keyId, createdAt: now, updatedAt: now });
    await this.store.save();
    return {};
  }

  private async updateAlias(input: Input): Promise<Response> {
    const name = this.aliasName(input.requiredString('AliasName', { max: 256 }));
    const alias = this.store.aliases.get(name);
    if (!alias) throw kmsError('NotFoundException', `Alias ${this.aliasArn(name)} is not found.`);
    const key = this.aliasTarget(input.requiredString('TargetKeyId', { max: 2048 }));
    const current = this.store.keys.get(alias.targetKeyId);
    // AWS only lets an alias move between keys of the same type and usage, so code using the alias
    // never finds itself holding a signing key where it expected an encryption key.
    if (current && (typeOf(current) !== typeOf(key) || current.keyUsage !== key.keyUsage)) {
      throw kmsError(
        'ValidationException',
        `${this.keyArn(key.keyId)} (${key.keySpec}, ${key.keyUsage}) is not the same type and key usage as the alias's current key (${current.keySpec}, ${current.keyUsage}).`,
      );
    }
    alias.targetKeyId = key.keyId;
    alias.updatedAt = Date.now();
    await this.store.save();
    return {};
  }

  private async deleteAlias(input: Input): Promise<Response> {
    const name = this.aliasName(input.requiredString('AliasName', { max: 256 }));
    if (!this.store.aliases.delete(name)) throw kmsError('NotFoundException', `Alias ${this.aliasArn(name)} is not found.`);
    await this.store.save();
    return {};
  }

  private listAliases(input: Input): Response {
    const limit = input.integer('Limit', { min: 1, max: 100 }) ?? 50;
    const keyIdMember = input.string('KeyId', { max: 2048 });
    const key = keyIdMember === undefined ? undefined : this.resolve(keyIdMember);
    const aliases = [...this.store.aliases.values()].filter((alias) => !key || alias.targetKeyId === key.keyId);
    const { items, nextMarker } = page(aliases, (alias) => alias.name, limit, input.string('Marker', { max: 1024 }));
    return {
      Aliases: items.map((alias: AliasRecord) => ({
        AliasName: alias.name,
        AliasArn: this.aliasArn(alias.name),
        TargetKeyId: alias.targetKeyId,
        CreationDate: seconds(alias.createdAt),
        LastUpdatedDate: seconds(alias.updatedAt),
      })),
      Truncated: nextMarker !== undefined,
      ...(nextMarker ? { NextMarker: nextMarker } : {}),
    };
  }

  private aliasName(name: string): string {
    if (!name.startsWith('alias/')) throw kmsError('InvalidAliasNameException', `Alias ${name} must begin with "alias/".`);
    if (name.startsWith('alias/aws/')) {
      throw kmsError('InvalidAliasNameException', `Alias ${name} uses the prefix "alias/aws/", which is reserved for AWS managed keys.`);
    }
    if (!ALIAS_NAME.test(name)) {
      throw kmsError('InvalidAliasNameException', `Alias ${name} may contain only letters, digits, "/", "_" and "-" after "alias/".`);
    }
    return name;
  }

  /** An alias points at a key, never at another alias, and never at a key on its way out. */
  private aliasTarget(targetKeyId: string): KeyRecord {
    if (targetKeyId.startsWith('alias/') || /^arn:[^:]+:kms:[^:]*:[^:]*:alias\//.test(targetKeyId)) {
      throw kmsError('ValidationException', 'TargetKeyId must be a key ID or key ARN, not an alias.');
    }
    const key = this.resolve(targetKeyId);
    this.refusePendingDeletion(key);
    return key;
  }

  // ---- tags -------------------------------------------------------------------------------------

  private async tagResource(input: Input): Promise<Response> {
    const key = this.resolve(input.requiredString('KeyId', { max: 2048 }));
    const tags = parseTags(input.list('Tags') ?? missingList('Tags'));
    this.refusePendingDeletion(key);
    key.tags = mergeTags(key.tags, tags);
    await this.store.save();
    return {};
  }

  private async untagResource(input: Input): Promise<Response> {
    const key = this.resolve(input.requiredString('KeyId', { max: 2048 }));
    const tagKeys = input.stringList('TagKeys') ?? missingList('TagKeys');
    this.refusePendingDeletion(key);
    key.tags = key.tags.filter((tag) => !tagKeys.includes(tag.TagKey));
    await this.store.save();
    return {};
  }

  private listResourceTags(input: Input): Response {
    const key = this.resolve(input.requiredString('KeyId', { max: 2048 }));
    const limit = input.integer('Limit', { min: 1, max: 50 }) ?? 50;
    const { items, nextMarker } = page(key.tags, (tag) => tag.TagKey, limit, input.string('Marker', { max: 1024 }));
    return { Tags: items, Truncated: nextMarker !== undefined, ...(nextMarker ? { NextMarker: nextMarker } : {}) };
  }

  // ---- symmetric and RSA encryption -------------------------------------------------------------

  private generateDataKey(input: Input, withPlaintext: boolean): Response {
    const key = this.resolve(input.requiredString('KeyId', { max: 2048 }));
    const numberOfBytes = input.integer('NumberOfBytes', { min: 1, max: 1024 });
    const keySpec = input.enumeration('KeySpec', ['AES_256', 'AES_128'] as const);
    const context = input.stringMap('EncryptionContext');
    this.refuseRecipient(input);
    if ((numberOfBytes === undefined) === (keySpec === undefined)) {
      throw kmsError('ValidationException', 'Specify either NumberOfBytes or KeySpec, but not both.');
    }
    this.requireUsable(key);
    if (SPECS[key.keySpec].kind !== 'symmetric') {
      throw kmsError('InvalidKeyUsageException', `${this.keyArn(key.keyId)} is an asymmetric key; data keys need a symmetric encryption key.`);
    }
    const plaintext = randomBytes(numberOfBytes ?? (keySpec === 'AES_128' ? 16 : 32));
    const ciphertext = sealBlob(key.keyId, this.store.openMaterial(key), plaintext, context);
    this.dryRun(input);
    return { CiphertextBlob: ciphertext, ...(withPlaintext ? { Plaintext: plaintext } : {}), KeyId: this.keyArn(key.keyId) };
  }

  private encrypt(input: Input): Response {
    const key = this.resolve(input.requiredString('KeyId', { max: 2048 }));
    const plaintext = input.requiredBlob('Plaintext', { max: MAX_PLAINTEXT });
    const context = input.stringMap('EncryptionContext');
    const algorithm = input.enumeration('EncryptionAlgorithm', ALL_ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
    const ciphertext = this.encryptWith(key, plaintext, context, algorithm);
    this.dryRun(input);
    return { CiphertextBlob: ciphertext, KeyId: this.keyArn(key.keyId), EncryptionAlgorithm: algorithm };
  }

  private decrypt(input: Input): Response {
    const ciphertext = input.requiredBlob('CiphertextBlob', { max: MAX_CIPHERTEXT });
    const context = input.stringMap('EncryptionContext');
    const keyIdMember = input.string('KeyId', { max: 2048 });
    const algorithm = input.enumeration('EncryptionAlgorithm', ALL_ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
    this.refuseRecipient(input);
    const { key, plaintext } = this.decryptWith(ciphertext, context, keyIdMember, algorithm);
    this.dryRun(input);
    return { KeyId: this.keyArn(key.keyId), Plaintext: plaintext, EncryptionAlgorithm: algorithm };
  }

  private reEncrypt(input: Input): Response {
    const ciphertext = input.requiredBlob('CiphertextBlob', { max: MAX_CIPHERTEXT });
    const sourceContext = input.stringMap('SourceEncryptionContext');
    const sourceKeyId = input.string('SourceKeyId', { max: 2048 });
    const sourceAlgorithm = input.enumeration('SourceEncryptionAlgorithm', ALL_ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
    const destination = this.resolve(input.requiredString('DestinationKeyId', { max: 2048 }));
    const destinationContext = input.stringMap('DestinationEncryptionContext');
    const destinationAlgorithm = input.enumeration('DestinationEncryptionAlgorithm', ALL_ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
    const source = this.decryptWith(ciphertext, sourceContext, sourceKeyId, sourceAlgorithm);
    const reencrypted = this.encryptWith(destination, source.plaintext, destinationContext, destinationAlgorithm);
    this.dryRun(input);
    return {
      CiphertextBlob: reencrypted,
      SourceKeyId: this.keyArn(source.key.keyId),
      KeyId: this.keyArn(destination.keyId),
      SourceEncryptionAlgorithm: sourceAlgorithm,
      DestinationEncryptionAlgorithm: destinationAlgorithm,
    };
  }

  private encryptWith(key: KeyRecord, plaintext: Buffer, context: Record<string, string> | undefined, algorithm: string): Buffer {
    this.requireUsable(key);
    const encryptionAlgorithm = this.requireEncryptionAlgorithm(key, algorithm);
    if (encryptionAlgorithm === 'SYMMETRIC_DEFAULT') return sealBlob(key.keyId, this.store.openMaterial(key), plaintext, context);
    refuseAsymmetricContext(context);
    const spec = SPECS[key.keySpec];
    const limit = rsaOaepPlaintextLimit(spec.kind === 'rsa' ? spec.modulusBits : 0, encryptionAlgorithm);
    if (plaintext.length > limit) {
      throw kmsError('ValidationException', `Plaintext is ${plaintext.length} bytes; ${key.keySpec} with ${encryptionAlgorithm} encrypts at most ${limit}.`);
    }
    return publicEncrypt(
      { key: createPublicKey(this.privateKey(key)), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(encryptionAlgorithm) },
      plaintext,
    );
  }

  private decryptWith(
    ciphertext: Buffer,
    context: Record<string, string> | undefined,
    keyIdMember: string | undefined,
    algorithm: string,
  ): { key: KeyRecord; plaintext: Buffer } {
    if (algorithm !== 'SYMMETRIC_DEFAULT') {
      // An RSA ciphertext carries no key id: the caller has to say which key made it.
      if (keyIdMember === undefined) throw kmsError('ValidationException', `KeyId is required to decrypt with ${algorithm}.`);
      const key = this.resolve(keyIdMember);
      this.requireUsable(key);
      const encryptionAlgorithm = this.requireEncryptionAlgorithm(key, algorithm);
      refuseAsymmetricContext(context);
      try {
        const plaintext = privateDecrypt(
          { key: this.privateKey(key), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(encryptionAlgorithm) },
          ciphertext,
        );
        return { key, plaintext };
      } catch {
        throw kmsError('InvalidCiphertextException', `The ciphertext could not be decrypted with ${this.keyArn(key.keyId)} and ${algorithm}.`);
      }
    }
    const requested = keyIdMember === undefined ? undefined : this.resolve(keyIdMember);
    if (requested) this.requireEncryptionAlgorithm(requested, algorithm);
    const owner = blobKeyId(ciphertext);
    if (owner === undefined) throw kmsError('InvalidCiphertextException', 'The ciphertext is not a KMS ciphertext blob.');
    if (requested && requested.keyId !== owner) {
      throw kmsError('IncorrectKeyException', 'The key ID in the request does not identify the KMS key that encrypted the ciphertext.');
    }
    const key = requested ?? this.store.keys.get(owner);
    if (!key) throw kmsError('NotFoundException', `Key '${this.keyArn(owner)}' does not exist`);
    this.requireUsable(key);
    this.requireEncryptionAlgorithm(key, algorithm);
    return { key, plaintext: openBlob(this.store.openMaterial(key), ciphertext, context) };
  }

  private requireEncryptionAlgorithm(key: KeyRecord, algorithm: string): EncryptionAlgorithm {
    const allowed = encryptionAlgorithmsFor(key.keySpec, key.keyUsage);
    if (!allowed) {
      throw kmsError('InvalidKeyUsageException', `${this.keyArn(key.keyId)} key usage is ${key.keyUsage}, which is not valid for encryption.`);
    }
    if (!(allowed as string[]).includes(algorithm)) {
      throw kmsError('InvalidKeyUsageException', `Encryption algorithm ${algorithm} is not valid for ${this.keyArn(key.keyId)} (${key.keySpec}).`);
    }
    return algorithm as EncryptionAlgorithm;
  }

  private generateRandom(input: Input): Response {
    const numberOfBytes = input.integer('NumberOfBytes', { min: 1, max: 1024 });
    if (input.has('CustomKeyStoreId')) throw kmsError('UnsupportedOperationException', 'The local KMS has no custom key stores.');
    this.refuseRecipient(input);
    if (numberOfBytes === undefined) throw validationError('NumberOfBytes', 'Member must not be null');
    return { Plaintext: randomBytes(numberOfBytes) };
  }

  // ---- asymmetric keys --------------------------------------------------------------------------

  private getPublicKey(input: Input): Response {
    const key = this.resolve(input.requiredString('KeyId', { max: 2048 }));
    this.requireUsable(key);
    if (SPECS[key.keySpec].kind === 'symmetric') {
      throw kmsError('UnsupportedOperationException', `${this.keyArn(key.keyId)} is a symmetric key; it has no public key.`);
    }
    const encryption = encryptionAlgorithmsFor(key.keySpec, key.keyUsage);
    const signing = signingAlgorithmsFor(key.keySpec, key.keyUsage);
    return {
      KeyId: this.keyArn(key.keyId),
      PublicKey: createPublicKey(this.privateKey(key)).export({ format: 'der', type: 'spki' }),
      CustomerMasterKeySpec: key.keySpec,
      KeySpec: key.keySpec,
      KeyUsage: key.keyUsage,
      ...(encryption ? { EncryptionAlgorithms: encryption } : {}),
      ...(signing ? { SigningAlgorithms: signing } : {}),
    };
  }

  private sign(input: Input): Response {
    const { key, algorithm, message, messageType } = this.signingRequest(input);
    const signature = signMessage(this.privateKey(key), algorithm, message, messageType);
    this.dryRun(input);
    return { KeyId: this.keyArn(key.keyId), Signature: signature, SigningAlgorithm: algorithm };
  }

  private verify(input: Input): Response {
    const { key, algorithm, message, messageType } = this.signingRequest(input);
    const signature = input.requiredBlob('Signature', { max: MAX_CIPHERTEXT });
    const valid = verifySignature(createPublicKey(this.privateKey(key)), algorithm, message, messageType, signature);
    if (!valid) throw kmsError('KMSInvalidSignatureException', 'The signature is not valid for this message, key and signing algorithm.');
    this.dryRun(input);
    return { KeyId: this.keyArn(key.keyId), SignatureValid: true, SigningAlgorithm: algorithm };
  }

  private signingRequest(input: Input): { key: KeyRecord; algorithm: SigningAlgorithm; message: Buffer; messageType: MessageType } {
    const key = this.resolve(input.requiredString('KeyId', { max: 2048 }));
    const message = input.requiredBlob('Message', { max: MAX_PLAINTEXT });
    const messageType = input.enumeration('MessageType', ['RAW', 'DIGEST', 'EXTERNAL_MU'] as const) ?? 'RAW';
    const requested = input.enumeration('SigningAlgorithm', ALL_SIGNING_ALGORITHMS);
    if (requested === undefined) throw validationError('SigningAlgorithm', 'Member must not be null');
    if (messageType === 'EXTERNAL_MU') throw kmsError('ValidationException', 'MessageType EXTERNAL_MU is only valid for ML-DSA keys.');
    this.requireUsable(key);
    const allowed = signingAlgorithmsFor(key.keySpec, key.keyUsage);
    if (!allowed) {
      throw kmsError('InvalidKeyUsageException', `${this.keyArn(key.keyId)} key usage is ${key.keyUsage}, which is not valid for signing.`);
    }
    if (!(allowed as string[]).includes(requested) || !(SIGNING_ALGORITHMS as readonly string[]).includes(requested)) {
      throw kmsError('InvalidKeyUsageException', `Signing algorithm ${requested} is not valid for ${this.keyArn(key.keyId)} (${key.keySpec}).`);
    }
    const algorithm = requested as SigningAlgorithm;
    const digestLength = SIGNING[algorithm].digestLength;
    if (messageType === 'DIGEST' && message.length !== digestLength) {
      throw kmsError('ValidationException', `Digest is ${message.length} bytes; ${algorithm} needs a ${digestLength}-byte digest.`);
    }
    return { key, algorithm, message, messageType };
  }

  // ---- imported key material --------------------------------------------------------------------

  private async getParametersForImport(input: Input): Promise<Response> {
    const key = this.resolve(input.requiredString('KeyId', { max: 2048 }));
    const algorithm = input.enumeration('WrappingAlgorithm', ALL_WRAPPING_ALGORITHMS);
    const wrappingKeySpec = input.enumeration('WrappingKeySpec', ALL_WRAPPING_KEY_SPECS);
    if (algorithm === undefined) throw validationError('WrappingAlgorithm', 'Member must not be null');
    if (wrappingKeySpec === undefined) throw validationError('WrappingKeySpec', 'Member must not be null');
    if (!(WRAPPING_ALGORITHMS as readonly string[]).includes(algorithm) || wrappingKeySpec === 'SM2') {
      throw kmsError('UnsupportedOperationException', `The local KMS does not implement ${algorithm} with ${wrappingKeySpec}.`);
    }
    this.requireExternal(key);
    this.refusePendingDeletion(key);
    const parameters = await createImportParameters(
      this.store,
      key.keyId,
      algorithm as WrappingAlgorithm,
      wrappingKeySpec as WrappingKeySpec,
      Date.now(),
    );
    return {
      KeyId: this.keyArn(key.keyId),
      ImportToken: parameters.importToken,
      PublicKey: parameters.publicKey,
      ParametersValidTo: seconds(parameters.validTo),
    };
  }

  private async importKeyMaterial(input: Input): Promise<Response> {
    const key = this.resolve(input.requiredString('KeyId', { max: 2048 }));
    const importToken = input.requiredBlob('ImportToken', { max: MAX_CIPHERTEXT });
    const encrypted = input.requiredBlob('EncryptedKeyMaterial', { max: MAX_CIPHERTEXT });
    const validTo = input.timestamp('ValidTo');
    const expirationModel: ExpirationModel =
      input.enumeration('ExpirationModel', ['KEY_MATERIAL_EXPIRES', 'KEY_MATERIAL_DOES_NOT_EXPIRE'] as const) ?? 'KEY_MATERIAL_EXPIRES';
    const importType = input.enumeration('ImportType', ['EXISTING_KEY_MATERIAL', 'NEW_KEY_MATERIAL'] as const);
    input.string('KeyMaterialDescription', { min: 0, max: 256 });
    input.string('KeyMaterialId', { max: 64 });
    this.requireExternal(key);
    this.refusePendingDeletion(key);
    if (importType === 'NEW_KEY_MATERIAL' && key.material) {
      throw kmsError('UnsupportedOperationException', 'The local KMS does not implement rotation of imported key material.');
    }
    const now = Date.now();
    if (expirationModel === 'KEY_MATERIAL_EXPIRES') {
      if (validTo === undefined) throw kmsError('ValidationException', 'ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES.');
      if (validTo <= now || validTo > now + 365 * DAY_MS) {
        throw kmsError('ValidationException', 'ValidTo must be in the future and at most 365 days from now.');
      }
    } else if (validTo !== undefined) {
      throw kmsError('ValidationException', 'ValidTo must be omitted when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE.');
    }
    const material = normalizeKeyMaterial(key.keySpec, unwrapKeyMaterial(this.store, key.keyId, importToken, encrypted, now));
    if (key.material && !sameKeyMaterial(key.keySpec, this.store.openMaterial(key), material)) {
      throw kmsError('IncorrectKeyMaterialException', `The key material is not the material previously imported into ${this.keyArn(key.keyId)}.`);
    }
    key.material = this.store.sealMaterial(key.keyId, material);
    key.expirationModel = expirationModel;
    if (validTo === undefined) delete key.validTo;
    else key.validTo = validTo;
    if (key.state === 'PendingImport') key.state = 'Enabled';
    await this.store.save();
    return { KeyId: this.keyArn(key.keyId) };
  }

  private async deleteImportedKeyMaterial(input: Input): Promise<Response> {
    const key = this.resolve(input.requiredString('KeyId', { max: 2048 }));
    input.string('KeyMaterialId', { max: 64 });
    this.requireExternal(key);
    delete key.material;
    delete key.expirationModel;
    delete key.validTo;
    if (key.state !== 'PendingDeletion') key.state = 'PendingImport';
    await this.store.save();
    return { KeyId: this.keyArn(key.keyId) };
  }

  private requireExternal(key: KeyRecord): void {
    if (key.origin !== 'EXTERNAL') {
      throw kmsError('UnsupportedOperationException', `${this.keyArn(key.keyId)} has origin ${key.origin}; only EXTERNAL keys take imported key material.`);
    }
  }

  // ---- shared -----------------------------------------------------------------------------------

  /** Any KeyId member: key id, key ARN, alias name or alias ARN, as KMS accepts them. */
  private resolve(identifier: string): KeyRecord {
    let target = identifier;
    if (identifier.startsWith('arn:')) {
      const [, partition, service, region, account, ...rest] = identifier.split(':');
      const resource = rest.join(':');
      if (partition !== 'aws' || service !== 'kms' || region !== this.region || account !== this.accountId) {
        throw kmsError('NotFoundException', `Invalid arn ${identifier}: not a KMS resource in ${this.region}/${this.accountId}.`);
      }
      if (resource.startsWith('key/')) target = resource.slice('key/'.length);
      else if (resource.startsWith('alias/')) target = resource;
      else throw kmsError('NotFoundException', `Invalid arn ${identifier}`);
    }
    if (target.startsWith('alias/')) {
      const alias = this.store.aliases.get(target);
      const key = alias && this.store.keys.get(alias.targetKeyId);
      if (!key) throw kmsError('NotFoundException', `Alias ${this.aliasArn(target)} is not found.`);
      return key;
    }
    const key = this.store.keys.get(target);
    if (!key) throw kmsError('NotFoundException', `Key '${this.keyArn(target)}' does not exist`);
    return key;
  }

  /** The key-state rules KMS applies to every cryptographic operation. */
  private requireUsable(key: KeyRecord): void {
    const arn = this.keyArn(key.keyId);
    if (key.state === 'Disabled') throw kmsError('DisabledException', `${arn} is disabled.`);
    if (key.state === 'PendingDeletion') throw kmsError('KMSInvalidStateException', `${arn} is pending deletion.`);
    if (key.state === 'PendingImport' || !key.material) throw kmsError('KMSInvalidStateException', `${arn} is pending import.`);
  }

  private refusePendingDeletion(key: KeyRecord): void {
    if (key.state === 'PendingDeletion') throw kmsError('KMSInvalidStateException', `${this.keyArn(key.keyId)} is pending deletion.`);
  }

  private refuseRecipient(input: Input): void {
    if (input.has('Recipient')) {
      throw kmsError('UnsupportedOperationException', 'The local KMS does not implement Nitro Enclaves attestation (Recipient).');
    }
  }

  /** DryRun answers as KMS does once everything has been checked: with an error, not a result. */
  private dryRun(input: Input): void {
    if (input.boolean('DryRun')) {
      throw new KmsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.', 412);
    }
  }

  private privateKey(key: KeyRecord): KeyObject {
    return createPrivateKey({ key: this.store.openMaterial(key), format: 'der', type: 'pkcs8' });
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

  private metadata(key: KeyRecord): Response {
    const encryption = encryptionAlgorithmsFor(key.keySpec, key.keyUsage);
    const signing = signingAlgorithmsFor(key.keySpec, key.keyUsage);
    return {
      AWSAccountId: this.accountId,
      KeyId: key.keyId,
      Arn: this.keyArn(key.keyId),
      CreationDate: seconds(key.createdAt),
      Enabled: key.state === 'Enabled',
      Description: key.description,
      KeyUsage: key.keyUsage,
      KeyState: key.state,
      ...(key.deletionDate !== undefined ? { DeletionDate: seconds(key.deletionDate) } : {}),
      ...(key.validTo !== undefined ? { ValidTo: seconds(key.validTo) } : {}),
      Origin: key.origin,
      ...(key.origin === 'EXTERNAL' && key.expirationModel ? { ExpirationModel: key.expirationModel } : {}),
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: key.keySpec,
      KeySpec: key.keySpec,
      ...(encryption ? { EncryptionAlgorithms: encryption } : {}),
      ...(signing ? { SigningAlgorithms: signing } : {}),
      MultiRegion: false,
      ...(key.pendingWindowInDays !== undefined ? { PendingDeletionWindowInDays: key.pendingWindowInDays } : {}),
    };
  }

  private keyArn(keyId: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`;
  }

  private aliasArn(name: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:${name}`;
  }
}

async function generateMaterial(keySpec: KeySpec): Promise<Buffer> {
  const spec = SPECS[keySpec];
  if (spec.kind === 'symmetric') return randomBytes(32);
  const { privateKey } =
    spec.kind === 'rsa'
      ? await generateKeyPairAsync('rsa', { modulusLength: spec.modulusBits, publicExponent: 0x10001 })
      : await generateKeyPairAsync('ec', { namedCurve: spec.curve });
  return privateKey.export({ format: 'der', type: 'pkcs8' });
}

function oneOf<T extends string>(member: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw validationError(member, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  }
  return value as T;
}

function oaepHash(algorithm: EncryptionAlgorithm): 'sha1' | 'sha256' {
  return algorithm === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256';
}

/** The encryption context is a symmetric-key feature: RSA-OAEP has nowhere to bind it. */
function refuseAsymmetricContext(context: Record<string, string> | undefined): void {
  if (context && Object.keys(context).length > 0) {
    throw kmsError('ValidationException', 'EncryptionContext is not supported with asymmetric KMS keys.');
  }
}

function typeOf(key: KeyRecord): 'symmetric' | 'asymmetric' {
  return SPECS[key.keySpec].kind === 'symmetric' ? 'symmetric' : 'asymmetric';
}

function parseTags(list: unknown[]): Tag[] {
  return list.map((entry) => {
    const tag = entry as Partial<Record<'TagKey' | 'TagValue', unknown>> | null;
    if (!tag || typeof tag !== 'object' || typeof tag.TagKey !== 'string' || typeof tag.TagValue !== 'string') {
      throw kmsError('SerializationException', 'Each tag must be an object with string TagKey and TagValue.');
    }
    if (tag.TagKey.length < 1 || tag.TagKey.length > 128 || tag.TagValue.length > 256) {
      throw kmsError('TagException', 'Tag keys must be 1-128 characters and tag values at most 256.');
    }
    if (tag.TagKey.startsWith('aws:')) throw kmsError('TagException', 'Tag keys beginning with "aws:" are reserved.');
    return { TagKey: tag.TagKey, TagValue: tag.TagValue };
  });
}

function mergeTags(current: Tag[], added: Tag[]): Tag[] {
  const merged = new Map(current.map((tag) => [tag.TagKey, tag.TagValue]));
  for (const tag of added) merged.set(tag.TagKey, tag.TagValue);
  if (merged.size > MAX_TAGS) throw kmsError('TagException', `A KMS key can have at most ${MAX_TAGS} tags.`);
  return [...merged].map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
}

function missingList(member: string): never {
  throw validationError(member, 'Member must not be null');
}

/**
 * Marker paging over a sorted list. The marker is the sort key of the last item returned, so a page
 * boundary stays put when items before it are added or removed.
 */
function page<T>(all: T[], sortKey: (item: T) => string, limit: number, marker: string | undefined): { items: T[]; nextMarker?: string } {
  const sorted = [...all].sort((a, b) => compare(sortKey(a), sortKey(b)));
  let start = 0;
  if (marker !== undefined) {
    const after = /^[A-Za-z0-9_-]+$/.test(marker) ? Buffer.from(marker, 'base64url').toString('utf8') : '';
    if (!after) throw kmsError('InvalidMarkerException', 'The marker is not one this service returned.');
    start = sorted.findIndex((item) => compare(sortKey(item), after) > 0);
    if (start === -1) start = sorted.length;
  }
  const items = sorted.slice(start, start + limit);
  const last = items.at(-1);
  const truncated = start + limit < sorted.length && last !== undefined;
  return truncated ? { items, nextMarker: Buffer.from(sortKey(last), 'utf8').toString('base64url') } : { items };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function seconds(epochMs: number): number {
  return epochMs / 1000;
}
