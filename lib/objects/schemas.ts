import * as z from 'zod/mini';

/**
 * Request-body pieces shared by secrets, keys and certificates.
 *
 * IntDate is int64 seconds. Negative values are accepted on purpose: the JS SDK serializes dates with
 * `(ms / 1000) | 0`, so a date after 2038-01-19 reaches the service as a negative int32.
 *
 * Schemas use zod's functional API (`zod/mini`): same validation and issues as `zod`, but esbuild
 * keeps only the checks a bundle uses, about 63 KiB less per function (README, "Bundle budget").
 */
/** 9999-12-31T23:59:59Z, the latest IntDate the API carries; rotation-policy durations end by it too. */
export const LATEST_INT_DATE = 253402300799;
const intDate = z.number().check(z.int(), z.minimum(-62135596800), z.maximum(LATEST_INT_DATE));

/** `attributes` on writes: the read-only fields (created, updated, recoveryLevel...) are ignored. */
export const attributesInput = z.object({
  enabled: z.nullish(z.boolean()),
  nbf: z.nullish(intDate),
  exp: z.nullish(intDate),
});

export const tagsInput = z.record(z.string(), z.string());

export type AttributesInput = z.infer<typeof attributesInput>;
