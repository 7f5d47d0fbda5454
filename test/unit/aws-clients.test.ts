import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GetCommand } from '../../lib/aws/api/dynamodb.ts';
import { GenerateRandomCommand } from '../../lib/aws/api/kms.ts';
import { dynamoDocumentClient, kmsClient } from '../../lib/aws/clients.ts';

/**
 * The functions' clients sign with the credentials in the environment and nothing else: no profile,
 * SSO or metadata lookup runs in a function (a profile in the environment would have made the SDK's
 * default chain skip the environment's keys and look for the profile instead).
 */
const VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_KMS',
  'AWS_REGION',
];
let saved: Record<string, string | undefined>;
let server: Server;
let seen: IncomingHttpHeaders[];

beforeEach(async () => {
  seen = [];
  server = createServer((request, response) => {
    seen.push(request.headers);
    request.resume();
    request.on('end', () => response.end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIDENVIRONMENT',
    AWS_SECRET_ACCESS_KEY: 'environment-secret',
    AWS_SESSION_TOKEN: 'environment-token',
    AWS_PROFILE: 'coffer-profile-that-does-not-exist',
    AWS_CONFIG_FILE: '/nonexistent/coffer/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/coffer/credentials',
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ENDPOINT_URL_KMS: endpoint,
  });
  delete process.env.AWS_REGION;
});

afterEach(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('AWS clients', () => {
  it('sign with the credentials in the environment, whatever profile is configured', async () => {
    await kmsClient('eu-west-1').send(new GenerateRandomCommand({ NumberOfBytes: 1 }));
    await dynamoDocumentClient('eu-west-1').send(new GetCommand({ TableName: 't', Key: { pk: 'a' } }));
    expect(seen.map((h) => /Credential=(\w+)\/\d+\/eu-west-1\/(\w+)\//.exec(String(h.authorization))?.slice(1))).toEqual([
      ['AKIDENVIRONMENT', 'kms'],
      ['AKIDENVIRONMENT', 'dynamodb'],
    ]);
    expect(seen.map((h) => h['x-amz-security-token'])).toEqual(['environment-token', 'environment-token']);
  });

  it('sign for the AWS region the function runs in, not the region Coffer names in its answers', async () => {
    process.env.AWS_REGION = 'us-east-1';
    await kmsClient('local').send(new GenerateRandomCommand({ NumberOfBytes: 1 }));
    await dynamoDocumentClient('local').send(new GetCommand({ TableName: 't', Key: { pk: 'a' } }));
    expect(seen.map((h) => /Credential=\w+\/\d+\/([\w-]+)\//.exec(String(h.authorization))?.[1])).toEqual(['us-east-1', 'us-east-1']);
  });

  it('fail instead of looking elsewhere when the environment has no credentials', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await expect(kmsClient('eu-west-1').send(new GenerateRandomCommand({ NumberOfBytes: 1 }))).rejects.toThrow(
      /No AWS credentials in the environment/,
    );
    expect(seen).toEqual([]);
  });
});
