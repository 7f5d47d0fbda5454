import { z } from 'zod';

/** Request-body pieces shared by secrets, keys and certificates. */
const intDate = z.number().int().min(0).max(253402300799);

/** `attributes` on writes: the read-only fields (created, updated, recoveryLevel...) are ignored. */
export const attributesInput = z.object({
  enabled: z.boolean().nullish(),
  nbf: intDate.nullish(),
  exp: intDate.nullish(),
});

export const tagsInput = z.record(z.string(), z.string());
