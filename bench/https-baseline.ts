/**
 * Baseline C: an HTTPS server in its own process doing the one GetItem GetSecret needs
 * (bench/https-baseline-main.ts). SecretClient calls it exactly as it calls the gateway (same client,
 * same pipeline, same keep-alive agent, same certificate), so the ratio of the two rows is what
 * Coffer's gateway and handler add on top of the floor of one DynamoDB round trip over HTTPS.
 */
import { fork } from 'node:child_process';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';
import { stopChild } from '../dev/dynamodb.ts';

export const BASELINE_OPTIONS_VARIABLE = 'COFFER_BENCH_HTTPS_BASELINE';

export interface HttpsBaselineOptions {
  /** The gateway's certificate and key, so both servers make the same TLS handshake. */
  tls: { certFile: string; keyFile: string };
  dynamodb: { endpoint: string; table: string; key: Record<string, unknown>; consistentRead: boolean };
  /** The WWW-Authenticate value the gateway answers a token-less request with. */
  challenge: string;
}

export interface HttpsBaseline {
  url: string;
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('https-baseline-main.ts', import.meta.url));

export async function startHttpsBaseline(options: HttpsBaselineOptions): Promise<HttpsBaseline> {
  // Started the way dev/stack.ts starts the gateway.
  const child = fork(MAIN, [], {
    env: { ...process.env, [BASELINE_OPTIONS_VARIABLE]: JSON.stringify(options) },
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the HTTPS baseline did not start within 30 s')), 30_000);
    child.once('message', (message: { type?: string; port?: number }) => {
      clearTimeout(timer);
      if (message.type === 'ready' && message.port) resolve(message.port);
      else reject(new Error('the HTTPS baseline sent an unexpected start-up message'));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the HTTPS baseline exited during start-up (code ${code})`));
    });
  });
  return { url: `https://localhost:${port}`, stop: () => stopChild(child) };
}

/** What the gateway answers a request without a token: the challenge SecretClient starts from. */
export function challengeOf(vaultUrl: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/secrets/bench-challenge?api-version=7.6', vaultUrl), { method: 'GET' }, (res) => {
      res.resume();
      const challenge = res.headers['www-authenticate'];
      if (res.statusCode === 401 && typeof challenge === 'string') resolve(challenge);
      else reject(new Error(`the gateway answered a token-less request with ${res.statusCode} and no challenge`));
    });
    req.once('error', reject);
    req.end();
  });
}

/** A DynamoDB item as JSON text, binary attributes in base64: the baseline's answer carries the whole item. */
export function itemAsJson(item: Record<string, unknown>): string {
  return JSON.stringify(item, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value));
}
