/**
 * Data keys, encryption, decryption and re-encryption: symmetric keys seal KMS ciphertext blobs
 * (ciphertext.ts), RSA keys use OAEP. Also GenerateRandom, which needs no key.
 */
import { constants, createPublicKey, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { blobKeyId, openBlob, sealBlob } from '../ciphertext.ts';
import { kmsError, validationError } from '../errors.ts';
import type { Input } from '../input.ts';
import { ALL_ENCRYPTION_ALGORITHMS, encryptionAlgorithmsFor, rsaOaepPlaintextLimit, SPECS } from '../specs.ts';
import type { EncryptionAlgorithm } from '../specs.ts';
import type { KeyRecord } from '../store.ts';
import { type KmsContext, MAX_CIPHERTEXT, MAX_PLAINTEXT, type Operations, type Response } from './context.ts';

export function encryptionOperations(kms: KmsContext): Operations {
  return {
    GenerateDataKey: (i) => generateDataKey(kms, i, true),
    GenerateDataKeyWithoutPlaintext: (i) => generateDataKey(kms, i, false),
    Encrypt: (i) => encrypt(kms, i),
    Decrypt: (i) => decrypt(kms, i),
    ReEncrypt: (i) => reEncrypt(kms, i),
    GenerateRandom: (i) => generateRandom(kms, i),
  };
}

function generateDataKey(kms: KmsContext, input: Input, withPlaintext: boolean): Response {
  const key = kms.resolve(input.requiredString('KeyId', { max: 2048 }));
  const numberOfBytes = input.integer('NumberOfBytes', { min: 1, max: 1024 });
  const keySpec = input.enumeration('KeySpec', ['AES_256', 'AES_128'] as const);
  const context = input.stringMap('EncryptionContext');
  kms.refuseRecipient(input);
  if ((numberOfBytes === undefined) === (keySpec === undefined)) {
    throw kmsError('ValidationException', 'Specify either NumberOfBytes or KeySpec, but not both.');
  }
  kms.requireUsable(key);
  if (SPECS[key.keySpec].kind !== 'symmetric') {
    throw kmsError('InvalidKeyUsageException', `${kms.keyArn(key.keyId)} is an asymmetric key; data keys need a symmetric encryption key.`);
  }
  const plaintext = randomBytes(numberOfBytes ?? (keySpec === 'AES_128' ? 16 : 32));
  const ciphertext = sealBlob(key.keyId, kms.store.openMaterial(key), plaintext, context);
  kms.dryRun(input);
  return { CiphertextBlob: ciphertext, ...(withPlaintext ? { Plaintext: plaintext } : {}), KeyId: kms.keyArn(key.keyId) };
}

function encrypt(kms: KmsContext, input: Input): Response {
  const key = kms.resolve(input.requiredString('KeyId', { max: 2048 }));
  const plaintext = input.requiredBlob('Plaintext', { max: MAX_PLAINTEXT });
  const context = input.stringMap('EncryptionContext');
  const algorithm = input.enumeration('EncryptionAlgorithm', ALL_ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
  const ciphertext = encryptWith(kms, key, plaintext, context, algorithm);
  kms.dryRun(input);
  return { CiphertextBlob: ciphertext, KeyId: kms.keyArn(key.keyId), EncryptionAlgorithm: algorithm };
}

function decrypt(kms: KmsContext, input: Input): Response {
  const ciphertext = input.requiredBlob('CiphertextBlob', { max: MAX_CIPHERTEXT });
  const context = input.stringMap('EncryptionContext');
  const keyIdMember = input.string('KeyId', { max: 2048 });
  const algorithm = input.enumeration('EncryptionAlgorithm', ALL_ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
  kms.refuseRecipient(input);
  const { key, plaintext } = decryptWith(kms, ciphertext, context, keyIdMember, algorithm);
  kms.dryRun(input);
  return { KeyId: kms.keyArn(key.keyId), Plaintext: plaintext, EncryptionAlgorithm: algorithm };
}

function reEncrypt(kms: KmsContext, input: Input): Response {
  const ciphertext = input.requiredBlob('CiphertextBlob', { max: MAX_CIPHERTEXT });
  const sourceContext = input.stringMap('SourceEncryptionContext');
  const sourceKeyId = input.string('SourceKeyId', { max: 2048 });
  const sourceAlgorithm = input.enumeration('SourceEncryptionAlgorithm', ALL_ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
  const destination = kms.resolve(input.requiredString('DestinationKeyId', { max: 2048 }));
  const destinationContext = input.stringMap('DestinationEncryptionContext');
  const destinationAlgorithm = input.enumeration('DestinationEncryptionAlgorithm', ALL_ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
  const source = decryptWith(kms, ciphertext, sourceContext, sourceKeyId, sourceAlgorithm);
  const reencrypted = encryptWith(kms, destination, source.plaintext, destinationContext, destinationAlgorithm);
  kms.dryRun(input);
  return {
    CiphertextBlob: reencrypted,
    SourceKeyId: kms.keyArn(source.key.keyId),
    KeyId: kms.keyArn(destination.keyId),
    SourceEncryptionAlgorithm: sourceAlgorithm,
    DestinationEncryptionAlgorithm: destinationAlgorithm,
  };
}

function encryptWith(kms: KmsContext, key: KeyRecord, plaintext: Buffer, context: Record<string, string> | undefined, algorithm: string): Buffer {
  kms.requireUsable(key);
  const encryptionAlgorithm = requireEncryptionAlgorithm(kms, key, algorithm);
  if (encryptionAlgorithm === 'SYMMETRIC_DEFAULT') return sealBlob(key.keyId, kms.store.openMaterial(key), plaintext, context);
  refuseAsymmetricContext(context);
  const spec = SPECS[key.keySpec];
  const limit = rsaOaepPlaintextLimit(spec.kind === 'rsa' ? spec.modulusBits : 0, encryptionAlgorithm);
  if (plaintext.length > limit) {
    throw kmsError(
      'ValidationException',
      `Plaintext is ${plaintext.length} bytes; ${key.keySpec} with ${encryptionAlgorithm} encrypts at most ${limit}.`,
    );
  }
  return publicEncrypt(
    { key: createPublicKey(kms.privateKey(key)), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(encryptionAlgorithm) },
    plaintext,
  );
}

function decryptWith(
  kms: KmsContext,
  ciphertext: Buffer,
  context: Record<string, string> | undefined,
  keyIdMember: string | undefined,
  algorithm: string,
): { key: KeyRecord; plaintext: Buffer } {
  if (algorithm !== 'SYMMETRIC_DEFAULT') {
    // An RSA ciphertext carries no key id: the caller has to say which key made it.
    if (keyIdMember === undefined) throw kmsError('ValidationException', `KeyId is required to decrypt with ${algorithm}.`);
    const key = kms.resolve(keyIdMember);
    kms.requireUsable(key);
    const encryptionAlgorithm = requireEncryptionAlgorithm(kms, key, algorithm);
    refuseAsymmetricContext(context);
    try {
      const plaintext = privateDecrypt(
        { key: kms.privateKey(key), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(encryptionAlgorithm) },
        ciphertext,
      );
      return { key, plaintext };
    } catch {
      throw kmsError('InvalidCiphertextException', `The ciphertext could not be decrypted with ${kms.keyArn(key.keyId)} and ${algorithm}.`);
    }
  }
  const requested = keyIdMember === undefined ? undefined : kms.resolve(keyIdMember);
  if (requested) requireEncryptionAlgorithm(kms, requested, algorithm);
  const owner = blobKeyId(ciphertext);
  if (owner === undefined) throw kmsError('InvalidCiphertextException', 'The ciphertext is not a KMS ciphertext blob.');
  if (requested && requested.keyId !== owner) {
    throw kmsError('IncorrectKeyException', 'The key ID in the request does not identify the KMS key that encrypted the ciphertext.');
  }
  const key = requested ?? kms.store.keys.get(owner);
  if (!key) throw kmsError('NotFoundException', `Key '${kms.keyArn(owner)}' does not exist`);
  kms.requireUsable(key);
  requireEncryptionAlgorithm(kms, key, algorithm);
  return { key, plaintext: openBlob(kms.store.openMaterial(key), ciphertext, context) };
}

function requireEncryptionAlgorithm(kms: KmsContext, key: KeyRecord, algorithm: string): EncryptionAlgorithm {
  const allowed = encryptionAlgorithmsFor(key.keySpec, key.keyUsage);
  if (!allowed) {
    throw kmsError('InvalidKeyUsageException', `${kms.keyArn(key.keyId)} key usage is ${key.keyUsage}, which is not valid for encryption.`);
  }
  if (!(allowed as string[]).includes(algorithm)) {
    throw kmsError('InvalidKeyUsageException', `Encryption algorithm ${algorithm} is not valid for ${kms.keyArn(key.keyId)} (${key.keySpec}).`);
  }
  return algorithm as EncryptionAlgorithm;
}

function generateRandom(kms: KmsContext, input: Input): Response {
  const numberOfBytes = input.integer('NumberOfBytes', { min: 1, max: 1024 });
  if (input.has('CustomKeyStoreId')) throw kmsError('UnsupportedOperationException', 'The local KMS has no custom key stores.');
  kms.refuseRecipient(input);
  if (numberOfBytes === undefined) throw validationError('NumberOfBytes', 'Member must not be null');
  return { Plaintext: randomBytes(numberOfBytes) };
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
