import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotationFromEnvironment } from '../../../lib/runtime/rotation.ts';

/** The rotator's configuration in AWS: its client secret from an SSM SecureString, fetched signed through Coffer's own transport. */
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
    response
      .writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
      .end(JSON.stringify({ Parameter: { Name: 'p', Type: 'SecureString', Value: 'the-client-secret' } }));
  });
});
const saved = { ...process.env };
const settings = {
  COFFER_ROTATION_VAULT_URL: 'https://orders.vault.example.test',
  AZURE_TENANT_ID: '11111111-1111-1111-1111-111111111111',
  AZURE_CLIENT_ID: '22222222-2222-2222-2222-222222222222',
  AZURE_AUTHORITY_HOST: 'https://login.example.test',
  AWS_REGION: 'eu-west-1',
};

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.AWS_ENDPOINT_URL_SSM = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.AWS_ACCESS_KEY_ID = 'AKIDROTATOR';
  process.env.AWS_SECRET_ACCESS_KEY = 'rotator-secret-key';
});

afterAll(async () => {
  process.env = saved;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('the rotator from its environment', () => {
  it('reads its client secret from the SSM parameter it names, signed with the function role, decrypted', async () => {
    const rotation = await rotationFromEnvironment({ ...settings, COFFER_ROTATION_CLIENT_SECRET_PARAMETER: '/coffer/prod/rotator/client-secret' });
    expect(rotation.vaultUrl).toBe('https://orders.vault.example.test');
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['x-amz-target']).toBe('AmazonSSM.GetParameter');
    expect(received[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDROTATOR\/\d{8}\/eu-west-1\/ssm\/aws4_request/);
    expect(JSON.parse(received[0]!.body)).toEqual({ Name: '/coffer/prod/rotator/client-secret', WithDecryption: true });
  });

  it('takes the client secret itself where no parameter is named (the local rotator), and says which setting is missing', async () => {
    received.length = 0;
    await expect(rotationFromEnvironment({ ...settings, AZURE_CLIENT_SECRET: 'local-secret' })).resolves.toMatchObject({
      vaultUrl: settings.COFFER_ROTATION_VAULT_URL,
    });
    expect(received).toEqual([]);
    await expect(rotationFromEnvironment({ ...settings })).rejects.toThrow('AZURE_CLIENT_SECRET is not set');
    const { COFFER_ROTATION_VAULT_URL: _, ...noVault } = settings;
    await expect(rotationFromEnvironment({ ...noVault, AZURE_CLIENT_SECRET: 's' })).rejects.toThrow('COFFER_ROTATION_VAULT_URL is not set');
  });
});
