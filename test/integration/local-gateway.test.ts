import { connect, type PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { MANAGEMENT_AUDIENCE } from '../../dev/local-environment.ts';
import { TEST_VAULT_ENDPOINTS } from '../../dev/stack.ts';
import { adminSecretCredential, localStack, raw, uniqueName } from '../support/local.ts';

/**
 * The local gateway's listeners, as `.coffer/local.json` describes them: the data plane on the
 * vault URL, the management plane on a port of its own, and the vault endpoint pool, each endpoint a
 * data-plane listener a vault claims. Each listener serves its own planes only, and passes the
 * client's Host header on as it came, port included.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LOOPBACK_URL = /^https:\/\/localhost:(\d+)$/;

const portOf = (url: string) => Number(LOOPBACK_URL.exec(url)?.[1]);

describe('local.json', () => {
  it('names the management plane, the subscription, the resource group and the vault endpoints', () => {
    const info = localStack();
    expect(info.managementUrl).toMatch(LOOPBACK_URL);
    expect(info.managementScope).toBe('https://management.localhost/.default');
    expect(info.subscriptionId).toMatch(UUID);
    expect(info.resourceGroup).toBe('coffer-local');
    expect(info.vaultEndpoints).toHaveLength(TEST_VAULT_ENDPOINTS);
    for (const endpoint of info.vaultEndpoints) expect(endpoint).toMatch(LOOPBACK_URL);
    const ports = [info.vaultUrl, info.managementUrl, ...info.vaultEndpoints].map(portOf);
    expect(new Set(ports).size).toBe(ports.length);
  });
});

describe('the listeners', () => {
  it('serve no data-plane route on the management port', async () => {
    const info = localStack();
    const onData = await raw('GET', `${info.vaultUrl}/secrets?api-version=7.6`);
    expect(onData.status, onData.text).toBe(200);
    for (const [method, path] of [
      ['GET', '/secrets?api-version=7.6'],
      ['PUT', `/secrets/${uniqueName('mgmt')}?api-version=7.6`],
      ['GET', '/keys?api-version=7.6'],
    ] as const) {
      const onManagement = await raw(method, `${info.managementUrl}${path}`, method === 'PUT' ? { body: { value: 'v' } } : {});
      expect(onManagement.status, `${method} ${path}`).toBe(404);
      expect(onManagement.json).toEqual({ error: { code: 'NotFound', message: expect.any(String) } });
    }
  });

  it('serve no management route on the data ports', async () => {
    const info = localStack();
    for (const base of [info.vaultUrl, info.vaultEndpoints[0]!]) {
      for (const [method, path] of [
        ['GET', '/subscriptions?api-version=2022-12-01'],
        ['GET', `/subscriptions/${info.subscriptionId}/providers/Microsoft.KeyVault/vaults?api-version=2026-02-01`],
      ] as const) {
        const response = await raw(method, `${base}${path}`);
        expect(response.status, `${method} ${base}${path}`).toBe(404);
        expect(response.json).toEqual({ error: { code: 'NotFound', message: expect.any(String) } });
      }
    }
  });

  it('serve the management plane on its port, also to the `//subscriptions` ARM clients send for a scope', async () => {
    const info = localStack();
    const token = (await adminSecretCredential(info).getToken(info.managementScope))!.token;
    for (const path of ['/subscriptions?api-version=2022-12-01', '//subscriptions?api-version=2022-12-01']) {
      const listed = await raw('GET', `${info.managementUrl}${path}`, { token });
      expect(listed.status, `${path}: ${listed.text}`).toBe(200);
      expect(listed.json.value.map((s: { subscriptionId: string }) => s.subscriptionId)).toContain(info.subscriptionId);
    }
    const scoped = `//subscriptions/${info.subscriptionId}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01`;
    const assignments = await raw('GET', `${info.managementUrl}${scoped}`, { token });
    expect(assignments.status, assignments.text).toBe(200);
    expect(assignments.json.value).toEqual(expect.any(Array));
  });

  it('serve the data plane on every vault endpoint and pass the Host header on with its port', async () => {
    const info = localStack();
    for (const endpoint of info.vaultEndpoints) {
      const host = `${info.vaultName}.${info.vaultDomain}:${portOf(endpoint)}`;
      const name = uniqueName('endpoint');
      const set = await raw('PUT', `${endpoint}/secrets/${name}?api-version=7.6`, { body: { value: 'reached' }, host });
      expect(set.status, set.text).toBe(200);
      // Object ids are built on the Host the request carried.
      expect(set.json.id).toMatch(new RegExp(`^https://${host.replace(/\./g, '\\.')}/secrets/${name}/[0-9a-f]{32}$`));
      const read = await raw('GET', `${info.vaultUrl}/secrets/${name}?api-version=7.6`);
      expect(read.json.value).toBe('reached');
      expect(read.json.id).toMatch(new RegExp(`^${info.vaultUrl}/secrets/${name}/`));
    }
  });

  it('present a certificate for localhost, the vault hosts and the management host', async () => {
    const info = localStack();
    const managementHost = new URL(MANAGEMENT_AUDIENCE).hostname;
    expect(managementHost).toBe('management.localhost');
    for (const servername of ['localhost', `${info.vaultName}.${info.vaultDomain}`, managementHost]) {
      // connect() checks the chain against the suite's CA and the certificate's names against servername.
      const certificate = await new Promise<PeerCertificate>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: portOf(info.managementUrl), servername }, () => {
          resolve(socket.getPeerCertificate());
          socket.end();
        });
        socket.once('error', reject);
      });
      expect(certificate.subjectaltname?.split(', ')).toEqual(
        expect.arrayContaining(['DNS:localhost', `DNS:*.${info.vaultDomain}`, `DNS:${managementHost}`]),
      );
    }
  });
});
