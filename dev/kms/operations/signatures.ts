/** Asymmetric keys' public half, and signing and verifying with them (signing.ts does the crypto). */
import { createPublicKey } from 'node:crypto';
import { kmsError, validationError } from '../errors.ts';
import type { Input } from '../input.ts';
import { signMessage, verifySignature } from '../signing.ts';
import type { MessageType } from '../signing.ts';
import { ALL_SIGNING_ALGORITHMS, encryptionAlgorithmsFor, SIGNING, SIGNING_ALGORITHMS, SPECS, signingAlgorithmsFor } from '../specs.ts';
import type { SigningAlgorithm } from '../specs.ts';
import type { KeyRecord } from '../store.ts';
import { type KmsContext, MAX_CIPHERTEXT, MAX_PLAINTEXT, type Operations, type Response } from './context.ts';

export function signatureOperations(kms: KmsContext): Operations {
  return {
    GetPublicKey: (i) => getPublicKey(kms, i),
    Sign: (i) => sign(kms, i),
    Verify: (i) => verify(kms, i),
  };
}

function getPublicKey(kms: KmsContext, input: Input): Response {
  const key = kms.resolve(input.requiredString('KeyId', { max: 2048 }));
  kms.requireUsable(key);
  if (SPECS[key.keySpec].kind === 'symmetric') {
    throw kmsError('UnsupportedOperationException', `${kms.keyArn(key.keyId)} is a symmetric key; it has no public key.`);
  }
  const encryption = encryptionAlgorithmsFor(key.keySpec, key.keyUsage);
  const signing = signingAlgorithmsFor(key.keySpec, key.keyUsage);
  return {
    KeyId: kms.keyArn(key.keyId),
    PublicKey: createPublicKey(kms.privateKey(key)).export({ format: 'der', type: 'spki' }),
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    KeyUsage: key.keyUsage,
    ...(encryption ? { EncryptionAlgorithms: encryption } : {}),
    ...(signing ? { SigningAlgorithms: signing } : {}),
  };
}

function sign(kms: KmsContext, input: Input): Response {
  const { key, algorithm, message, messageType } = signingRequest(kms, input);
  const signature = signMessage(kms.privateKey(key), algorithm, message, messageType);
  kms.dryRun(input);
  return { KeyId: kms.keyArn(key.keyId), Signature: signature, SigningAlgorithm: algorithm };
}

function verify(kms: KmsContext, input: Input): Response {
  const { key, algorithm, message, messageType } = signingRequest(kms, input);
  const signature = input.requiredBlob('Signature', { max: MAX_CIPHERTEXT });
  const valid = verifySignature(createPublicKey(kms.privateKey(key)), algorithm, message, messageType, signature);
  if (!valid) throw kmsError('KMSInvalidSignatureException', 'The signature is not valid for this message, key and signing algorithm.');
  kms.dryRun(input);
  return { KeyId: kms.keyArn(key.keyId), SignatureValid: true, SigningAlgorithm: algorithm };
}

function signingRequest(kms: KmsContext, input: Input): { key: KeyRecord; algorithm: SigningAlgorithm; message: Buffer; messageType: MessageType } {
  const key = kms.resolve(input.requiredString('KeyId', { max: 2048 }));
  const message = input.requiredBlob('Message', { max: MAX_PLAINTEXT });
  const messageType = input.enumeration('MessageType', ['RAW', 'DIGEST', 'EXTERNAL_MU'] as const) ?? 'RAW';
  const requested = input.enumeration('SigningAlgorithm', ALL_SIGNING_ALGORITHMS);
  if (requested === undefined) throw validationError('SigningAlgorithm', 'Member must not be null');
  if (messageType === 'EXTERNAL_MU') throw kmsError('ValidationException', 'MessageType EXTERNAL_MU is only valid for ML-DSA keys.');
  kms.requireUsable(key);
  const allowed = signingAlgorithmsFor(key.keySpec, key.keyUsage);
  if (!allowed) {
    throw kmsError('InvalidKeyUsageException', `${kms.keyArn(key.keyId)} key usage is ${key.keyUsage}, which is not valid for signing.`);
  }
  if (!(allowed as string[]).includes(requested) || !(SIGNING_ALGORITHMS as readonly string[]).includes(requested)) {
    throw kmsError('InvalidKeyUsageException', `Signing algorithm ${requested} is not valid for ${kms.keyArn(key.keyId)} (${key.keySpec}).`);
  }
  const algorithm = requested as SigningAlgorithm;
  const digestLength = SIGNING[algorithm].digestLength;
  if (messageType === 'DIGEST' && message.length !== digestLength) {
    throw kmsError('ValidationException', `Digest is ${message.length} bytes; ${algorithm} needs a ${digestLength}-byte digest.`);
  }
  return { key, algorithm, message, messageType };
}
