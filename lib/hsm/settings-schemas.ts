import * as z from 'zod/mini';

/** UpdateSettingRequest (settings.json): the value as a string, `true` or `false` for a boolean setting (lib/hsm/settings.ts words the 400). */
export const poolSettingUpdateRequest = z.object({ value: z.string().check(z.maxLength(64)) });
