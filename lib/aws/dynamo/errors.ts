import type { CancellationReason } from '@aws-sdk/client-dynamodb';

/**
 * How DynamoDB says a condition failed, for AWS and DynamoDB Local alike. Errors are matched by name,
 * the error code DynamoDB answered (lib/aws/api/aws-json.ts), as the SDK's errors are.
 */

/** The per-item codes of a cancelled transaction, in the order its items were sent; undefined if not one. */
export function cancellationReasons(error: unknown): string[] | undefined {
  if ((error as { name?: string })?.name === 'TransactionCanceledException') {
    return ((error as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? []).map((r) => r.Code ?? 'None');
  }
  return undefined;
}

/** The code an item of a cancelled transaction carries when its own condition failed. */
export const CONDITION_FAILED = 'ConditionalCheckFailed';
/** The code an item carries when another transaction was working on it at the same time. */
export const TRANSACTION_CONFLICT = 'TransactionConflict';

/** A single-item write whose ConditionExpression did not hold. */
export function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}
