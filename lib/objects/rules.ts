import { randomUUID } from 'node:crypto';
import { BadParameter } from '../core/errors.ts';
import { invalidVersionMessage, VERSION_ID } from '../core/names.ts';
import type { AttributesInput } from './schemas.ts';
import type { ObjectAttributes } from './store.ts';

export { assertObjectName, printable } from '../core/names.ts';

/** Rules shared by secrets, keys and certificates (reference §0 and §1). */
export const MAX_VERSIONS_PER_BACKUP = 500;

/**
 * An empty version means the latest; anything else must look like a version we could have issued,
 * or it is refused before it reaches a store (an over-long one would exceed DynamoDB's key size).
 */
export function parseVersion(kind: string, version: string | undefined): string | undefined {
  if (version === undefined || version === '') return undefined;
  if (!VERSION_ID.test(version)) throw new BadParameter(invalidVersionMessage(kind));
  return version.toLowerCase();
}

export function newVersionId(): string {
  return randomUUID().replaceAll('-', '');
}

export interface TagLimits {
  maxTags: number;
  maxLength: number;
}

export function assertTags(tags: Record<string, string> | undefined, limits: TagLimits): void {
  if (!tags) return;
  const entries = Object.entries(tags);
  if (entries.length > limits.maxTags) throw new BadParameter(`Too many tags: at most ${limits.maxTags} are allowed.`);
  for (const [name, value] of entries) {
    if (name.length === 0) throw new BadParameter('Tag names must not be empty.');
    if (name.length > limits.maxLength) throw new BadParameter(`Tag names are limited to ${limits.maxLength} characters.`);
    if (value.length > limits.maxLength) throw new BadParameter(`Tag values are limited to ${limits.maxLength} characters.`);
  }
}

/** New attributes for a new version: enabled unless said otherwise, created = updated = now. */
export function createAttributes(input: AttributesInput | undefined, now: number): ObjectAttributes {
  const attributes: ObjectAttributes = { enabled: input?.enabled ?? true, created: now, updated: now };
  if (input?.nbf != null) attributes.nbf = input.nbf;
  if (input?.exp != null) attributes.exp = input.exp;
  return attributes;
}

/** PATCH semantics: fields present replace, fields absent stay; `null` clears nbf/exp. */
export function patchAttributes(current: ObjectAttributes, input: AttributesInput | undefined, now: number): ObjectAttributes {
  const next: ObjectAttributes = { ...current, updated: now };
  if (input) {
    if (input.enabled != null) next.enabled = input.enabled;
    if (input.nbf === null) delete next.nbf;
    else if (input.nbf !== undefined) next.nbf = input.nbf;
    if (input.exp === null) delete next.exp;
    else if (input.exp !== undefined) next.exp = input.exp;
  }
  return next;
}
