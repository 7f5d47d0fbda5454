import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SsmClient } from '../../lib/aws/api/ssm.ts';
import type { PoolHsm } from '../../lib/hsm/hsm-keys.ts';
import type { Pkcs11TokenConfig } from '../../lib/pkcs11/token-session.ts';
import { poolHsmConfig, resetConfig } from '../../lib/runtime/config.ts';
import { configuredPartitionHsm } from '../../lib/runtime/pool-tokens.ts';

/**
 * The pools' HSM where the configuration names one partition for every pool (CloudHSM, the pools'
 * stack with --cloudhsm): the crypto user's credential read from the SSM SecureString the
 * configuration names, signed through Coffer's own transport (here a loopback SSM), once per
 * container and again after a failed read, and handed to the PKCS#11 adapter with the configured
 * library and token; a failed read is a 503 that carries no credential.
 */
const CREDENTIAL = 'crypto-user:correct horse battery staple';
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
let failNext = false;
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
    if (failNext) {
      failNext = false;
      response
        .writeHead(400, { 'content-type': 'application/x-amz-json-1.1' })
        .end(JSON.stringify({ __type: 'ParameterNotFound', message: 'no such parameter' }));
      return;
    }
    response
      .writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
      .end(JSON.stringify({ Parameter: { Name: 'p', Type: 'SecureString', Value: CREDENTIAL } }));
  });
});
const saved = { ...process.env };
const settings = { library: '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so', tokenLabel: 'hsm1', pinParameter: '/coffer/prod/cloudhsm/crypto-user' };

/** The PKCS#11 adapter's stand-in: what it was opened with, and a random source to call. */
const opened: Pkcs11TokenConfig[] = [];
const open = (config: Pkcs11TokenConfig): PoolHsm => {
  opened.push(config);
  return { randomBytes: async (count: number) => new Uint8Array(count).fill(7) } as unknown as PoolHsm;
};

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.AWS_ENDPOINT_URL_SSM = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.AWS_ACCESS_KEY_ID = 'AKIDPOOLS';
  process.env.AWS_SECRET_ACCESS_KEY = 'pools-secret-key';
});

beforeEach(() => {
  received.length = 0;
  opened.length = 0;
});

afterAll(async () => {
  process.env = saved;
  resetConfig();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('the partition the configuration names for every pool (CloudHSM)', () => {
  it('reads the configured library, token label and credential parameter from the pools’ variables', () => {
    Object.assign(process.env, {
      COFFER_PKCS11_LIBRARY: settings.library,
      COFFER_PKCS11_TOKEN_LABEL: settings.tokenLabel,
      COFFER_PKCS11_PIN_PARAMETER: settings.pinParameter,
    });
    resetConfig();
    expect(poolHsmConfig()).toEqual({ ...settings, tokenDirectory: undefined });
  });

  it('opens the token with the credential from SSM, read signed and decrypted once for every call of the container', async () => {
    const ssm = new SsmClient({ region: 'eu-west-1' });
    const hsm = configuredPartitionHsm(settings, (parameter) => ssm.secureString(parameter), open);
    // Nothing is read before the HSM is first used.
    expect(received).toEqual([]);
    expect(await hsm.randomBytes(4)).toEqual(new Uint8Array(4).fill(7));
    await hsm.randomBytes(2);
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['x-amz-target']).toBe('AmazonSSM.GetParameter');
    expect(received[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDPOOLS\/\d{8}\/eu-west-1\/ssm\/aws4_request/);
    expect(JSON.parse(received[0]!.body)).toEqual({ Name: settings.pinParameter, WithDecryption: true });
    expect(opened).toEqual([{ libraryPath: settings.library, tokenLabel: settings.tokenLabel, pin: CREDENTIAL }]);
  });

  it('answers 503 without the credential when the parameter cannot be read, and reads it again at the next call', async () => {
    const ssm = new SsmClient({ region: 'eu-west-1' });
    const hsm = configuredPartitionHsm(settings, (parameter) => ssm.secureString(parameter), open);
    failNext = true;
    const failure = await hsm.randomBytes(4).then(
      () => undefined,
      (error: unknown) => error as { status?: number; message: string },
    );
    expect(failure?.status).toBe(503);
    expect(failure?.message).not.toContain(CREDENTIAL);
    expect(opened).toEqual([]);
    expect(await hsm.randomBytes(1)).toEqual(new Uint8Array([7]));
    expect(received).toHaveLength(2);
    expect(opened).toHaveLength(1);
  });
});
