import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { ClientCertificateCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import type { LocalStackInfo } from '../../dev/stack.ts';

/** The stack global-setup started, as `.coffer/local.json` describes it. */
export function localStack(): LocalStackInfo {
  const path = process.env.COFFER_LOCAL_JSON;
  if (!path) throw new Error('COFFER_LOCAL_JSON is not set: run the tests through vitest (npm test)');
  return JSON.parse(readFileSync(path, 'utf8')) as LocalStackInfo;
}

export function adminSecretCredential(info = localStack()): ClientSecretCredential {
  return new ClientSecretCredential(info.tenantId, info.clientId, info.clientSecret, {
    authorityHost: info.authorityHost,
    disableInstanceDiscovery: true,
  });
}

export function adminCertificateCredential(info = localStack()): ClientCertificateCredential {
  return new ClientCertificateCredential(
    info.tenantId,
    info.clientId,
    { certificatePath: info.clientCertificateFile },
    {
      authorityHost: info.authorityHost,
      disableInstanceDiscovery: true,
    },
  );
}

export function unprivilegedCredential(info = localStack()): ClientSecretCredential {
  return new ClientSecretCredential(info.tenantId, info.unprivileged.clientId, info.unprivileged.clientSecret, {
    authorityHost: info.authorityHost,
    disableInstanceDiscovery: true,
  });
}

/** A principal that holds no role anywhere (dev/bootstrap.ts `roleless`). */
export function rolelessCredential(info = localStack()): ClientSecretCredential {
  return new ClientSecretCredential(info.tenantId, info.roleless.clientId, info.roleless.clientSecret, {
    authorityHost: info.authorityHost,
    disableInstanceDiscovery: true,
  });
}

/** A SecretClient exactly as a user configures one against the local vault. */
export function secretClient(credential: TokenCredential = adminSecretCredential(), info = localStack()): SecretClient {
  return new SecretClient(info.vaultUrl, credential, {
    // The local vault answers on localhost, which cannot end in `.vault.localhost`.
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 0 },
  });
}

const tokenCache = new Map<string, Promise<string>>();

export async function adminToken(info = localStack()): Promise<string> {
  let token = tokenCache.get('admin');
  if (!token) {
    token = adminSecretCredential(info)
      .getToken(`${info.audience}/.default`)
      .then((t) => t!.token);
    tokenCache.set('admin', token);
  }
  return token;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** A raw HTTPS request to the local gateway, for asserting exact wire behaviour. */
export async function raw(
  method: string,
  path: string,
  options: { body?: string | object; token?: string | null; headers?: Record<string, string>; host?: string } = {},
): Promise<RawResponse> {
  const info = localStack();
  const url = new URL(path, info.vaultUrl);
  const token = options.token === undefined ? await adminToken(info) : options.token;
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(options.host ? { host: options.host } : {}),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}
