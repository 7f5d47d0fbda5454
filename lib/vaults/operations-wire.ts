import type { VaultOperation } from './operations.ts';

/** The operation's ARM path: `Location` and `Azure-AsyncOperation` point at it. */
function operationPath(operation: Pick<VaultOperation, 'id' | 'subscriptionId' | 'location'>): string {
  return `/subscriptions/${operation.subscriptionId}/providers/Microsoft.KeyVault/locations/${operation.location}/operationResults/${operation.id}`;
}

/** The Azure-AsyncOperation status body core-lro reads `status` from. */
export function operationStatusBody(operation: VaultOperation): Record<string, string> {
  return { id: operationPath(operation), name: operation.id, status: operation.status, startTime: operation.startTime, endTime: operation.endTime };
}

/**
 * The 202's headers. Both point at the operation: core-lro polls `Azure-AsyncOperation` (its body's
 * `status`), then, for a POST, GETs `Location` for the result. Its first poll is immediate and already
 * finds the operation succeeded; `Retry-After: 0` tells other clients polling at once is fine.
 */
export function operationHeaders(operation: VaultOperation, baseUrl: string, apiVersion: string): Record<string, string> {
  const url = `${baseUrl}${operationPath(operation)}?api-version=${encodeURIComponent(apiVersion)}`;
  return { Location: url, 'Azure-AsyncOperation': url, 'Retry-After': '0' };
}
