/** Aliases: names that point at one key, and may be moved to another key of the same type and usage. */
import { kmsError } from '../errors.ts';
import type { Input } from '../input.ts';
import { SPECS } from '../specs.ts';
import type { AliasRecord, KeyRecord } from '../store.ts';
import { type KmsContext, type Operations, page, type Response, seconds } from './context.ts';

const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]+$/;

export function aliasOperations(kms: KmsContext): Operations {
  return {
    CreateAlias: (i) => createAlias(kms, i),
    UpdateAlias: (i) => updateAlias(kms, i),
    DeleteAlias: (i) => deleteAlias(kms, i),
    ListAliases: (i) => listAliases(kms, i),
  };
}

async function createAlias(kms: KmsContext, input: Input): Promise<Response> {
  const name = aliasName(input.requiredString('AliasName', { max: 256 }));
  const key = aliasTarget(kms, input.requiredString('TargetKeyId', { max: 2048 }));
  if (kms.store.aliases.has(name)) {
    throw kmsError('AlreadyExistsException', `An alias with the name ${kms.aliasArn(name)} already exists`);
  }
  const now = Date.now();
  kms.store.aliases.set(name, { name, targetKeyId: key.keyId, createdAt: now, updatedAt: now });
  await kms.store.save();
  return {};
}

async function updateAlias(kms: KmsContext, input: Input): Promise<Response> {
  const name = aliasName(input.requiredString('AliasName', { max: 256 }));
  const alias = kms.store.aliases.get(name);
  if (!alias) throw kmsError('NotFoundException', `Alias ${kms.aliasArn(name)} is not found.`);
  const key = aliasTarget(kms, input.requiredString('TargetKeyId', { max: 2048 }));
  const current = kms.store.keys.get(alias.targetKeyId);
  // AWS only lets an alias move between keys of the same type and usage, so code using the alias
  // never finds itself holding a signing key where it expected an encryption key.
  if (current && (typeOf(current) !== typeOf(key) || current.keyUsage !== key.keyUsage)) {
    throw kmsError(
      'ValidationException',
      `${kms.keyArn(key.keyId)} (${key.keySpec}, ${key.keyUsage}) is not the same type and key usage as the alias's current key (${current.keySpec}, ${current.keyUsage}).`,
    );
  }
  alias.targetKeyId = key.keyId;
  alias.updatedAt = Date.now();
  await kms.store.save();
  return {};
}

async function deleteAlias(kms: KmsContext, input: Input): Promise<Response> {
  const name = aliasName(input.requiredString('AliasName', { max: 256 }));
  if (!kms.store.aliases.delete(name)) throw kmsError('NotFoundException', `Alias ${kms.aliasArn(name)} is not found.`);
  await kms.store.save();
  return {};
}

function listAliases(kms: KmsContext, input: Input): Response {
  const limit = input.integer('Limit', { min: 1, max: 100 }) ?? 50;
  const keyIdMember = input.string('KeyId', { max: 2048 });
  const key = keyIdMember === undefined ? undefined : kms.resolve(keyIdMember);
  const aliases = [...kms.store.aliases.values()].filter((alias) => !key || alias.targetKeyId === key.keyId);
  const { items, nextMarker } = page(aliases, (alias) => alias.name, limit, input.string('Marker', { max: 1024 }));
  return {
    Aliases: items.map((alias: AliasRecord) => ({
      AliasName: alias.name,
      AliasArn: kms.aliasArn(alias.name),
      TargetKeyId: alias.targetKeyId,
      CreationDate: seconds(alias.createdAt),
      LastUpdatedDate: seconds(alias.updatedAt),
    })),
    Truncated: nextMarker !== undefined,
    ...(nextMarker ? { NextMarker: nextMarker } : {}),
  };
}

function aliasName(name: string): string {
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
function aliasTarget(kms: KmsContext, targetKeyId: string): KeyRecord {
  if (targetKeyId.startsWith('alias/') || /^arn:[^:]+:kms:[^:]*:[^:]*:alias\//.test(targetKeyId)) {
    throw kmsError('ValidationException', 'TargetKeyId must be a key ID or key ARN, not an alias.');
  }
  const key = kms.resolve(targetKeyId);
  kms.refusePendingDeletion(key);
  return key;
}

function typeOf(key: KeyRecord): 'symmetric' | 'asymmetric' {
  return SPECS[key.keySpec].kind === 'symmetric' ? 'symmetric' : 'asymmetric';
}
