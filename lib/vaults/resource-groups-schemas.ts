import * as z from 'zod/mini';

/** `PUT /subscriptions/{s}/resourcegroups/{rg}`: ARM's limits on tags are 512 characters a name, 256 a value. */
export const resourceGroupBody = z.object({
  location: z.optional(z.string()),
  tags: z.optional(z.record(z.string().check(z.maxLength(512)), z.string().check(z.maxLength(256)))),
  managedBy: z.optional(z.string()),
});

export type ResourceGroupBody = z.infer<typeof resourceGroupBody>;
