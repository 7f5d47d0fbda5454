import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dynamoDocumentClient, kmsClient } from '../../lib/aws/clients.ts';

/**
 * The clients take their credentials from the environment and nothing else, so that packaging may
 * leave the SDK's default chain out of the bundles (scripts/bundle.ts). A profile in the environment
 * would make the default chain skip the environment's keys and look for the profile instead.
 */
const VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
];
let saved: Record<string, string | undefined>;

beforeEach(() => {
  saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIDENVIRONMENT',
    AWS_SECRET_ACCESS_KEY: 'environment-secret',
    AWS_SESSION_TOKEN: 'environment-token',
    AWS_PROFILE: 'coffer-profile-that-does-not-exist',
    AWS_CONFIG_FILE: '/nonexistent/coffer/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/coffer/credentials',
  });
});

afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('AWS clients', () => {
  it('sign with the credentials in the environment, whatever profile is configured', async () => {
    const expected = { accessKeyId: 'AKIDENVIRONMENT', secretAccessKey: 'environment-secret', sessionToken: 'environment-token' };
    await expect(kmsClient('eu-west-1').config.credentials()).resolves.toMatchObject(expected);
    await expect(dynamoDocumentClient('eu-west-1').config.credentials()).resolves.toMatchObject(expected);
  });

  it('fail instead of looking elsewhere when the environment has no credentials', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await expect(kmsClient('eu-west-1').config.credentials()).rejects.toThrow(/environment/i);
  });
});
