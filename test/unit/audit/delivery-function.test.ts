import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscriptionEvent } from '../../../dev/audit-delivery.ts';
import { localFunctionEnvironment } from '../../../dev/local-environment.ts';
import { handler } from '../../../functions/audit/deliver-audit-records.ts';
import { resetConfig } from '../../../lib/runtime/config.ts';

/**
 * The delivery function's own handling of what CloudWatch Logs sends besides audit lines; nothing
 * here reaches a store (the endpoint is a closed port: a write would fail the test).
 */
const savedEnv = { ...process.env };

beforeAll(() => {
  Object.assign(
    process.env,
    localFunctionEnvironment({
      vaultName: 'default',
      vaultDomain: 'vault.localhost',
      tenantId: 'tenant-1',
      issuer: 'https://127.0.0.1:9/tenant-1/v2.0',
      jwksUri: 'https://127.0.0.1:9/keys',
      authorityHost: 'https://127.0.0.1:9',
      audience: 'https://vault.localhost',
      endpoints: { dynamodb: 'http://127.0.0.1:9', kms: 'http://127.0.0.1:9' },
      tables: { objects: 'objects', audit: 'audit' },
    }),
    { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  );
  resetConfig();
});

afterAll(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
  resetConfig();
});

describe('the audit delivery function', () => {
  it("answers CloudWatch Logs' control message, sent when a subscription is created, without writing", async () => {
    const data = { messageType: 'CONTROL_MESSAGE', owner: 'CloudwatchLogs', logGroup: '', logStream: '', subscriptionFilters: [], logEvents: [] };
    const event = { awslogs: { data: gzipSync(JSON.stringify(data)).toString('base64') } };
    await expect(handler(event)).resolves.toEqual({ delivered: 0, ignored: 0, malformed: [] });
  });

  it('writes nothing for a batch without audit records', async () => {
    const event = subscriptionEvent([{ id: '1', timestamp: 0, message: '{"level":"INFO","message":"request"}' }]);
    await expect(handler(event)).resolves.toEqual({ delivered: 0, ignored: 1, malformed: [] });
  });

  it('fails when the store cannot be reached, so that the batch is delivered again', async () => {
    const line = JSON.stringify({
      cofferAudit: 1,
      record: {
        time: new Date().toISOString(),
        vault: 'v1',
        requestId: 'r1',
        operationName: 'SecretGet',
        category: 'AuditEvent',
        resultType: 'Success',
        resultSignature: 'OK',
        httpStatusCode: 200,
        durationMs: 1,
        requestUri: 'https://v1.vault.localhost/secrets/s',
      },
    });
    await expect(handler(subscriptionEvent([{ id: '1', timestamp: 0, message: line }]))).rejects.toThrow();
  }, 60_000);
});
