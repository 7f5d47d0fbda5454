import { mkdtemp, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeRuleCommand, EventBridgeClient, ListTargetsByRuleCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalEventBridge } from '../../dev/eventbridge/server.ts';

/** The local EventBridge as a server: its state across restarts, its files, and what it refuses before any operation. */
let dir: string;
const credentials = { accessKeyId: 'AKIAEXAMPLELOCAL0001', secretAccessKey: 'local-test-secret' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffer-eb-server-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = () => ({
  dataDir: join(dir, 'eventbridge'),
  credentials,
  buses: ['coffer-test'],
  eventsLog: join(dir, 'events.log'),
  deadLetterLog: join(dir, 'dead.log'),
});

function client(endpoint: string): EventBridgeClient {
  return new EventBridgeClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
}

function post(endpoint: string, headers: Record<string, string>, body: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${endpoint}/`, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the local EventBridge server', () => {
  it('keeps rules and targets across a restart, in owner-only files', async () => {
    const first = await startLocalEventBridge(options());
    const events = client(first.endpoint);
    await events.send(new PutRuleCommand({ Name: 'kept', EventBusName: 'coffer-test', EventPattern: '{"source":["s"]}' }));
    await events.send(
      new PutTargetsCommand({
        Rule: 'kept',
        EventBusName: 'coffer-test',
        Targets: [{ Id: 't', Arn: 'arn:aws:events:us-east-1:000000000000:api-destination/d/1' }],
      }),
    );
    events.destroy();
    await first.close();

    const second = await startLocalEventBridge(options());
    const again = client(second.endpoint);
    expect(await again.send(new DescribeRuleCommand({ Name: 'kept', EventBusName: 'coffer-test' }))).toMatchObject({
      Name: 'kept',
      EventPattern: '{"source":["s"]}',
    });
    expect((await again.send(new ListTargetsByRuleCommand({ Rule: 'kept', EventBusName: 'coffer-test' }))).Targets).toEqual([
      { Id: 't', Arn: 'arn:aws:events:us-east-1:000000000000:api-destination/d/1' },
    ]);
    again.destroy();
    await second.close();
    expect((await stat(join(dir, 'eventbridge'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'eventbridge', 'state.json'))).mode & 0o777).toBe(0o600);
  });

  it('listens on loopback only and answers only requests addressed to a loopback host', async () => {
    await expect(startLocalEventBridge({ ...options(), host: '0.0.0.0' })).rejects.toThrow(/loopback only/);
    const server = await startLocalEventBridge(options());
    try {
      const rebound = await post(server.endpoint, { host: 'attacker.example:80', 'x-amz-target': 'AWSEvents.ListRules' }, '{}');
      expect(rebound).toMatchObject({ status: 403, json: { __type: 'AccessDeniedException' } });
      const unsigned = await post(server.endpoint, { 'x-amz-target': 'AWSEvents.ListRules', 'content-type': 'application/x-amz-json-1.1' }, '{}');
      expect(unsigned).toMatchObject({ status: 403, json: { __type: 'MissingAuthenticationTokenException' } });
      const forged = await post(
        server.endpoint,
        {
          'x-amz-target': 'AWSEvents.ListRules',
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-date': new Date()
            .toISOString()
            .replace(/[-:]/g, '')
            .replace(/\.\d{3}/, ''),
          authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/20260101/us-east-1/events/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
        },
        '{}',
      );
      expect(forged).toMatchObject({ status: 400, json: { __type: 'InvalidSignatureException' } });
    } finally {
      await server.close();
    }
  });
});
