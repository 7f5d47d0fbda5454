import { request as httpsRequest } from 'node:https';
import { describe, expect, it } from 'vitest';
import { NotFound, VaultError } from '../../lib/core/errors.ts';
import type { DataKeyProvider } from '../../lib/crypto/envelope.ts';
import { parseHost, VaultDirectory } from '../../lib/vaults/directory.ts';
import type { Vault, VaultStore } from '../../lib/vaults/vault.ts';
import { adminSecretCredential, adminToken, localStack, type RawResponse, raw, uniqueName } from '../support/local.ts';

/**
 * The Host header decides which vault answers and nothing else: junk is a 400 before any store call,
 * and every id and nextLink names the vault's canonical URL, never what the header said.
 */
const V = 'api-version=7.6';
const port = () => new URL(localStack().vaultUrl).port;

/**
 * A request to the gateway's own port with exactly this Host header. TLS names `localhost` (Node would
 * otherwise send the Host header as the server name and check the certificate against it).
 */
async function withHost(method: string, path: string, host: string, options: { token?: string | null; body?: object } = {}): Promise<RawResponse> {
  const token = options.token === undefined ? await adminToken() : options.token;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    host,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(body ? { 'content-type': 'application/json' } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ hostname: '127.0.0.1', port: Number(port()), servername: 'localhost', method, path, headers }, (res) => {
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
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/** Hosts a URL built on them could be bent by, or that no vault is spelled as. */
const JUNK_HOSTS = [
  'localhost:1@evil.example',
  'evil.example@localhost',
  'user:pass@localhost',
  'localhost/evil.example',
  'localhost?x=evil.example',
  'localhost#evil.example',
  'local host',
  'localhost :8443',
  'localhost:1:2',
  'localhost:abc',
  'localhost:',
  'localhost:0',
  'localhost:65536',
  'localhost:08443',
  'localhost:+8443',
  '[::1]',
  '[::1]:8443',
  '[::ffff:127.0.0.1]:8443',
  '::1',
  'localhost.',
  'localhost..',
  '.localhost',
  '-localhost',
  'localhost,evil.example',
  'localhost\\evil.example',
  `${'a'.repeat(64)}.vault.localhost`,
];

describe('Host header, through the gateway', () => {
  it.each(JUNK_HOSTS)('answers %j with 400 in Azure shape, naming nothing of it', async (host) => {
    const response = await withHost('GET', `/secrets?${V}`, host);
    expect(response.status).toBe(400);
    expect(response.json.error).toEqual({ code: 'BadParameter', message: "The request's Host header must be a host name with an optional port." });
    expect(response.text).not.toContain('evil');
    expect(JSON.stringify(response.headers)).not.toContain('evil');
  });

  it('answers a well-formed host that serves no vault with 404 VaultNotFound', async () => {
    for (const host of ['evil.example', `evil.example:${port()}`, 'nobody-here.vault.localhost', 'vault.localhost']) {
      const response = await withHost('GET', `/secrets?${V}`, host);
      expect(response.status, host).toBe(404);
      expect(response.json.error.code).toBe('VaultNotFound');
    }
  });

  it('builds ids on the canonical URL for crafted but valid spellings of the default vault', async () => {
    const p = port();
    const spellings: [string, string][] = [
      [`LOCALHOST:${p}`, `https://localhost:${p}`],
      [`LocalHost:${p}`, `https://localhost:${p}`],
      [`Default.Vault.LOCALHOST.:${p}`, `https://default.vault.localhost:${p}`],
      [`default.vault.localhost:${p}`, `https://default.vault.localhost:${p}`],
      [`127.0.0.1:${p}`, `https://127.0.0.1:${p}`],
      // 443 is what https:// means: the canonical URL does not repeat it.
      ['localhost:443', 'https://localhost'],
    ];
    for (const [host, canonical] of spellings) {
      const name = uniqueName('host');
      const set = await withHost('PUT', `/secrets/${name}?${V}`, host, { body: { value: 'canonical' } });
      expect(set.status, `${host} ${set.text}`).toBe(200);
      expect(set.json.id, host).toMatch(new RegExp(`^${canonical.replace(/\./g, '\\.')}/secrets/${name}/[0-9a-f]{32}$`));
      const listed = await withHost('GET', `/secrets/${name}/versions?${V}&maxresults=1`, host);
      expect(listed.json.value[0].id.startsWith(`${canonical}/secrets/${name}/`), host).toBe(true);
    }
  });

  it('builds nextLink on the canonical URL', async () => {
    const p = port();
    const name = uniqueName('next');
    for (const value of ['one', 'two']) await raw('PUT', `/secrets/${name}?${V}`, { body: { value } });
    const listed = await withHost('GET', `/secrets/${name}/versions?${V}&maxresults=1`, `Default.Vault.LOCALHOST.:${p}`);
    expect(listed.status).toBe(200);
    expect(listed.json.nextLink).toMatch(new RegExp(`^https://default\\.vault\\.localhost:${p}/secrets/${name}/versions\\?`));
    const next = new URL(listed.json.nextLink);
    const followed = await withHost('GET', `${next.pathname}${next.search}`, next.host);
    expect(followed.status).toBe(200);
    expect(followed.json.value).toHaveLength(1);
  });
});

describe('the challenge on a port (Python SDK verification)', () => {
  it('names the vault port in the challenge resource', async () => {
    const info = localStack();
    const response = await raw('GET', `/secrets?${V}`, { token: null });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(
      `Bearer authorization="${info.authorityHost}/${info.tenantId}", resource="${info.audience}:${port()}"`,
    );
  });

  it('passes the check azure-keyvault-secrets makes with verify_challenge_resource on, for vaultHostUrl', async () => {
    const info = localStack();
    const response = await withHost('GET', `/secrets?${V}`, new URL(info.vaultHostUrl).host, { token: null });
    const resource = /resource="([^"]+)"/.exec(String(response.headers['www-authenticate']))![1]!;
    // The Python policy: urlparse(request_url).netloc must end with "." + urlparse(scope).netloc, ports included.
    const requestNetloc = new URL(info.vaultHostUrl).host;
    const scopeNetloc = new URL(`${resource}/.default`).host;
    expect(requestNetloc.endsWith(`.${scopeNetloc}`)).toBe(true);
    // The JS SDK's check compares host names only: it passes as before.
    expect(new URL(info.vaultHostUrl).hostname.endsWith(`.${new URL(resource).hostname}`)).toBe(true);
  });

  it("accepts a real token for the challenge's port-qualified resource, and refuses one for another port", async () => {
    const info = localStack();
    const credential = adminSecretCredential(info);
    const ported = (await credential.getToken(`${info.audience}:${port()}/.default`))!.token;
    const accepted = await raw('GET', `/secrets?${V}`, { token: ported });
    expect(accepted.status).toBe(200);
    // Port 1 is no pool endpoint: at it the alias names the default vault, on another URL.
    const otherPort = Number(port()) === 1 ? 2 : 1;
    const elsewhere = (await credential.getToken(`${info.audience}:${otherPort}/.default`))!.token;
    const refused = await raw('GET', `/secrets?${V}`, { token: elsewhere });
    expect(refused.status).toBe(401);
    expect(refused.json.error.message).toMatch(/audience/);
    // The same port-qualified token replayed under a Host naming the other port is refused: the audience follows the vault's URL.
    const replayed = await withHost('GET', `/secrets?${V}`, `localhost:${otherPort}`, { token: ported });
    expect(replayed.status).toBe(401);
    expect(replayed.json.error.message).toMatch(/audience/);
  });
});

describe('VaultDirectory.locate', () => {
  const vault = { name: 'default', deleted: undefined } as unknown as Vault;
  const claimed = { name: 'claimed', deleted: undefined } as unknown as Vault;
  function directory() {
    const calls: string[] = [];
    const store = {
      getVault: async (name: string) => {
        calls.push(`getVault ${name}`);
        return name === 'default' ? vault : name === 'claimed' ? claimed : undefined;
      },
      vaultAtEndpoint: async (host: string) => {
        calls.push(`vaultAtEndpoint ${host}`);
        return host === 'localhost:40001' ? 'claimed' : undefined;
      },
    } as unknown as VaultStore;
    const keys = {} as DataKeyProvider;
    const vaults = new VaultDirectory(store, keys, 'vault.localhost', { localhost: 'default' }, [
      'https://localhost:40001',
      'https://localhost:40002',
    ]);
    return { vaults, calls };
  }

  it('refuses junk before any store call', async () => {
    const { vaults, calls } = directory();
    for (const host of JUNK_HOSTS) {
      await expect(vaults.locate(host), host).rejects.toMatchObject({ status: 400, code: 'BadParameter' });
    }
    await expect(vaults.locate(undefined)).rejects.toBeInstanceOf(VaultError);
    await expect(vaults.locate('')).rejects.toMatchObject({ status: 400 });
    expect(calls).toEqual([]);
  });

  it('answers the configured spelling of the alias, vault domain or endpoint', async () => {
    const { vaults } = directory();
    expect((await vaults.locate('LOCALHOST:8443')).baseUrl).toBe('https://localhost:8443');
    expect((await vaults.locate('localhost')).baseUrl).toBe('https://localhost');
    expect((await vaults.locate('DEFAULT.vault.localhost.')).baseUrl).toBe('https://default.vault.localhost');
    expect((await vaults.locate('default.vault.localhost:443')).baseUrl).toBe('https://default.vault.localhost');
    const endpoint = await vaults.locate('LocalHost:40001');
    expect(endpoint).toEqual({ vault: claimed, baseUrl: 'https://localhost:40001' });
  });

  it('serves nobody at an unclaimed pool endpoint, not the default vault its alias names', async () => {
    const { vaults } = directory();
    await expect(vaults.locate('localhost:40002')).rejects.toBeInstanceOf(NotFound);
  });

  it('parses hosts strictly', () => {
    expect(parseHost('Example.COM:65535')).toEqual({ hostname: 'example.com', port: 65535, host: 'example.com:65535' });
    expect(parseHost('example.com:443')).toEqual({ hostname: 'example.com', host: 'example.com' });
    expect(() => parseHost('example.com.')).toThrow(/Host header/);
    expect(parseHost('a.vault.localhost.', 'vault.localhost').host).toBe('a.vault.localhost');
  });
});
