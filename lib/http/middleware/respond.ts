import { randomUUID } from 'node:crypto';
import { type AuditRecord, auditPartition } from '../../audit/audit.ts';
import { describeError, InternalError, ServiceUnavailable, VaultError } from '../../core/errors.ts';
import { type Event, header, hostOf, type Middleware, type RequestState, type Result } from '../request.ts';
import type { Route } from '../routes.ts';
import type { PipelineServices } from '../services.ts';
import { vaultResourceId } from '../../vaults/vault.ts';

/** Headers a plane adds to every answer (Key Vault's `x-ms-keyvault-*` on the data plane). */
export type PlaneHeaders = (event: Event, services: PipelineServices) => Record<string, string>;

/**
 * Last of all, for answers and errors alike: errors become Azure's error body, the audit record is
 * handed to the audit sink (the function's log stream, or the audit store for a vault with strict
 * audit; nothing leaves unaudited: a failed hand-off turns the answer into a 503), one log line is
 * written and the standard headers are added. A 5xx is logged with its cause chain for
 * operators; the answer never carries it.
 */
export function respond(route: Route, services: () => PipelineServices, planeHeaders: PlaneHeaders): Middleware {
  const finish = (event: Event, state: RequestState, response: Result, failure?: VaultError) =>
    answer(services(), planeHeaders, event, state, response, failure);
  return {
    after: async (request) => {
      request.response = await finish(request.event, request.context.coffer, request.response ?? { statusCode: 200 });
    },
    onError: async (request) => {
      const state = request.context.coffer ?? { requestId: randomUUID(), startedAt: Date.now(), route };
      const failure = request.error instanceof VaultError ? request.error : new InternalError({ cause: request.error });
      const logged = { requestId: state.requestId, operation: route.operation, status: failure.status, error: describeError(failure) };
      if (failure.status >= 500) services().logger.error('request failed', logged);
      // A 429 with a cause is DynamoDB or KMS throttling Coffer, not the caller's own limit: the
      // operator needs to see it (capacity, quotas), though the answer is the caller's to retry.
      else if (failure.status === 429 && failure.cause !== undefined) services().logger.error('dependency throttled', logged);
      // Managed HSM answers its 401 with the challenge and an empty body (reference §2), as its clients expect.
      const bodyless = failure.status === 401 && route.plane === 'managedHsm';
      const response = { statusCode: failure.status, headers: failure.headers, body: bodyless ? '' : JSON.stringify(failure.toBody()) };
      request.response = await finish(request.event, state, response, failure);
    },
  };
}

async function answer(
  services: PipelineServices,
  planeHeaders: PlaneHeaders,
  event: Event,
  state: RequestState,
  response: Result,
  failure: VaultError | undefined,
): Promise<Result> {
  const record = auditRecord(event, state, response.statusCode ?? 200, failure);
  let final = response;
  try {
    await services.audit.write(record, { strict: state.vault?.strictAudit === true, vaultResourceId: partitionVaultResourceId(state, record) });
  } catch (error) {
    services.logger.error('audit write failed', { requestId: state.requestId, error: describeError(error) });
    const unavailable = new ServiceUnavailable('The audit log is unavailable; the request was not completed.');
    final = { statusCode: unavailable.status, headers: unavailable.headers, body: JSON.stringify(unavailable.toBody()) };
  }
  // The audit record in the same log stream already says all of this; the line is for debugging only
  // (POWERTOOLS_LOG_LEVEL=DEBUG), as each one costs CloudWatch Logs ingestion per request. Asked
  // first: building the line's fields and Powertools' look at the trace id cost every request a few µs.
  if (services.logger.getLevelName() === 'DEBUG')
    services.logger.debug('request', {
      requestId: state.requestId,
      operation: state.route.operation,
      vault: record.vault,
      status: final.statusCode,
      durationMs: record.durationMs,
      caller: state.principal?.objectId,
    });
  const clientRequestId = echoableRequestId(header(event, 'x-ms-client-request-id'));
  return {
    ...final,
    headers: {
      ...(final.body ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
      'Cache-Control': 'no-cache',
      Pragma: 'no-cache',
      Expires: '-1',
      'X-Content-Type-Options': 'nosniff',
      'Strict-Transport-Security': 'max-age=31536000;includeSubDomains',
      'x-ms-request-id': state.requestId,
      ...planeHeaders(event, services),
      ...(clientRequestId ? { 'x-ms-client-request-id': clientRequestId } : {}),
      ...final.headers,
    },
  };
}

/**
 * The request's audit record. Its time is the request's start, so the record written before a strict
 * vault's change (lib/http/middleware/audit-intent.ts) and the final one share their key: the final
 * record replaces it.
 */
export function auditRecord(event: Event, state: RequestState, status: number, failure: VaultError | undefined): AuditRecord {
  const { principal, vault } = state;
  // A vault record from before vaults had a resource group names none, rather than a wrong one.
  const resourceId = state.resourceId ?? (vault?.subscriptionId && vault.resourceGroup ? vaultResourceId(vault) : undefined);
  // A management request about a vault that is not live in its path's subscription joins that vault's
  // records only if it succeeded (it created or recovered the vault): a refused attempt on another
  // subscription's vault name stays in the caller's subscription, out of that vault's records.
  const partitionVault = vault?.name ?? (status < 400 ? state.auditVault : undefined);
  return {
    time: new Date(state.startedAt).toISOString(),
    vault: state.auditPartition ?? auditPartition(partitionVault, resourceId),
    // The addressed vault's tenant; a management request's is its subscription's (the caller's, once authenticated for it).
    tenantId: vault?.tenantId ?? state.tenantId,
    resourceId,
    requestId: state.requestId,
    operationName: state.route.audit,
    operationVersion: event.queryStringParameters?.['api-version'],
    category: 'AuditEvent',
    resultType: status < 400 ? 'Success' : 'Failure',
    resultSignature: failure?.code ?? statusText(status),
    resultDescription: failure?.innerCode,
    httpStatusCode: status,
    durationMs: Date.now() - state.startedAt,
    callerIpAddress: event.requestContext?.http?.sourceIp,
    correlationId: header(event, 'x-ms-client-request-id'),
    identity: principal ? { oid: principal.objectId, appid: principal.appId, upn: principal.upn, tid: principal.tenantId } : undefined,
    requestUri: `https://${hostOf(event)}${event.rawPath}`,
    id: state.objectId,
    clientInfo: header(event, 'user-agent'),
  };
}

/**
 * The resource id of the vault the record's partition names, when the request resolved that vault: a
 * record naming it leaves it out of its audit line, as the audit query answers it for every record of
 * the vault's partition (lib/audit/log-stream.ts `LoggedAuditHandling`). A management request's
 * record names the path's resource id as the caller spelt it, which differs from the vault's in case
 * or resource group at times: the line keeps that one.
 */
function partitionVaultResourceId(state: RequestState, record: AuditRecord): string | undefined {
  const { vault } = state;
  return vault && record.vault === vault.name && vault.subscriptionId && vault.resourceGroup ? vaultResourceId(vault) : undefined;
}

/** A record's signature without an error; the audit line leaves these out by its own table (lib/audit/log-stream.ts `SIGNATURES`). */
function statusText(status: number): string {
  return ({ 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'NoContent' } as Record<number, string>)[status] ?? String(status);
}

/** The data plane's own headers, as Key Vault sends them. */
export const keyVaultHeaders: PlaneHeaders = (event, services) => ({
  'x-ms-keyvault-region': services.region,
  'x-ms-keyvault-service-version': '1.9.0.0',
  'x-ms-keyvault-network-info': `conn_type=Ipv4;addr=${event.requestContext?.http?.sourceIp ?? ''};act_addr_fam=InterNetwork;`,
});

/** ARM's headers: the correlation id its clients log, the same as the request id. */
export const managementHeaders: PlaneHeaders = (event) => ({
  'x-ms-correlation-request-id':
    echoableRequestId(header(event, 'x-ms-correlation-request-id')) ?? echoableRequestId(header(event, 'x-ms-client-request-id')) ?? '',
});

/**
 * The longest caller's request id an answer echoes: Azure documents 1 KiB for `x-ms-client-request-id`.
 * An id is opaque to Coffer, but echoing any length is not: a 10 KB id echoed as both the client
 * request id and ARM's correlation id made a 20 KB header block, past the 16 KiB Node's HTTP client
 * (and so the SDKs) parses, and the caller got no readable answer at all.
 */
const MAX_ECHOED_REQUEST_ID = 1024;

/** The caller's request id if it can go back in an answer's header as it came (printable ASCII, within the bound), else none. */
export function echoableRequestId(value: string | undefined): string | undefined {
  return value !== undefined && value.length <= MAX_ECHOED_REQUEST_ID && /^[\x20-\x7e]+$/.test(value) ? value : undefined;
}
