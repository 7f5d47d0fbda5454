import { deliverAuditLogEvents } from '#lib/runtime/audit';

/** Subscribed to every operation's log group: their audit records into the audit table (lib/audit/delivery.ts). */
export const handler = deliverAuditLogEvents;
