import { createHash, createHmac } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AWS_REQUEST_CHANNEL, AwsJsonClient, AwsServiceError, endpointFor } from '../../lib/aws/api/aws-json.ts';
import { DynamoDBDocumentClient, PutCommand } from '../../lib/aws/api/dynamodb.ts';
import { ServiceUnavailable } from '../../lib/core/errors.ts';

/**
 * The transport under Coffer's DynamoDB and KMS clients, against a loopback server that plays the
 * service: what goes on the wire (checked by a Signature V4 verifier written here from the
 * specification, not by the signer the client uses), how errors come back, and which failures are
 * retried.
 */
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session' };
const service = { signingName: 'dynamodb', endpointId: 'DYNAMODB', targetPrefix: 'DynamoDB_20120810', jsonVersion: '1.0' as const };

interface Received {
  headers: IncomingMessage['headers'];
  method: string;
  url: string;
  body: string;
}
type Answer = (request: Received, n: number) => { status: number; body?: unknown; headers?: Record<string, string>; hang?: boolean };

let server: Server;
let received: Received[];
let answer: Answer;

beforeEach(async () => {
  received = [];
  answer = () => ({ status: 200, body: {} });
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const got = { headers: request.headers, method: request.method!, url: request.url!, body: Buffer.concat(chunks).toString('utf8') };
      received.push(got);
      const { status, body, headers, hang } = answer(got, received.length);
      if (hang) return;
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', ...headers });
      response.end(body === undefined ? '' : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = () =>
  new AwsJsonClient(service, {
    region: 'eu-west-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: () => credentials,
  });

/** Signature V4, as the specification defines it, for a request as the server received it. */
function expectedSignature(request: Received): string {
  const authorization = String(request.headers.authorization);
  const [, scope, signedHeaders] = /Credential=AKIDEXAMPLE\/([^,]+), SignedHeaders=([^,]+), Signature=/.exec(authorization)!;
  const [date, region, name] = scope!.split('/');
  const canonicalHeaders = signedHeaders!
    .split(';')
    .map((header) => `${header}:${String(request.headers[header]).trim()}\n`)
    .join('');
  const canonical = [request.method, request.url, '', canonicalHeaders, signedHeaders, createHash('sha256').update(request.body).digest('hex')].join(
    '\n',
  );
  const stringToSign = ['AWS4-HMAC-SHA256', request.headers['x-amz-date'], scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date!), region!), name!), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('AWS JSON transport', () => {
  it('POSTs the document with the target and content type, signed for the service and region', async () => {
    answer = () => ({ status: 200, body: { Item: { pk: { S: 'a' } } } });
    const output = await client().call('GetItem', { TableName: 't', Key: { pk: { S: 'a' } }, Blob: new Uint8Array([1, 2, 3]) });
    expect(output).toEqual({ Item: { pk: { S: 'a' } } });
    const [request] = received;
    expect(request!.headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(request!.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(request!.headers['x-amz-security-token']).toBe('session');
    expect(JSON.parse(request!.body)).toEqual({ TableName: 't', Key: { pk: { S: 'a' } }, Blob: 'AQID' });
    const authorization = String(request!.headers.authorization);
    expect(authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, /);
    for (const header of ['host', 'x-amz-date', 'x-amz-target', 'x-amz-security-token', 'content-type']) {
      expect(authorization).toMatch(new RegExp(`SignedHeaders=[^,]*\\b${header}\\b`));
    }
    expect(authorization.split('Signature=')[1]).toBe(expectedSignature(request!));
  });

  it('answers a service error as the SDK shapes it: code as name, whose fault, the status, the other members', async () => {
    answer = () => ({
      status: 400,
      headers: { 'x-amzn-requestid': 'req-1' },
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        message: 'cancelled',
        CancellationReasons: [{ Code: 'None' }],
      },
    });
    const failure = await client()
      .call('TransactWriteItems', {})
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AwsServiceError);
    expect(failure).toMatchObject({
      name: 'TransactionCanceledException',
      message: 'cancelled',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, requestId: 'req-1' },
      CancellationReasons: [{ Code: 'None' }],
    });
    expect(received).toHaveLength(1);
  });

  it('retries throttling and server errors, up to three attempts in all', async () => {
    answer = (_, n) =>
      n === 1
        ? { status: 400, body: { __type: 'ThrottlingException', message: 'slow down' } }
        : n === 2
          ? { status: 503, body: {} }
          : { status: 200, body: { ok: 1 } };
    await expect(client().call('PutItem', {})).resolves.toEqual({ ok: 1 });
    expect(received).toHaveLength(3);

    received = [];
    answer = () => ({ status: 500, body: { __type: 'InternalServerError', message: 'broken' } });
    await expect(client().call('PutItem', {})).rejects.toMatchObject({ name: 'InternalServerError', $fault: 'server' });
    expect(received).toHaveLength(3);
  });

  it('retries an attempt the network loses, and gives up after three', async () => {
    answer = (_, n) => {
      if (n < 3) {
        server.closeAllConnections();
        return { status: 0, hang: true };
      }
      return { status: 200, body: { ok: true } };
    };
    await expect(client().call('Query', {})).resolves.toEqual({ ok: true });
    expect(received).toHaveLength(3);
  });

  it('does not retry what the caller got wrong', async () => {
    answer = () => ({ status: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'no' } });
    await expect(client().call('PutItem', {})).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(received).toHaveLength(1);
  });

  it('tells observers of every attempt what was sent and answered', async () => {
    const seen: unknown[] = [];
    const observe = (message: unknown) => seen.push(message);
    subscribe(AWS_REQUEST_CHANNEL, observe);
    try {
      answer = (_, n) => (n === 1 ? { status: 503, body: {} } : { status: 200, body: { ConsumedCapacity: { CapacityUnits: 0.5 } } });
      await client().call('GetItem', { TableName: 't' });
    } finally {
      unsubscribe(AWS_REQUEST_CHANNEL, observe);
    }
    expect(seen).toEqual([
      { service: 'dynamodb', operation: 'GetItem', input: { TableName: 't' }, status: 503, output: {} },
      { service: 'dynamodb', operation: 'GetItem', input: { TableName: 't' }, status: 200, output: { ConsumedCapacity: { CapacityUnits: 0.5 } } },
    ]);
  });
});

describe('DynamoDB outages', () => {
  const documents = (endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`) =>
    new DynamoDBDocumentClient({ region: 'eu-west-1', endpoint, credentials: () => credentials });

  it('are a 503 with Retry-After once every attempt failed or was throttled, with the last failure as cause', async () => {
    answer = () => ({
      status: 400,
      body: { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'slow down' },
    });
    const failure = await documents()
      .send(new PutCommand({ TableName: 't', Item: { pk: 'a' } }))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ServiceUnavailable);
    expect(failure).toMatchObject({ status: 503, headers: { 'Retry-After': '5' } });
    expect((failure as Error).cause).toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(received).toHaveLength(3);
  });

  it('include a store that cannot be reached at all', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(documents(`http://127.0.0.1:${port}`).send(new PutCommand({ TableName: 't', Item: { pk: 'a' } }))).rejects.toBeInstanceOf(
      ServiceUnavailable,
    );
  });

  it('leave the caller’s own errors as DynamoDB answered them', async () => {
    answer = () => ({ status: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'no' } });
    await expect(documents().send(new PutCommand({ TableName: 't', Item: { pk: 'a' } }))).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
  });
});

describe('endpoints', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_DYNAMODB']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it("are the service's own variable, then the general one, then the region's AWS endpoint", () => {
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    expect(endpointFor(service, 'eu-west-1')).toBe('https://dynamodb.eu-west-1.amazonaws.com');
    expect(endpointFor(service, 'cn-north-1')).toBe('https://dynamodb.cn-north-1.amazonaws.com.cn');
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:1';
    expect(endpointFor(service, 'eu-west-1')).toBe('http://127.0.0.1:1');
    process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:2';
    expect(endpointFor(service, 'eu-west-1')).toBe('http://127.0.0.1:2');
  });
});
