import { readFileSync } from 'node:fs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Counting the AWS requests a call makes, without touching lib/:
 *
 * - DynamoDB: an AWS SDK middleware on the client's stack. `lib/aws/clients.ts` builds its client with
 *   `DynamoDBDocumentClient.from(...)`; `instrumentDocumentClients` wraps that factory so every
 *   document client built afterwards (and the DynamoDB client under it, which shares its middleware
 *   stack) carries the counter. One count per HTTP attempt, so SDK retries would show.
 * - KMS: the local stack's KMS log, one line per request (`<time> <Operation> <status>`).
 */

/** The parts of a command's arguments, context and result the counters read; the SDK passes more. */
interface MiddlewareArgs {
  input?: unknown;
}
interface MiddlewareResult {
  output?: { ConsumedCapacity?: unknown };
}
type Next = (args: MiddlewareArgs) => Promise<MiddlewareResult>;

interface MiddlewareStackLike {
  add(
    middleware: (next: Next, context: { commandName?: string } | undefined) => (args: MiddlewareArgs) => Promise<MiddlewareResult>,
    options: { step: 'initialize' | 'finalizeRequest'; name: string; priority?: 'high' | 'normal' | 'low'; override?: boolean },
  ): void;
}

export interface ConsumedCapacityLike {
  TableName?: string;
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

/** One DynamoDB request seen while recording (see `DynamoRequestCounter.record`). */
export interface DynamoRequestRecord {
  operation: string;
  table?: string;
  key?: Record<string, unknown>;
  consistentRead?: boolean;
  consumedCapacity: ConsumedCapacityLike[];
  /** How long the request took, retries included. */
  durationMs?: number;
}

export type Counts = Record<string, number>;

export class DynamoRequestCounter {
  private readonly totals = new Map<string, number>();
  private recording: DynamoRequestRecord[] | undefined;

  /** Adds the counting middleware to one client's stack (a DynamoDBClient or a document client). */
  attach(client: { middlewareStack: unknown }): void {
    const stack = client.middlewareStack as MiddlewareStackLike;
    // Inside the retry middleware: runs once per HTTP attempt.
    stack.add(
      (next, context) => async (args) => {
        const operation = operationName(context?.commandName);
        this.totals.set(operation, (this.totals.get(operation) ?? 0) + 1);
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'cofferBenchCount', override: true },
    );
    // Outside everything: sees the document-level input and output, once per call.
    stack.add(
      (next, context) => async (args) => {
        const recording = this.recording;
        if (!recording) return next(args);
        const input = (args.input ?? {}) as Record<string, unknown>;
        const record: DynamoRequestRecord = {
          operation: operationName(context?.commandName),
          ...(typeof input.TableName === 'string' ? { table: input.TableName } : {}),
          ...(input.Key && typeof input.Key === 'object' ? { key: input.Key as Record<string, unknown> } : {}),
          ...(typeof input.ConsistentRead === 'boolean' ? { consistentRead: input.ConsistentRead } : {}),
          consumedCapacity: [],
        };
        recording.push(record);
        const started = performance.now();
        const result = await next({ ...args, input: { ...input, ReturnConsumedCapacity: 'TOTAL' } });
        record.durationMs = performance.now() - started;
        const consumed = result?.output?.ConsumedCapacity as ConsumedCapacityLike | ConsumedCapacityLike[] | undefined;
        if (consumed) record.consumedCapacity = Array.isArray(consumed) ? consumed : [consumed];
        return result;
      },
      { step: 'initialize', priority: 'high', name: 'cofferBenchRecord', override: true },
    );
  }

  /** Requests so far, by operation (GetItem, PutItem, TransactWriteItems...). */
  snapshot(): Counts {
    return Object.fromEntries(this.totals);
  }

  /**
   * Runs `action` with every DynamoDB request recorded in detail, asking DynamoDB for the capacity
   * each one consumed. Kept out of the timed loops: it changes the requests slightly.
   */
  async record<T>(action: () => Promise<T>): Promise<{ result: T; requests: DynamoRequestRecord[] }> {
    const requests: DynamoRequestRecord[] = [];
    this.recording = requests;
    try {
      return { result: await action(), requests };
    } finally {
      this.recording = undefined;
    }
  }
}

/** From then on, every `DynamoDBDocumentClient.from(...)` result carries the counter. */
export function instrumentDocumentClients(counter: DynamoRequestCounter): () => void {
  const original = DynamoDBDocumentClient.from;
  DynamoDBDocumentClient.from = ((...args: Parameters<typeof original>) => {
    const client = original.apply(DynamoDBDocumentClient, args);
    counter.attach(client);
    return client;
  }) as typeof original;
  return () => {
    DynamoDBDocumentClient.from = original;
  };
}

/** Counts the local KMS's log lines by operation. */
export class KmsLogCounter {
  constructor(private readonly logFile: string) {}

  snapshot(): Counts {
    let text: string;
    try {
      text = readFileSync(this.logFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    const counts: Counts = {};
    for (const line of text.split('\n')) {
      const operation = line.split(' ')[1];
      if (operation) counts[operation] = (counts[operation] ?? 0) + 1;
    }
    return counts;
  }
}

/** `after - before`, per key, keeping only keys that changed. */
export function difference(after: Counts, before: Counts): Counts {
  const result: Counts = {};
  for (const [key, value] of Object.entries(after)) {
    const delta = value - (before[key] ?? 0);
    if (delta !== 0) result[key] = delta;
  }
  return result;
}

export function perCall(counts: Counts, calls: number): Counts {
  return Object.fromEntries(Object.entries(counts).map(([key, value]) => [key, value / calls]));
}

export function total(counts: Counts): number {
  return Object.values(counts).reduce((sum, value) => sum + value, 0);
}

function operationName(commandName: unknown): string {
  // GetItemCommand -> GetItem; the document client's GetCommand runs the GetItemCommand underneath.
  return typeof commandName === 'string' ? commandName.replace(/Command$/, '') : 'unknown';
}
