import { createHash, createHmac } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AWS_REQUEST_CHANNEL,
  AwsJsonClient,
  type AwsJsonService,
  AwsServiceError,
  DEPENDENCY_TIMING,
  type DependencyTiming,
  endpointFor,
} from '../../lib/aws/api/aws-json.ts';
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '../../lib/aws/api/dynamodb.ts';
import { GenerateDataKeyCommand, KMSClient, SignCommand } from '../../lib/aws/api/kms.ts';
import { KmsDataKeys } from '../../lib/aws/kms-data-keys.ts';
import { ServiceUnavailable, Throttled } from '../../lib/core/errors.ts';

/**
 * The transport under Coffer's DynamoDB and KMS clients, against a loopback server that plays the
 * service: what goes on the wire (checked by a Signature V4 verifier written here from the
 * specification, not by the signer the client uses), how errors come back, and which failures are
 * retried.
 */
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session' };
const service: AwsJsonService = {
  signingName: 'dynamodb',
  endpointId: 'DYNAMODB',
  targetPrefix: 'DynamoDB_20120810',
  jsonVersion: '1.0',
  dependency: 'object store',
};

interface Received {
  headers: IncomingMessage['headers'];
  method: string;
  url: string;
  body: string;
}
type Answer = (
  request: Received,
  n: number,
) => { status: number; body?: unknown; headers?: Record<string, string>; hang?: boolean; trickle?: boolean };

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
      const { status, body, headers, hang, trickle } = answer(got, received.length);
      if (hang) return;
      if (trickle) {
        // An answer that keeps the connection busy and never ends: a socket idle timeout never fires.
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        const drip = setInterval(() => (response.writable ? response.write(' ') : clearInterval(drip)), 50);
        response.on('close', () => clearInterval(drip));
        return;
      }
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

const endpoint = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const client = (timing?: Partial<DependencyTiming>, own: AwsJsonService = service) =>
  new AwsJsonClient(own, { region: 'eu-west-1', endpoint: endpoint(), credentials: () => credentials, ...(timing ? { timing } : {}) });
/** A short budget, so the transport's own tests of stalls take a fraction of a second. */
const shortTiming = { attemptTimeoutMs: 200, callBudgetMs: 500, failFastMs: 300 };
const elapsed = async (work: () => Promise<unknown>) => {
  const started = Date.now();
  const outcome = await work().catch((error: unknown) => error);
  return { outcome, ms: Date.now() - started };
};

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
    const failure = await client()
      .call('PutItem', {})
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ServiceUnavailable);
    expect((failure as Error).cause).toMatchObject({ name: 'InternalServerError', $fault: 'server' });
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

describe('dependency time budget', () => {
  it('is 3 s per call, 1.5 s per attempt, inside the functions’ 10 s timeout', () => {
    expect(DEPENDENCY_TIMING).toEqual({ attemptTimeoutMs: 1_500, callBudgetMs: 3_000, failFastMs: 1_000 });
  });

  it('ends a call to a service that takes the request and never answers within the budget, as a 503', async () => {
    answer = () => ({ status: 0, hang: true });
    const { outcome, ms } = await elapsed(() => client().call('GetItem', {}));
    expect(outcome).toBeInstanceOf(ServiceUnavailable);
    expect(outcome).toMatchObject({ status: 503, code: 'ServiceUnavailable', headers: { 'Retry-After': '5' } });
    expect((outcome as Error).cause).toMatchObject({ code: 'ETIMEDOUT' });
    expect(ms).toBeGreaterThanOrEqual(DEPENDENCY_TIMING.callBudgetMs - 250);
    expect(ms).toBeLessThan(DEPENDENCY_TIMING.callBudgetMs + 250);
    expect(received).toHaveLength(2);
  });

  it('counts an attempt from its start to the answer’s end, so a trickling answer is cut off too', async () => {
    answer = () => ({ status: 200, trickle: true });
    const { outcome, ms } = await elapsed(() => client(shortTiming).call('GetItem', {}));
    expect(outcome).toBeInstanceOf(ServiceUnavailable);
    expect(ms).toBeLessThan(shortTiming.callBudgetMs + 150);
  });

  it('fails at once for a while after a service stopped answering, then tries it again', async () => {
    answer = () => ({ status: 0, hang: true });
    const unresponsive = client(shortTiming);
    await expect(unresponsive.call('GetItem', {})).rejects.toBeInstanceOf(ServiceUnavailable);
    const tried = received.length;
    const { outcome, ms } = await elapsed(() => unresponsive.call('PutItem', {}));
    expect(outcome).toBeInstanceOf(ServiceUnavailable);
    expect(ms).toBeLessThan(50);
    expect(received).toHaveLength(tried);
    await new Promise((resolve) => setTimeout(resolve, shortTiming.failFastMs));
    answer = () => ({ status: 200, body: { ok: 1 } });
    await expect(unresponsive.call('GetItem', {})).resolves.toEqual({ ok: 1 });
  });

  it('keeps throttled retries within the budget and answers 429 with Retry-After', async () => {
    answer = () => ({ status: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'slow down' } });
    const { outcome, ms } = await elapsed(() => client({ ...DEPENDENCY_TIMING, callBudgetMs: 600 }).call('GetItem', {}));
    expect(outcome).toBeInstanceOf(Throttled);
    expect(outcome).toMatchObject({ status: 429, code: 'Throttled', headers: { 'Retry-After': '1' } });
    expect(ms).toBeLessThan(600);
  });
});

describe('DynamoDB outages', () => {
  const documents = (at = endpoint()) => new DynamoDBDocumentClient({ region: 'eu-west-1', endpoint: at, credentials: () => credentials });

  it.each(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded'])(
    'are a 429 with Retry-After once every attempt was throttled (%s), with the last failure as cause',
    async (code) => {
      answer = () => ({ status: 400, body: { __type: `com.amazonaws.dynamodb.v20120810#${code}`, message: 'slow down' } });
      const { outcome, ms } = await elapsed(() => documents().send(new PutCommand({ TableName: 't', Item: { pk: 'a' } })));
      expect(outcome).toBeInstanceOf(Throttled);
      expect(outcome).toMatchObject({ status: 429, code: 'Throttled', headers: { 'Retry-After': '1' } });
      expect((outcome as Error).cause).toMatchObject({ name: code });
      expect(received.length).toBeGreaterThanOrEqual(2);
      expect(received.length).toBeLessThanOrEqual(3);
      expect(ms).toBeLessThan(DEPENDENCY_TIMING.callBudgetMs);
    },
  );

  it('are a 503 with Retry-After when every attempt failed on the server', async () => {
    answer = () => ({ status: 503, body: { __type: 'com.amazon.coral.availability#ServiceUnavailableException', message: 'down' } });
    const failure = await documents()
      .send(new PutCommand({ TableName: 't', Item: { pk: 'a' } }))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ServiceUnavailable);
    expect(failure).toMatchObject({ status: 503, headers: { 'Retry-After': '5' } });
    expect((failure as Error).cause).toMatchObject({ name: 'ServiceUnavailableException' });
    expect(received).toHaveLength(3);
  });

  it('include a store that cannot be reached at all', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const failure = await documents(`http://127.0.0.1:${port}`)
      .send(new PutCommand({ TableName: 't', Item: { pk: 'a' } }))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ServiceUnavailable);
    expect((failure as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('include a store that drops the connection (socket hang up)', async () => {
    answer = () => {
      server.closeAllConnections();
      return { status: 0, hang: true };
    };
    const failure = await documents()
      .send(new PutCommand({ TableName: 't', Item: { pk: 'a' } }))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ServiceUnavailable);
    expect(String((failure as Error).cause)).toMatch(/socket hang up|ECONNRESET/);
    expect(received).toHaveLength(3);
  });

  it('count a transaction cancelled only for throttled items as throttling: retried, then 429', async () => {
    answer = () => ({
      status: 400,
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        message: 'cancelled',
        CancellationReasons: [{ Code: 'None' }, { Code: 'ThrottlingError' }],
      },
    });
    const failure = await documents()
      .send(new TransactWriteCommand({ TransactItems: [] }))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Throttled);
    expect(received.length).toBeGreaterThanOrEqual(2);
  });

  it('leave a transaction cancelled by a condition as DynamoDB answered it, at once', async () => {
    answer = () => ({
      status: 400,
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        message: 'cancelled',
        CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'ThrottlingError' }],
      },
    });
    await expect(documents().send(new TransactWriteCommand({ TransactItems: [] }))).rejects.toMatchObject({
      name: 'TransactionCanceledException',
    });
    expect(received).toHaveLength(1);
  });

  it('leave the caller’s own errors as DynamoDB answered them', async () => {
    answer = () => ({ status: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'no' } });
    await expect(documents().send(new PutCommand({ TableName: 't', Item: { pk: 'a' } }))).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
  });
});

describe('KMS outages', () => {
  const kms = () => new KMSClient({ region: 'eu-west-1', endpoint: endpoint(), credentials: () => credentials });
  const dataKeys = () => new KmsDataKeys(kms());

  it('are a 429 with Retry-After while KMS throttles, through the data key adapter too', async () => {
    answer = () => ({ status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } });
    const failure = await dataKeys()
      .generateDataKey('alias/k', { vault: 'v' })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Throttled);
    expect(failure).toMatchObject({ status: 429, headers: { 'Retry-After': '1' } });
    expect(received.length).toBeGreaterThanOrEqual(2);
  });

  it('are a 503 for a KMS that fails on its side or cannot be reached', async () => {
    answer = () => ({ status: 500, body: { __type: 'KMSInternalException', message: 'internal' } });
    await expect(dataKeys().decryptDataKey(new Uint8Array([1]), {})).rejects.toBeInstanceOf(ServiceUnavailable);
    expect(received).toHaveLength(3);
    answer = () => ({ status: 0, hang: true });
    const stalled = new KmsDataKeys(
      new KMSClient({ region: 'eu-west-1', endpoint: endpoint(), credentials: () => credentials, timing: shortTiming }),
    );
    await expect(stalled.decryptDataKey(new Uint8Array([1]), {})).rejects.toBeInstanceOf(ServiceUnavailable);
  });

  it('answer a resource quota (LimitExceededException) as a 503 at once: no retry lifts it', async () => {
    answer = () => ({ status: 400, body: { __type: 'LimitExceededException', message: 'too many keys' } });
    const failure = await kms()
      .send(new SignCommand({ KeyId: 'k', Message: new Uint8Array([1]), SigningAlgorithm: 'RSASSA_PSS_SHA_256' }))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ServiceUnavailable);
    expect(received).toHaveLength(1);
  });

  it('leave what KMS answers about the request itself to the adapter', async () => {
    answer = () => ({ status: 400, body: { __type: 'NotFoundException', message: 'no such key' } });
    await expect(kms().send(new GenerateDataKeyCommand({ KeyId: 'k', KeySpec: 'AES_256' }))).rejects.toMatchObject({
      name: 'NotFoundException',
    });
    expect(received).toHaveLength(1);
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
