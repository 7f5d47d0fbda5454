import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAuditLine } from '../../lib/audit/log-stream.ts';
import { localClient } from '../../dev/dynamodb.ts';
import { type RunningStack, startStack } from '../../dev/stack.ts';

/**
 * `startStack({ auditDelivery: false })`, which the benchmark uses so the gateway's delivery does not
 * write to the DynamoDB Local its rows read: the functions still hand every record to their log
 * stream before answering, and nothing is delivered to the audit table. A stack of its own, since the
 * shared one delivers.
 */
let dir: string;
let stack: RunningStack;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffer-no-delivery-'));
  stack = await startStack({ dataDir: dir, auditDelivery: false });
  // This worker trusts the shared stack's CA from its start; this stack has its own.
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), await readFile(stack.info.caFile, 'utf8')]);
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a local stack without audit delivery', () => {
  it('logs the record of every request and delivers none to the audit table', async () => {
    const { info } = stack;
    const credential = new ClientSecretCredential(info.tenantId, info.clientId, info.clientSecret, {
      authorityHost: info.authorityHost,
      disableInstanceDiscovery: true,
    });
    const client = new SecretClient(info.vaultUrl, credential, { disableChallengeResourceVerification: true });
    await client.setSecret('undelivered', 'value');
    const log = await readFile(info.gatewayLog, 'utf8');
    const logged = log
      .split('\n')
      .map(parseAuditLine)
      .flatMap((line) => (line.kind === 'record' ? [line.record] : []));
    expect(logged.map((record) => record.operationName)).toContain('SecretSet');

    // The delivery looks at the log every 100 ms when it runs; give it many times that to show it does not.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const dynamo = localClient(info.endpoints.dynamodb);
    try {
      const { Count } = await dynamo.send(new ScanCommand({ TableName: info.tables.audit, Select: 'COUNT' }));
      expect(Count).toBe(0);
    } finally {
      dynamo.destroy();
    }
  });
});
