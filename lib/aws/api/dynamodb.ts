import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  BatchWriteCommandInput,
  BatchWriteCommandOutput,
  DeleteCommandInput,
  DeleteCommandOutput,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  TransactWriteCommandInput,
  TransactWriteCommandOutput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { convertToAttr, convertToNative } from '@aws-sdk/util-dynamodb';
import { type AwsClientOptions, AwsJsonClient, type AwsServiceError } from './aws-json.ts';

/**
 * A DynamoDB document client with the API of `@aws-sdk/lib-dynamodb` for the operations Coffer uses:
 * `client.send(new GetCommand({...}))` takes and answers plain JavaScript values, as the SDK's does,
 * so the adapters read the same and their inputs and outputs keep the SDK's types. Values are
 * converted by the SDK's own `@aws-sdk/util-dynamodb` (with `removeUndefinedValues`, as the SDK client
 * was configured); the transport is aws-json.ts.
 */

type Item = Record<string, unknown>;
type WireItem = Record<string, AttributeValue>;

/** One operation: its name on the wire and how its input and output cross it. */
abstract class DocumentCommand<Input, Output> {
  abstract readonly operation: string;
  constructor(readonly input: Input) {}
  abstract toWire(): unknown;
  abstract fromWire(output: Record<string, unknown>): Output;
}

export type { TransactWriteCommandInput };

export class GetCommand extends DocumentCommand<GetCommandInput, GetCommandOutput> {
  readonly operation = 'GetItem';
  toWire() {
    return { ...this.input, Key: toItem(this.input.Key) };
  }
  fromWire(output: Record<string, unknown>): GetCommandOutput {
    return { ...answer(output), Item: fromItem(output.Item) };
  }
}

export class PutCommand extends DocumentCommand<PutCommandInput, PutCommandOutput> {
  readonly operation = 'PutItem';
  toWire() {
    return { ...this.input, Item: toItem(this.input.Item), ExpressionAttributeValues: toItem(this.input.ExpressionAttributeValues) };
  }
  fromWire(output: Record<string, unknown>): PutCommandOutput {
    return { ...answer(output), Attributes: fromItem(output.Attributes) };
  }
}

export class UpdateCommand extends DocumentCommand<UpdateCommandInput, UpdateCommandOutput> {
  readonly operation = 'UpdateItem';
  toWire() {
    return { ...this.input, Key: toItem(this.input.Key), ExpressionAttributeValues: toItem(this.input.ExpressionAttributeValues) };
  }
  fromWire(output: Record<string, unknown>): UpdateCommandOutput {
    return { ...answer(output), Attributes: fromItem(output.Attributes) };
  }
}

export class DeleteCommand extends DocumentCommand<DeleteCommandInput, DeleteCommandOutput> {
  readonly operation = 'DeleteItem';
  toWire() {
    return { ...this.input, Key: toItem(this.input.Key), ExpressionAttributeValues: toItem(this.input.ExpressionAttributeValues) };
  }
  fromWire(output: Record<string, unknown>): DeleteCommandOutput {
    return { ...answer(output), Attributes: fromItem(output.Attributes) };
  }
}

export class QueryCommand extends DocumentCommand<QueryCommandInput, QueryCommandOutput> {
  readonly operation = 'Query';
  toWire() {
    return {
      ...this.input,
      ExpressionAttributeValues: toItem(this.input.ExpressionAttributeValues),
      ExclusiveStartKey: toItem(this.input.ExclusiveStartKey),
    };
  }
  fromWire(output: Record<string, unknown>): QueryCommandOutput {
    return {
      ...answer(output),
      Items: (output.Items as unknown[] | undefined)?.map((item) => fromItem(item)!),
      LastEvaluatedKey: fromItem(output.LastEvaluatedKey),
    };
  }
}

export class TransactWriteCommand extends DocumentCommand<TransactWriteCommandInput, TransactWriteCommandOutput> {
  readonly operation = 'TransactWriteItems';
  /**
   * The transaction's idempotency token, one per command: the transport sends the same body on each
   * attempt, so when an attempt's answer was lost after DynamoDB committed it, the retry is answered
   * as the committed transaction (for 10 minutes) instead of failing its own conditions on what it
   * wrote itself (a 409 or a lost race for a write that happened).
   */
  private readonly clientRequestToken = randomUUID();
  toWire() {
    return {
      ClientRequestToken: this.clientRequestToken,
      ...this.input,
      TransactItems: this.input.TransactItems?.map((entry) => {
        const wire: Record<string, unknown> = {};
        for (const [kind, request] of Object.entries(entry) as [string, Item | undefined][]) {
          if (!request) continue;
          wire[kind] = {
            ...request,
            ...('Key' in request ? { Key: toItem(request.Key as Item) } : {}),
            ...('Item' in request ? { Item: toItem(request.Item as Item) } : {}),
            ExpressionAttributeValues: toItem(request.ExpressionAttributeValues as Item | undefined),
          };
        }
        return wire;
      }),
    };
  }
  fromWire(output: Record<string, unknown>): TransactWriteCommandOutput {
    return answer(output) as TransactWriteCommandOutput;
  }
}

export class BatchWriteCommand extends DocumentCommand<BatchWriteCommandInput, BatchWriteCommandOutput> {
  readonly operation = 'BatchWriteItem';
  toWire() {
    return { ...this.input, RequestItems: mapTables(this.input.RequestItems, (requests) => requests.map(writeRequestToWire)) };
  }
  fromWire(output: Record<string, unknown>): BatchWriteCommandOutput {
    return {
      ...answer(output),
      UnprocessedItems: mapTables(output.UnprocessedItems as Record<string, Item[]> | undefined, (requests) => requests.map(writeRequestFromWire)),
    } as BatchWriteCommandOutput;
  }
}

export class BatchGetCommand extends DocumentCommand<BatchGetCommandInput, BatchGetCommandOutput> {
  readonly operation = 'BatchGetItem';
  toWire() {
    return {
      ...this.input,
      RequestItems: mapTables(this.input.RequestItems, (request) => ({ ...request, Keys: request.Keys?.map((key) => toItem(key)) })),
    };
  }
  fromWire(output: Record<string, unknown>): BatchGetCommandOutput {
    return {
      ...answer(output),
      Responses: mapTables(output.Responses as Record<string, unknown[]> | undefined, (items) => items.map((item) => fromItem(item)!)),
      UnprocessedKeys: mapTables(output.UnprocessedKeys as Record<string, { Keys?: unknown[] }> | undefined, (request) => ({
        ...request,
        Keys: request.Keys?.map((key) => fromItem(key)!),
      })),
    } as BatchGetCommandOutput;
  }
}

export class DynamoDBDocumentClient {
  private readonly client: AwsJsonClient;

  constructor(options: AwsClientOptions) {
    this.client = new AwsJsonClient(
      {
        signingName: 'dynamodb',
        endpointId: 'DYNAMODB',
        targetPrefix: 'DynamoDB_20120810',
        jsonVersion: '1.0',
        // A store that stays throttled answers 429, one out of reach or failing 503, both with Retry-After.
        dependency: 'object store',
        classify: throttledTransaction,
      },
      options,
    );
  }

  async send<Input, Output>(command: DocumentCommand<Input, Output>): Promise<Output> {
    return command.fromWire(await this.client.call(command.operation, command.toWire()));
  }

  destroy(): void {
    this.client.destroy();
  }
}

/**
 * A transaction DynamoDB cancelled only because items were throttled (reason `ThrottlingError`, the
 * others `None`) is throttling like any other: retried, then a 429. One with a failed condition or a
 * conflict is the adapter's to read.
 */
function throttledTransaction(error: AwsServiceError): 'throttling' | undefined {
  if (error.name !== 'TransactionCanceledException') return undefined;
  const codes = ((error.CancellationReasons as { Code?: string }[] | undefined) ?? []).map((reason) => reason.Code ?? 'None');
  return codes.includes('ThrottlingError') && codes.every((code) => code === 'ThrottlingError' || code === 'None') ? 'throttling' : undefined;
}

function toItem(item: Item | undefined): WireItem | undefined {
  if (item === undefined) return undefined;
  const wire: WireItem = {};
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    wire[name] = convertToAttr(value, { removeUndefinedValues: true });
  }
  return wire;
}

function fromItem(wire: unknown): Item | undefined {
  if (wire === undefined || wire === null) return undefined;
  const item: Item = {};
  for (const [name, value] of Object.entries(wire as Record<string, unknown>)) item[name] = convertToNative(binaryFromBase64(value));
  return item;
}

/** The wire carries binary values (B, BS) as base64; util-dynamodb expects bytes. */
function binaryFromBase64(value: unknown): AttributeValue {
  const attribute = value as Record<string, unknown>;
  if (typeof attribute.B === 'string') return { B: bytes(attribute.B) };
  if (Array.isArray(attribute.BS)) return { BS: attribute.BS.map((b) => bytes(String(b))) };
  if (attribute.M && typeof attribute.M === 'object') {
    return { M: Object.fromEntries(Object.entries(attribute.M as Record<string, unknown>).map(([k, v]) => [k, binaryFromBase64(v)])) };
  }
  if (Array.isArray(attribute.L)) return { L: attribute.L.map(binaryFromBase64) };
  return attribute as unknown as AttributeValue;
}

function bytes(base64: string): Uint8Array {
  const buffer = Buffer.from(base64, 'base64');
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function writeRequestToWire(request: Record<string, { Item?: Item; Key?: Item } | undefined>): unknown {
  return {
    ...(request.PutRequest ? { PutRequest: { Item: toItem(request.PutRequest.Item) } } : {}),
    ...(request.DeleteRequest ? { DeleteRequest: { Key: toItem(request.DeleteRequest.Key) } } : {}),
  };
}

function writeRequestFromWire(request: Item): unknown {
  const { PutRequest, DeleteRequest } = request as { PutRequest?: { Item?: unknown }; DeleteRequest?: { Key?: unknown } };
  return {
    ...(PutRequest ? { PutRequest: { Item: fromItem(PutRequest.Item) } } : {}),
    ...(DeleteRequest ? { DeleteRequest: { Key: fromItem(DeleteRequest.Key) } } : {}),
  };
}

function mapTables<T, U>(tables: Record<string, T> | undefined, convert: (value: T) => U): Record<string, U> | undefined {
  if (tables === undefined) return undefined;
  return Object.fromEntries(Object.entries(tables).map(([table, value]) => [table, convert(value)]));
}

/** The members every answer has besides its items (ConsumedCapacity, Count...), and the SDK's metadata slot. */
function answer(output: Record<string, unknown>): Record<string, unknown> & { $metadata: Record<string, never> } {
  return { ...output, $metadata: {} };
}
