import * as z from 'zod';

/**
 * Request-body pieces shared by secrets, keys and certificates.
 *
 * IntDate is int64 seconds. Negative values are accepted on purpose: the JS SDK serializes dates with
 * `(ms / 1000) | 0`, so a date after 2038-01-19 reaches the service as a negative int32.
 */
const intDate = z.number().int().min(-62135596800).max(253402300799);

/** `attributes` on writes: the read-only fields (created, updated, recoveryLevel...) are ignored. */
export const attributesInput = z.object({
  enabled: z.boolean().nullish(),
  nbf: intDate.nullish(),
  exp: intDate.nullish(),
});

export const tagsInput = z.record(z.string(), z.string());

export type AttributesInput = z.infer<typeof attributesInput>;
