import * as z from 'zod/mini';

/**
 * Audit records, shaped after Key Vault's AuditEvent (reference §8). One per request, handed to a
 * durable transport before the response leaves: a request whose record cannot be handed over fails.
 * Records never carry request or response bodies, secret values, key material or tokens.
 *
 * The schema is the one description of a record: the pipeline builds records of this type, and the
 * delivery function (lib/audit/delivery.ts) checks every record it reads back from a log stream
 * against it before it writes one to the audit store.
 */
export const auditRecordSchema = z.object({
  time: z.iso.datetime(),
  /**
   * The partition the record is stored and queried under (`auditPartition`): the vault's name, or for
   * a management request about no vault, its subscription's.
   */
  vault: z.string().check(z.minLength(1)),
  /** The tenant the addressed vault or subscription belongs to (the caller's is `identity.tid`). Absent on records written before it existed. */
  tenantId: z.optional(z.string()),
  /** The ARM resource id of what the request addressed: the vault's, or a management request's subscription, resource group or resource. */
  resourceId: z.optional(z.string()),
  /** Unique per request: with `vault` and `time` it keys the record, so a record delivered twice is read once (lib/audit/packs.ts). */
  requestId: z.string().check(z.minLength(1)),
  operationName: z.string(),
  operationVersion: z.optional(z.string()),
  category: z.literal('AuditEvent'),
  resultType: z.enum(['Success', 'Failure']),
  resultSignature: z.string(),
  resultDescription: z.optional(z.string()),
  httpStatusCode: z.number().check(z.int()),
  durationMs: z.number(),
  callerIpAddress: z.optional(z.string()),
  /** The caller's `x-ms-client-request-id`. */
  correlationId: z.optional(z.string()),
  identity: z.optional(
    z.object({ oid: z.optional(z.string()), appid: z.optional(z.string()), upn: z.optional(z.string()), tid: z.optional(z.string()) }),
  ),
  requestUri: z.string(),
  /** The object's id, when the operation addressed one. */
  id: z.optional(z.string()),
  clientInfo: z.optional(z.string()),
});

export type AuditRecord = z.infer<typeof auditRecordSchema>;

/** How a request's record is to be made durable: the vault's choice (lib/vaults/vault.ts `strictAudit`). */
export interface AuditHandling {
  /** Written to the audit store before the response, instead of handed to the log stream for delivery. */
  strict: boolean;
}

/**
 * The request pipeline's port. `write` resolves once the record is durable (in the function's log
 * stream, or for a strict vault in the audit store) and rejects if it could not be made so.
 */
export interface AuditSink {
  write(record: AuditRecord, handling: AuditHandling): Promise<void>;
}

/**
 * The partition a record belongs to: the vault the request resolved to; otherwise the subscription a
 * management request's resource id names (docs/adr/0013), so a subscription's management records are
 * read together; otherwise `_unresolved` (a data-plane request for a host that names no vault).
 * A management request names a vault only through `vaultName` once the pipeline resolved that vault
 * in the path's subscription and resource group: a request about someone else's vault name never
 * lands in that vault's records.
 */
export function auditPartition(vaultName: string | undefined, resourceId: string | undefined): string {
  if (vaultName) return vaultName;
  const subscription = /^\/subscriptions\/([^/]+)/i.exec(resourceId ?? '')?.[1];
  // Vault names are letters, digits and hyphens: a partition with a slash is never a vault's.
  return subscription ? `subscriptions/${subscription.toLowerCase()}` : '_unresolved';
}

/**
 * Records stored as one item of the audit store (lib/audit/packs.ts cuts them): one partition's
 * (`vault`, the UTC day of `newest`), newest first. The store keys it by its newest record's time and
 * its `id`: a lone record's own request id, so it is stored under the record's own key, or a digest of
 * its records' keys.
 */
export interface AuditPack {
  vault: string;
  id: string;
  /** The newest and the oldest record's time. */
  newest: string;
  oldest: string;
  records: AuditRecord[];
  /** The records compressed, as the store keeps them; absent for a lone record, which is kept as it is. */
  compressed?: Uint8Array;
}

/**
 * The audit store's writes; lib/aws/dynamo-audit.ts implements it (and the reads of lib/audit/query.ts).
 * Writes are idempotent: a record, or a pack, written again replaces itself.
 */
export interface AuditStore {
  put(record: AuditRecord): Promise<void>;
  /**
   * Writes up to `AUDIT_BATCH_LIMIT` packs in one request and answers those the store left
   * unwritten (under throttling), for the caller to send again as they are.
   */
  putPacks(packs: readonly AuditPack[]): Promise<AuditPack[]>;
}

/** Packs per `putPacks`: the items one DynamoDB BatchWriteItem takes. */
export const AUDIT_BATCH_LIMIT = 25;

/** The function's log stream, one line per call: resolves once the line is written, rejects if it could not be. */
export interface AuditLog {
  append(line: string): Promise<void>;
}
