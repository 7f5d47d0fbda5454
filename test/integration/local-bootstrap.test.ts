import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBootstrapState } from '../../dev/bootstrap.ts';
import { startIdentityProvider, type IdentityProvider } from '../../dev/idp/server.ts';
import { ensureLocalCa, issueServerCertificate } from '../../dev/tls.ts';

/**
 * The local stack's identity state (`identity/bootstrap.json`): made once, kept across starts, and
 * completed in place when a data directory predates one of its fields. Its own identity provider in
 * a temporary directory, so nothing here touches the suite's stack.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let dataDir: string;
let idp: IdentityProvider;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'coffer-bootstrap-'));
  const ca = await ensureLocalCa(dataDir);
  const tls = await issueServerCertificate(ca, { dns: ['localhost'], ips: ['127.0.0.1'] });
  idp = await startIdentityProvider({ dataDir: join(dataDir, 'identity'), tls });
});

afterAll(async () => {
  await idp?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the bootstrap state', () => {
  it('gets a subscription on the first start and keeps it, and its principals, on the next', async () => {
    const path = join(dataDir, 'fresh.json');
    const first = await ensureBootstrapState(path, idp);
    expect(first.subscriptionId).toMatch(UUID);
    expect(first.subscriptionId).not.toBe(first.tenantId);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(first);
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const again = await ensureBootstrapState(path, idp);
    expect(again).toEqual(first);
    // The second start registered nobody new.
    expect(idp.listServicePrincipals(first.tenantId).map((sp) => sp.clientId)).toEqual(
      expect.arrayContaining([first.admin.clientId, first.unprivileged.clientId, first.roleless.clientId]),
    );
    expect(idp.listServicePrincipals(first.tenantId)).toHaveLength(3);
  });

  it('adds a subscription to a state file from before subscriptions, keeping everything else', async () => {
    const path = join(dataDir, 'older.json');
    const current = await ensureBootstrapState(path, idp);
    const { subscriptionId: _dropped, ...older } = current;
    await writeFile(path, JSON.stringify(older), { mode: 0o600 });

    const upgraded = await ensureBootstrapState(path, idp);
    expect(upgraded.subscriptionId).toMatch(UUID);
    expect(upgraded).toEqual({ ...older, subscriptionId: upgraded.subscriptionId });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(upgraded);
    expect(await ensureBootstrapState(path, idp)).toEqual(upgraded);
  });

  it('adds the role-less principal to a state file from before it, registering it once', async () => {
    const path = join(dataDir, 'before-roleless.json');
    const current = await ensureBootstrapState(path, idp);
    const { roleless: _dropped, ...older } = current;
    await writeFile(path, JSON.stringify(older), { mode: 0o600 });
    const upgraded = await ensureBootstrapState(path, idp);
    expect(upgraded).toEqual({ ...older, roleless: upgraded.roleless });
    expect(upgraded.roleless.objectId).not.toBe(current.roleless.objectId);
    expect(await ensureBootstrapState(path, idp)).toEqual(upgraded);
  });
});
