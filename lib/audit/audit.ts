/**
 * Audit records, shaped after Key Vault's AuditEvent (reference §8). One per request, written before
 * the response leaves: a request whose record cannot be written fails. Records never carry request or
 * response bodies, secret values, key material or tokens.
 */
export interface AuditRecord {
  time: string;
  vault: string;
  requestId: string;
  operationName: string;
  operationVersion: string | undefined;
  category: 'AuditEvent';
  resultType: 'Success' | 'Failure';
  resultSignature: string;
  resultDescription: string | undefined;
  httpStatusCode: number;
  durationMs: number;
  callerIpAddress: string | undefined;
  correlationId: string | undefined;
  identity: { oid?: string; appid?: string; upn?: string; tid?: string } | undefined;
  requestUri: string;
  /** The object's id, when the operation addressed one. */
  id: string | undefined;
  clientInfo: string | undefined;
}

export interface AuditSink {
  write(record: AuditRecord): Promise<void>;
}
