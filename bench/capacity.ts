/**
 * Capacity units per DynamoDB request, recorded outside the timed calls, and each operation's cost
 * profile built from them and the timed calls' requests per call.
 */
import type { DynamoRequestCounter, DynamoRequestRecord } from './aws-requests.ts';
import type { CaseResult } from './measure.ts';
import type { OperationProfile } from './pricing.ts';

/** Calls per operation recorded with ReturnConsumedCapacity for the cost model. */
export const CAPACITY_CALLS = 5;

export interface CapacityPerRequest {
  /** Capacity units per request of each DynamoDB operation, averaged over the recorded calls. */
  unitsPerRequest: Record<string, number>;
  /** Whether DynamoDB (Local) reported ConsumedCapacity; if not, units are estimated from the request kind. */
  reported: boolean;
  /** The requests of the first recorded call, in order. */
  firstCall: { operation: string; table?: string; consistentRead?: boolean; capacityUnits?: number }[];
}

const READ_OPERATIONS = /^(GetItem|BatchGetItem|Query|Scan|TransactGetItems)$/;

/**
 * A few calls with DynamoDB reporting the capacity each request consumed (kept out of the timed
 * loops: it changes the requests slightly). The cost model multiplies these units per request by the
 * requests per call counted over the many timed calls, so rare requests (the vault record, re-read
 * when its 10-second cache expires) weigh what they weigh in steady state, not 1 in 5.
 */
export async function capacityPerRequest(counter: DynamoRequestCounter, calls: number, action: () => Promise<unknown>): Promise<CapacityPerRequest> {
  const all: DynamoRequestRecord[] = [];
  let firstCallLength = 0;
  for (let i = 0; i < calls; i++) {
    const { requests } = await counter.record(action);
    if (i === 0) firstCallLength = requests.length;
    all.push(...requests);
  }
  const sums = new Map<string, { units: number; requests: number }>();
  let reported = true;
  for (const request of all) {
    let units = request.consumedCapacity.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
    if (request.consumedCapacity.length === 0) {
      reported = false;
      units = estimatedUnits(request.operation, request.consistentRead);
    }
    const sum = sums.get(request.operation) ?? { units: 0, requests: 0 };
    sums.set(request.operation, { units: sum.units + units, requests: sum.requests + 1 });
  }
  return {
    unitsPerRequest: Object.fromEntries([...sums].map(([operation, sum]) => [operation, sum.units / sum.requests])),
    reported,
    firstCall: all.slice(0, firstCallLength).map((r) => ({
      operation: r.operation,
      ...(r.table ? { table: r.table } : {}),
      ...(r.consistentRead !== undefined ? { consistentRead: r.consistentRead } : {}),
      ...(r.consumedCapacity.length ? { capacityUnits: r.consumedCapacity.reduce((s, c) => s + (c.CapacityUnits ?? 0), 0) } : {}),
    })),
  };
}

/** Without a report: the smallest item's price (a 4 KB strongly consistent read, a 1 KB write; transactions double). */
function estimatedUnits(operation: string, consistentRead: boolean | undefined): number {
  if (operation.startsWith('Transact')) return 2;
  return READ_OPERATIONS.test(operation) && consistentRead === false ? 0.5 : 1;
}

/** The profile's DynamoDB, KMS and Lambda parts, from the timed calls' requests and median. */
export function profileOf(
  result: CaseResult,
  capacity: CapacityPerRequest,
  memoryMb: number,
  kmsKeySpec: string | undefined,
): Omit<OperationProfile, 'logBytes' | 'auditDelivery'> {
  let readUnits = 0;
  let writeUnits = 0;
  for (const [operation, requests] of Object.entries(result.dynamodb ?? {})) {
    const units = requests * (capacity.unitsPerRequest[operation] ?? estimatedUnits(operation, true));
    if (READ_OPERATIONS.test(operation)) readUnits += units;
    else writeUnits += units;
  }
  return {
    readUnits,
    writeUnits,
    kmsRequests: result.kms ?? {},
    ...(kmsKeySpec ? { kmsKeySpec } : {}),
    // Lambda bills whole milliseconds, rounded up; the in-process median stands for the function's duration.
    billedMs: Math.ceil(result.summary.median),
    memoryMb,
  };
}
