import * as z from 'zod';
import { attributesInput, tagsInput } from '../objects/schemas.ts';

export const setSecretBody = z.object({
  value: z.string(),
  contentType: z.string().nullish(),
  attributes: attributesInput.nullish(),
  tags: tagsInput.nullish(),
});

export const updateSecretBody = z.object({
  contentType: z.string().nullish(),
  attributes: attributesInput.nullish(),
  tags: tagsInput.nullish(),
});

export const restoreSecretBody = z.object({ value: z.string().min(1) });

export type SetSecretInput = z.infer<typeof setSecretBody>;
export type UpdateSecretInput = z.infer<typeof updateSecretBody>;
