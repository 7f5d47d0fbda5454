/** Keys with origin EXTERNAL: import parameters, importing their material, and deleting it again. */
import { kmsError, validationError } from '../errors.ts';
import { createImportParameters, normalizeKeyMaterial, sameKeyMaterial, unwrapKeyMaterial } from '../import.ts';
import type { Input } from '../input.ts';
import { ALL_WRAPPING_ALGORITHMS, ALL_WRAPPING_KEY_SPECS, WRAPPING_ALGORITHMS } from '../specs.ts';
import type { WrappingAlgorithm, WrappingKeySpec } from '../specs.ts';
import type { ExpirationModel, KeyRecord } from '../store.ts';
import { DAY_MS, type KmsContext, MAX_CIPHERTEXT, type Operations, type Response, seconds } from './context.ts';

export function keyMaterialImportOperations(kms: KmsContext): Operations {
  return {
    GetParametersForImport: (i) => getParametersForImport(kms, i),
    ImportKeyMaterial: (i) => importKeyMaterial(kms, i),
    DeleteImportedKeyMaterial: (i) => deleteImportedKeyMaterial(kms, i),
  };
}

async function getParametersForImport(kms: KmsContext, input: Input): Promise<Response> {
  const key = kms.resolve(input.requiredString('KeyId', { max: 2048 }));
  const algorithm = input.enumeration('WrappingAlgorithm', ALL_WRAPPING_ALGORITHMS);
  const wrappingKeySpec = input.enumeration('WrappingKeySpec', ALL_WRAPPING_KEY_SPECS);
  if (algorithm === undefined) throw validationError('WrappingAlgorithm', 'Member must not be null');
  if (wrappingKeySpec === undefined) throw validationError('WrappingKeySpec', 'Member must not be null');
  if (!(WRAPPING_ALGORITHMS as readonly string[]).includes(algorithm) || wrappingKeySpec === 'SM2') {
    throw kmsError('UnsupportedOperationException', `The local KMS does not implement ${algorithm} with ${wrappingKeySpec}.`);
  }
  requireExternal(kms, key);
  kms.refusePendingDeletion(key);
  const parameters = await createImportParameters(
    kms.store,
    key.keyId,
    algorithm as WrappingAlgorithm,
    wrappingKeySpec as WrappingKeySpec,
    Date.now(),
  );
  return {
    KeyId: kms.keyArn(key.keyId),
    ImportToken: parameters.importToken,
    PublicKey: parameters.publicKey,
    ParametersValidTo: seconds(parameters.validTo),
  };
}

async function importKeyMaterial(kms: KmsContext, input: Input): Promise<Response> {
  const key = kms.resolve(input.requiredString('KeyId', { max: 2048 }));
  const importToken = input.requiredBlob('ImportToken', { max: MAX_CIPHERTEXT });
  const encrypted = input.requiredBlob('EncryptedKeyMaterial', { max: MAX_CIPHERTEXT });
  const validTo = input.timestamp('ValidTo');
  const expirationModel: ExpirationModel =
    input.enumeration('ExpirationModel', ['KEY_MATERIAL_EXPIRES', 'KEY_MATERIAL_DOES_NOT_EXPIRE'] as const) ?? 'KEY_MATERIAL_EXPIRES';
  const importType = input.enumeration('ImportType', ['EXISTING_KEY_MATERIAL', 'NEW_KEY_MATERIAL'] as const);
  input.string('KeyMaterialDescription', { min: 0, max: 256 });
  input.string('KeyMaterialId', { max: 64 });
  requireExternal(kms, key);
  kms.refusePendingDeletion(key);
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
  const material = normalizeKeyMaterial(key.keySpec, unwrapKeyMaterial(kms.store, key.keyId, importToken, encrypted, now));
  if (key.material && !sameKeyMaterial(key.keySpec, kms.store.openMaterial(key), material)) {
    throw kmsError('IncorrectKeyMaterialException', `The key material is not the material previously imported into ${kms.keyArn(key.keyId)}.`);
  }
  key.material = kms.store.sealMaterial(key.keyId, material);
  key.expirationModel = expirationModel;
  if (validTo === undefined) delete key.validTo;
  else key.validTo = validTo;
  if (key.state === 'PendingImport') key.state = 'Enabled';
  await kms.store.save();
  return { KeyId: kms.keyArn(key.keyId) };
}

async function deleteImportedKeyMaterial(kms: KmsContext, input: Input): Promise<Response> {
  const key = kms.resolve(input.requiredString('KeyId', { max: 2048 }));
  input.string('KeyMaterialId', { max: 64 });
  requireExternal(kms, key);
  delete key.material;
  delete key.expirationModel;
  delete key.validTo;
  if (key.state !== 'PendingDeletion') key.state = 'PendingImport';
  await kms.store.save();
  return { KeyId: kms.keyArn(key.keyId) };
}

function requireExternal(kms: KmsContext, key: KeyRecord): void {
  if (key.origin !== 'EXTERNAL') {
    throw kmsError(
      'UnsupportedOperationException',
      `${kms.keyArn(key.keyId)} has origin ${key.origin}; only EXTERNAL keys take imported key material.`,
    );
  }
}
