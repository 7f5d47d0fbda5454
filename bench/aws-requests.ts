import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { AWS_REQUEST_CHANNEL, type AwsRequestMessage } from '../lib/aws/api/aws-json.ts';
import { DynamoDBDocumentClient } from '../lib/aws/api/dynamodb.ts';

/**
 * Counting the AWS requests a call makes, without touching lib/:
 *
 * - DynamoDB, the client of lib/aws/api, which the functions and the raw baselines alike send
 *   through: `instrumentDocumentClients` listens on the channel its transport reports every HTTP
 *   attempt on, so retries would show, and wraps the document client's `send` to record requests in
 *   detail.
 * - KMS: the local stack's KMS log, one line per request (`<time> <Operation> <status>`).
 */

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
  /** The request as the document client was given it, so a baseline can send the very same one. */
  input: Record<string, unknown>;
  consumedCapacity: ConsumedCapacityLike[];
  /** How long the request took, retries included. */
  durationMs?: number;
}

export type Counts = Record<string, number>;

export class DynamoRequestCounter {
  private readonly totals = new Map<string, number>();
  private recording: DynamoRequestRecord[] | undefined;

  /** One HTTP attempt of `operation`. */
  count(operation: string): void {
    this.totals.set(operation, (this.totals.get(operation) ?? 0) + 1);
  }

  /**
   * Sends one request through `send`; while recording, asks DynamoDB for the capacity it consumed
   * and keeps what it was and what it cost.
   */
  async around<T extends { ConsumedCapacity?: unknown }>(
    operation: string,
    input: Record<string, unknown>,
    send: (input: Record<string, unknown>) => Promise<T>,
  ): Promise<T> {
    const recording = this.recording;
    if (!recording) return send(input);
    const record: DynamoRequestRecord = {
      operation,
      ...(typeof input.TableName === 'string' ? { table: input.TableName } : {}),
      ...(input.Key && typeof input.Key === 'object' ? { key: input.Key as Record<string, unknown> } : {}),
      ...(typeof input.ConsistentRead === 'boolean' ? { consistentRead: input.ConsistentRead } : {}),
      input: structuredClone(input),
      consumedCapacity: [],
    };
    recording.push(record);
    const started = performance.now();
    const output = await send({ ...input, ReturnConsumedCapacity: 'TOTAL' });
    record.durationMs = performance.now() - started;
    const consumed = output.ConsumedCapacity as ConsumedCapacityLike | ConsumedCapacityLike[] | undefined;
    if (consumed) record.consumedCapacity = Array.isArray(consumed) ? consumed : [consumed];
    return output;
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

/** From then on, every request of a functions' document client (lib/aws/clients.ts) is counted. */
export function instrumentDocumentClients(counter: DynamoRequestCounter): () => void {
  const attempt = (message: unknown) => {
    if ((message as AwsRequestMessage).service === 'dynamodb') counter.count((message as AwsRequestMessage).operation);
  };
  subscribe(AWS_REQUEST_CHANNEL, attempt);
  const prototype = DynamoDBDocumentClient.prototype as unknown as {
    send: (command: DocumentCommandLike) => Promise<{ ConsumedCapacity?: unknown }>;
  };
  const original = prototype.send;
  prototype.send = function recordingSend(this: unknown, command: DocumentCommandLike) {
    return counter.around(command.operation, command.input, (input) => {
      const Command = command.constructor as new (input: Record<string, unknown>) => DocumentCommandLike;
      return original.call(this, input === command.input ? command : new Command(input));
    });
  };
  return () => {
    unsubscribe(AWS_REQUEST_CHANNEL, attempt);
    prototype.send = original;
  };
}

/** What the recorder reads of a document command of lib/aws/api/dynamodb.ts. */
interface DocumentCommandLike {
  operation: string;
  input: Record<string, unknown>;
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
