import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { type ConnectionOptions, connect, createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalCa, issueServerCertificate } from '../../dev/tls.ts';
import { localStack } from '../support/local.ts';

/**
 * The TLS the local stack's servers accept (dev/tls-policy.ts): TLS 1.3, and TLS 1.2 with ECDHE and
 * AEAD suites only. Each refusal is checked against a server that accepts everything, so a refusal
 * here is the stack's and not a client that could not offer what it was asked to.
 */
const info = localStack();
const listeners = [
  { name: 'the gateway, data plane', port: Number(new URL(info.vaultUrl).port) },
  { name: 'the gateway, management plane', port: Number(new URL(info.managementUrl).port) },
  { name: 'the gateway, a vault endpoint', port: Number(new URL(info.vaultEndpoints[0]!).port) },
  { name: 'the identity provider', port: Number(new URL(info.authorityHost).port) },
];

const CBC_AT_TLS12: ConnectionOptions = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA' };
// OpenSSL 3 offers TLS 1.1 only at security level 0.
const TLS11: ConnectionOptions = { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' };
const GCM_AT_TLS12: ConnectionOptions = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' };
const TLS13: ConnectionOptions = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' };

type Handshake = { ok: true; protocol: string | null; cipher: string } | { ok: false; code: string };

function handshake(port: number, options: ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...options });
    socket.once('secureConnect', () => {
      resolve({ ok: true, protocol: socket.getProtocol(), cipher: socket.getCipher().name });
      socket.destroy();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, code: error.code ?? error.message }));
  });
}

/** A server that accepts every protocol and suite this OpenSSL has, with a certificate of the stack's CA. */
let permissive: Server;
let permissivePort: number;

beforeAll(async () => {
  const ca = await ensureLocalCa(process.env.COFFER_TEST_DATA_DIR!);
  const { certPem, keyPem } = await issueServerCertificate(ca, { dns: ['localhost'], ips: [] });
  permissive = createServer({ cert: certPem, key: keyPem, minVersion: 'TLSv1', ciphers: 'ALL@SECLEVEL=0' }, (socket) => socket.end());
  permissive.listen(0, '127.0.0.1');
  await once(permissive, 'listening');
  permissivePort = (permissive.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => permissive.close(() => resolve())));

describe('the client offers', () => {
  it('CBC at TLS 1.2 and TLS 1.1, which a permissive server accepts', async () => {
    expect(await handshake(permissivePort, CBC_AT_TLS12)).toMatchObject({
      ok: true,
      protocol: 'TLSv1.2',
      cipher: expect.stringMatching(/-SHA(256)?$/),
    });
    expect(await handshake(permissivePort, TLS11)).toMatchObject({ ok: true, protocol: 'TLSv1.1' });
  });
});

describe.each(listeners)('$name', ({ port }) => {
  it('refuses a client offering only CBC suites at TLS 1.2', async () => {
    // OpenSSL names the alert `SSLV3_ALERT_...` up to 3.1 and `SSL/TLS_ALERT_...` from 3.2.
    expect(await handshake(port, CBC_AT_TLS12)).toEqual({
      ok: false,
      code: expect.stringMatching(/^ERR_SSL_(SSLV3|SSL\/TLS)_ALERT_HANDSHAKE_FAILURE$/),
    });
  });

  it('refuses TLS 1.1', async () => {
    expect(await handshake(port, TLS11)).toEqual({ ok: false, code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
  });

  it('speaks TLS 1.2 with ECDHE and AES-GCM', async () => {
    expect(await handshake(port, GCM_AT_TLS12)).toEqual({ ok: true, protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
  });

  it('chooses an AEAD suite at TLS 1.2 when the client prefers CBC', async () => {
    const offered = { ...CBC_AT_TLS12, ciphers: 'ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-CHACHA20-POLY1305' };
    expect(await handshake(port, offered)).toEqual({ ok: true, protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-CHACHA20-POLY1305' });
  });

  it('speaks TLS 1.3', async () => {
    expect(await handshake(port, TLS13)).toEqual({
      ok: true,
      protocol: 'TLSv1.3',
      cipher: expect.stringMatching(/^TLS_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA(256|384)$/),
    });
  });
});
