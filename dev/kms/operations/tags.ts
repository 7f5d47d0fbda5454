/** A key's tags: at most 50, none under the reserved `aws:` prefix. */
import { kmsError, validationError } from '../errors.ts';
import type { Input } from '../input.ts';
import type { Tag } from '../store.ts';
import { type KmsContext, type Operations, page, type Response } from './context.ts';

const MAX_TAGS = 50;

export function tagOperations(kms: KmsContext): Operations {
  return {
    TagResource: (i) => tagResource(kms, i),
    UntagResource: (i) => untagResource(kms, i),
    ListResourceTags: (i) => listResourceTags(kms, i),
  };
}

async function tagResource(kms: KmsContext, input: Input): Promise<Response> {
  const key = kms.resolve(input.requiredString('KeyId', { max: 2048 }));
  const tags = parseTags(input.list('Tags') ?? missingList('Tags'));
  kms.refusePendingDeletion(key);
  key.tags = mergeTags(key.tags, tags);
  await kms.store.save();
  return {};
}

async function untagResource(kms: KmsContext, input: Input): Promise<Response> {
  const key = kms.resolve(input.requiredString('KeyId', { max: 2048 }));
  const tagKeys = input.stringList('TagKeys') ?? missingList('TagKeys');
  kms.refusePendingDeletion(key);
  key.tags = key.tags.filter((tag) => !tagKeys.includes(tag.TagKey));
  await kms.store.save();
  return {};
}

function listResourceTags(kms: KmsContext, input: Input): Response {
  const key = kms.resolve(input.requiredString('KeyId', { max: 2048 }));
  const limit = input.integer('Limit', { min: 1, max: 50 }) ?? 50;
  const { items, nextMarker } = page(key.tags, (tag) => tag.TagKey, limit, input.string('Marker', { max: 1024 }));
  return { Tags: items, Truncated: nextMarker !== undefined, ...(nextMarker ? { NextMarker: nextMarker } : {}) };
}

export function parseTags(list: unknown[]): Tag[] {
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

export function mergeTags(current: Tag[], added: Tag[]): Tag[] {
  const merged = new Map(current.map((tag) => [tag.TagKey, tag.TagValue]));
  for (const tag of added) merged.set(tag.TagKey, tag.TagValue);
  if (merged.size > MAX_TAGS) throw kmsError('TagException', `A KMS key can have at most ${MAX_TAGS} tags.`);
  return [...merged].map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
}

function missingList(member: string): never {
  throw validationError(member, 'Member must not be null');
}
