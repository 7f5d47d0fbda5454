/**
 * Creating, describing, listing, enabling and disabling keys, and scheduling or cancelling their
 * deletion (the deletion itself happens lazily, see LocalKmsService).
 */
import { generateKeyPair, randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { kmsError, validationError } from '../errors.ts';
import type { Input } from '../input.ts';
import { KEY_SPECS, KEY_USAGES, SPECS, UNIMPLEMENTED_KEY_SPECS, UNIMPLEMENTED_KEY_USAGES } from '../specs.ts';
import type { KeySpec } from '../specs.ts';
import type { KeyRecord, Origin } from '../store.ts';
import { DAY_MS, type KmsContext, type Operations, page, type Response, seconds } from './context.ts';
import { mergeTags, parseTags } from './tags.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

export function keyLifecycleOperations(kms: KmsContext): Operations {
  return {
    CreateKey: (i) => createKey(kms, i),
    DescribeKey: (i) => ({ KeyMetadata: kms.metadata(kms.resolve(i.requiredString('KeyId', { max: 2048 }))) }),
    ListKeys: (i) => listKeys(kms, i),
    UpdateKeyDescription: (i) => updateKeyDescription(kms, i),
    EnableKey: (i) => setEnabled(kms, i, true),
    DisableKey: (i) => setEnabled(kms, i, false),
    ScheduleKeyDeletion: (i) => scheduleKeyDeletion(kms, i),
    CancelKeyDeletion: (i) => cancelKeyDeletion(kms, i),
  };
}

async function createKey(kms: KmsContext, input: Input): Promise<Response> {
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
    ...(material ? { material: kms.store.sealMaterial(keyId, material) } : {}),
  };
  kms.store.keys.set(keyId, key);
  await kms.store.save();
  return { KeyMetadata: kms.metadata(key) };
}

function listKeys(kms: KmsContext, input: Input): Response {
  const limit = input.integer('Limit', { min: 1, max: 1000 }) ?? 100;
  const keys = [...kms.store.keys.values()].map((key) => ({ sort: `${String(key.createdAt).padStart(16, '0')}|${key.keyId}`, key }));
  const { items, nextMarker } = page(keys, (entry) => entry.sort, limit, input.string('Marker', { max: 1024 }));
  return {
    Keys: items.map(({ key }) => ({ KeyId: key.keyId, KeyArn: kms.keyArn(key.keyId) })),
    Truncated: nextMarker !== undefined,
    ...(nextMarker ? { NextMarker: nextMarker } : {}),
  };
}

async function updateKeyDescription(kms: KmsContext, input: Input): Promise<Response> {
  const key = kms.resolve(input.requiredString('KeyId', { max: 2048 }));
  const description = input.string('Description', { min: 0, max: 8192 });
  if (description === undefined) throw validationError('Description', 'Member must not be null');
  kms.refusePendingDeletion(key);
  key.description = description;
  await kms.store.save();
  return {};
}

async function setEnabled(kms: KmsContext, input: Input, enabled: boolean): Promise<Response> {
  const key = kms.resolve(input.requiredString('KeyId', { max: 2048 }));
  kms.refusePendingDeletion(key);
  if (key.state === 'PendingImport') throw kmsError('KMSInvalidStateException', `${kms.keyArn(key.keyId)} is pending import.`);
  key.state = enabled ? 'Enabled' : 'Disabled';
  await kms.store.save();
  return {};
}

async function scheduleKeyDeletion(kms: KmsContext, input: Input): Promise<Response> {
  const key = kms.resolve(input.requiredString('KeyId', { max: 2048 }));
  const days = input.integer('PendingWindowInDays', { min: 7, max: 30 }) ?? 30;
  kms.refusePendingDeletion(key);
  key.state = 'PendingDeletion';
  key.deletionDate = Date.now() + days * DAY_MS;
  key.pendingWindowInDays = days;
  await kms.store.save();
  return { KeyId: kms.keyArn(key.keyId), DeletionDate: seconds(key.deletionDate), KeyState: key.state, PendingWindowInDays: days };
}

async function cancelKeyDeletion(kms: KmsContext, input: Input): Promise<Response> {
  const key = kms.resolve(input.requiredString('KeyId', { max: 2048 }));
  if (key.state !== 'PendingDeletion') {
    throw kmsError('KMSInvalidStateException', `${kms.keyArn(key.keyId)} is not pending deletion (current state: ${key.state}).`);
  }
  // AWS leaves a rescued key disabled, so whoever cancels decides deliberately to use it again.
  key.state = key.material ? 'Disabled' : 'PendingImport';
  delete key.deletionDate;
  delete key.pendingWindowInDays;
  await kms.store.save();
  return { KeyId: kms.keyArn(key.keyId) };
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
