import { BadParameter } from '../core/errors.ts';

/** Azure's limits on secrets (reference §1.1). */
const MAX_SECRET_VALUE_BYTES = 25_600;
const MAX_CONTENT_TYPE_LENGTH = 255;
export const SECRET_TAG_LIMITS = { maxTags: 15, maxLength: 512 };

export function assertSecretValue(value: string): void {
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_VALUE_BYTES) {
    throw new BadParameter(`Secret is beyond the maximum permitted length of ${MAX_SECRET_VALUE_BYTES} bytes.`);
  }
}

export function assertContentType(contentType: string | null | undefined): void {
  if (contentType != null && contentType.length > MAX_CONTENT_TYPE_LENGTH) {
    throw new BadParameter(`The content type is limited to ${MAX_CONTENT_TYPE_LENGTH} characters.`);
  }
}
