import * as z from 'zod/mini';
import { BadParameter } from '../core/errors.ts';
import { type Collection, KINDS } from '../core/kinds.ts';
import { invalidObjectNameMessage, invalidVersionMessage, OBJECT_NAME, VERSION_OR_EMPTY } from '../core/names.ts';

/**
 * The path-parameter schemas route rows name. A bad object name gets the domain's own message (the
 * same 400 whether the route or the domain catches it); a version is 32 hex characters, and empty or
 * absent means the latest.
 */
function objectName(collection: Collection) {
  const kind = KINDS[collection].kind.toLowerCase();
  const message = (issue: { input: unknown }) => invalidObjectNameMessage(kind, typeof issue.input === 'string' ? issue.input : '');
  return z.string({ error: message }).check(z.regex(OBJECT_NAME, { error: message }));
}

/**
 * A version is one we could have issued: 32 hex characters. Anything else is refused here, before a
 * store call, as Azure refuses a malformed version; an over-long one would otherwise exceed
 * DynamoDB's key size and end as a 500.
 */
function version(collection: Collection) {
  const message = invalidVersionMessage(KINDS[collection].kind.toLowerCase());
  return z.pipe(
    z.optional(z.string().check(z.regex(VERSION_OR_EMPTY, { error: message }))),
    z.transform((value: string | undefined) => (value === '' || value === undefined ? undefined : value.toLowerCase())),
  );
}

/** `{name}`: one object of the collection. */
export function namedObject(collection: Collection) {
  return z.object({ name: objectName(collection) });
}

/** `{name}/{version}`: one version of an object, or its latest when the version is empty. */
export function objectVersion(collection: Collection) {
  return z.object({ name: objectName(collection), version: version(collection) });
}

/**
 * `{issuerName}`: a vault's certificate issuer. Its names follow the object-name rule (reference §1.3
 * names issuers like objects), with a message that says issuer.
 */
export function namedIssuer() {
  const message = (issue: { input: unknown }) => invalidObjectNameMessage('issuer', typeof issue.input === 'string' ? issue.input : '');
  return z.object({ issuerName: z.string({ error: message }).check(z.regex(OBJECT_NAME, { error: message })) });
}

/**
 * The management plane's path parameters. Names are checked loosely here (no slashes, ARM's length
 * bounds); the services word the precise ARM errors (VaultNameNotValid, ...) themselves.
 */
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const segment = (max: number) => z.optional(z.string().check(z.minLength(1), z.maxLength(max), z.regex(/^[^/]+$/)));
const guidParameter = (what: string) =>
  z.optional(z.string().check(z.regex(GUID, { error: (issue) => `The ${what} '${String(issue.input).slice(0, 64)}' is not a valid GUID.` })));

export const managementParameters = z.object({
  subscriptionId: z.optional(
    z
      .string()
      .check(
        z.regex(GUID, { error: (issue) => `The provided subscription identifier '${String(issue.input).slice(0, 64)}' is malformed or invalid.` }),
      ),
  ),
  resourceGroupName: z.optional(
    z.string().check(
      z.regex(/^[-\w._()]{1,90}$/, {
        error: 'Resource group names only allow alphanumeric characters, periods, underscores, hyphens and parenthesis.',
      }),
      z.regex(/[^.]$/, { error: 'Resource group names cannot end in a period.' }),
    ),
  ),
  vaultName: segment(128),
  location: segment(64),
  operationKind: z.optional(z.string()),
  operationId: segment(128),
  roleAssignmentName: guidParameter('role assignment name'),
  roleDefinitionId: guidParameter('role definition id'),
  /** Set by the `{scope*}` routes: the ARM scope the path names (lib/http/routes.ts). */
  scope: z.optional(z.string()),
  objectCollection: z.optional(z.enum(['secrets', 'keys', 'certificates'])),
  objectName: segment(127),
  /** An Event Grid event subscription of a vault; its precise name rule is the domain's (lib/events/subscriptions.ts). */
  eventSubscriptionName: segment(128),
});

export type ManagementParameters = z.infer<typeof managementParameters>;

export interface PathParameters extends ManagementParameters {
  name?: string;
  version?: string | undefined;
  issuerName?: string;
  /** A managed HSM pool's backup or restore job (docs/adr/0025-pool-full-backup.md). */
  jobId?: string;
}

export type PathSchema = z.core.$ZodType<PathParameters, unknown>;

export function parsePathParameters<T>(schema: z.core.$ZodType<T, unknown>, raw: Record<string, string | undefined>): T {
  const result = z.safeParse(schema, raw);
  if (result.success) return result.data;
  throw new BadParameter(result.error.issues[0]?.message ?? 'The request path is invalid.');
}
