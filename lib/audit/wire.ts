import type { AuditRecord } from './audit.ts';
import type { AuditEventsPage } from './query.ts';

/**
 * Audit records on the wire, with the field names of Key Vault's `AuditEvent` resource logs
 * (reference §8): the request's facts at the top, the caller's claims under `identity.claim`, the
 * HTTP details under `properties`.
 */
export interface AuditEvent {
  time: string;
  resourceId: string;
  operationName: string;
  operationVersion?: string;
  category: 'AuditEvent';
  resultType: string;
  resultSignature: string;
  resultDescription?: string;
  durationMs: number;
  callerIpAddress?: string;
  correlationId?: string;
  identity?: { claim: { oid?: string; appid?: string; tid?: string; upn?: string } };
  properties: { id?: string; requestUri: string; httpStatusCode: number; clientInfo?: string };
}

export interface AuditEventList {
  value: AuditEvent[];
  nextLink: string | null;
}

function auditEvent(record: AuditRecord, resourceId: string): AuditEvent {
  return {
    time: record.time,
    resourceId: record.resourceId ?? resourceId,
    operationName: record.operationName,
    operationVersion: record.operationVersion,
    category: record.category,
    resultType: record.resultType,
    resultSignature: record.resultSignature,
    resultDescription: record.resultDescription,
    durationMs: record.durationMs,
    callerIpAddress: record.callerIpAddress,
    correlationId: record.correlationId,
    identity: record.identity
      ? { claim: { oid: record.identity.oid, appid: record.identity.appid, tid: record.identity.tid, upn: record.identity.upn } }
      : undefined,
    properties: { id: record.id, requestUri: record.requestUri, httpStatusCode: record.httpStatusCode, clientInfo: record.clientInfo },
  };
}

/**
 * `{value, nextLink}` as ARM lists answer: `url` is the address the caller reached the list at
 * (e.g. `https://management.example.com/subscriptions/.../vaults/v/auditEvents`), and the nextLink
 * is that address with the next page's query.
 */
export function auditEventList(page: AuditEventsPage, url: string): AuditEventList {
  return {
    value: page.records.map((record) => auditEvent(record, page.resourceId)),
    nextLink: page.next ? `${url}?${new URLSearchParams(page.next).toString()}` : null,
  };
}
