import * as z from 'zod/mini';
import { BadParameter } from '../core/errors.ts';
import { type Collection, KINDS } from '../core/kinds.ts';
import { invalidObjectNameMessage, OBJECT_NAME } from '../core/names.ts';

/**
 * The path-parameter schemas route rows name. A bad object name gets the domain's own message (the
 * same 400 whether the route or the domain catches it); the version is free-form, and empty or absent
 * means the latest.
 */
function objectName(collection: Collection) {
  const kind = KINDS[collection].kind.toLowerCase();
  const message = (issue: { input: unknown }) => invalidObjectNameMessage(kind, typeof issue.input === 'string' ? issue.input : '');
  return z.string({ error: message }).check(z.regex(OBJECT_NAME, { error: message }));
}

const version = z.pipe(
  z.optional(z.string()),
  z.transform((value: string | undefined) => (value === '' ? undefined : value)),
);

/** `{name}`: one object of the collection. */
export function namedObject(collection: Collection) {
  return z.object({ name: objectName(collection) });
}

/** `{name}/{version}`: one version of an object, or its latest when the version is empty. */
export function objectVersion(collection: Collection) {
  return z.object({ name: objectName(collection), version });
}

export interface PathParameters {
  name?: string;
  version?: string | undefined;
}

export type PathSchema = z.core.$ZodType<PathParameters, unknown>;

export function parsePathParameters<T>(schema: z.core.$ZodType<T, unknown>, raw: Record<string, string | undefined>): T {
  const result = z.safeParse(schema, raw);
  if (result.success) return result.data;
  throw new BadParameter(result.error.issues[0]?.message ?? 'The request path is invalid.');
}
