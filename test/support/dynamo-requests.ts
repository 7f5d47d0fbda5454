import { dynamoDocumentClient } from '../../lib/aws/clients.ts';

/**
 * Counts the DynamoDB requests of code under test by wrapping `send` of the document client class
 * lib/aws/clients.ts builds (every store in lib/aws sends through one), whatever that client is made
 * of: one count per request the store makes, named after DynamoDB's operation (GetItem,
 * BatchGetItem...). The benchmark counts the same requests (bench/aws-requests.ts).
 */
export interface SentRequest {
  operation: string;
  input: Record<string, any>;
  output?: Record<string, any>;
}

/** The document commands' class names, for clients whose commands do not name their operation. */
const OPERATIONS: Record<string, string> = {
  GetCommand: 'GetItem',
  PutCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
  BatchGetCommand: 'BatchGetItem',
  BatchWriteCommand: 'BatchWriteItem',
  TransactGetCommand: 'TransactGetItems',
  TransactWriteCommand: 'TransactWriteItems',
};

export const READ_OPERATIONS = /^(GetItem|BatchGetItem|Query|Scan|TransactGetItems)$/;

export class DynamoRequests {
  private readonly sent: SentRequest[] = [];
  private undo: (() => void) | undefined;

  /** From now on every document client of lib/aws/clients.ts's class reports here. */
  install(): void {
    const prototype = Object.getPrototypeOf(dynamoDocumentClient('us-east-1')) as { send: (...args: any[]) => Promise<any> };
    const original = prototype.send;
    const ownSend = Object.hasOwn(prototype, 'send');
    const sent = this.sent;
    prototype.send = async function countingSend(this: unknown, command: any, ...rest: any[]) {
      const request: SentRequest = { operation: operationOf(command), input: command.input ?? {} };
      sent.push(request);
      request.output = await original.call(this, command, ...rest);
      return request.output;
    };
    this.undo = () => {
      if (ownSend) prototype.send = original;
      else delete (prototype as { send?: unknown }).send;
    };
  }

  uninstall(): void {
    this.undo?.();
    this.undo = undefined;
  }

  /** The requests `action` sent, in order. */
  async during<T>(action: () => Promise<T>): Promise<{ result: T; requests: SentRequest[] }> {
    const start = this.sent.length;
    const result = await action();
    return { result, requests: this.sent.slice(start) };
  }

  /** The operations of the requests `action` sent, counted: `{ GetItem: 1 }`. */
  async countsOf(action: () => Promise<unknown>): Promise<Record<string, number>> {
    const { requests } = await this.during(action);
    const counts: Record<string, number> = {};
    for (const r of requests) counts[r.operation] = (counts[r.operation] ?? 0) + 1;
    return counts;
  }
}

function operationOf(command: { operation?: unknown; constructor: { name: string } }): string {
  if (typeof command.operation === 'string') return command.operation;
  return OPERATIONS[command.constructor.name] ?? command.constructor.name;
}
