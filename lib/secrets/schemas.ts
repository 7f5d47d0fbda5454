import * as z from 'zod/mini';
import { attributesInput, tagsInput } from '../objects/schemas.ts';

export const setSecretBody = z.object({
  value: z.string(),
  contentType: z.nullish(z.string()),
  attributes: z.nullish(attributesInput),
  tags: z.nullish(tagsInput),
});

export const updateSecretBody = z.object({
  contentType: z.nullish(z.string()),
  attributes: z.nullish(attributesInput),
  tags: z.nullish(tagsInput),
});

export const restoreSecretBody = z.object({ value: z.string().check(z.minLength(1)) });

export type SetSecretInput = z.infer<typeof setSecretBody>;
export type UpdateSecretInput = z.infer<typeof updateSecretBody>;
