import { ManagedIdentityCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { adminCertificateCredential, localStack, secretClient, unprivilegedCredential, uniqueName } from '../support/local.ts';

/**
 * The official @azure/keyvault-secrets SecretClient, authenticated by @azure/identity against the
 * development identity provider, through every secrets operation.
 */
describe('SecretClient with a client secret credential', () => {
  const client = secretClient();

  it('sets, gets (latest and by version) and updates properties', async () => {
    const name = uniqueName('sdk');
    const first = await client.setSecret(name, 'first-value', { contentType: 'text/plain', tags: { team: 'a' } });
    expect(first.value).toBe('first-value');
    expect(first.properties.version).toMatch(/^[0-9a-f]{32}$/);
    expect(first.properties.contentType).toBe('text/plain');
    expect(first.properties.tags).toEqual({ team: 'a' });
    expect(first.properties.createdOn).toBeInstanceOf(Date);
    expect(first.properties.recoveryLevel).toBe('Recoverable+Purgeable');
    expect(first.properties.vaultUrl).toBe(localStack().vaultUrl);

    const second = await client.setSecret(name, 'second-value', { expiresOn: new Date('2037-06-01T00:00:00Z') });
    expect((await client.getSecret(name)).value).toBe('second-value');
    expect((await client.getSecret(name, { version: first.properties.version! })).value).toBe('first-value');

    const updated = await client.updateSecretProperties(name, second.properties.version!, {
      enabled: false,
      tags: { rotated: 'yes' },
      contentType: 'application/json',
    });
    expect(updated.enabled).toBe(false);
    expect(updated.tags).toEqual({ rotated: 'yes' });
    expect(updated.expiresOn?.toISOString()).toBe('2037-06-01T00:00:00.000Z');
    await expect(client.getSecret(name)).rejects.toMatchObject({ statusCode: 403, code: 'Forbidden' });
    await client.updateSecretProperties(name, second.properties.version!, { enabled: true });
    expect((await client.getSecret(name)).value).toBe('second-value');
  });

  it('pages through secrets and versions across several pages', async () => {
    const prefix = uniqueName('page');
    const names = Array.from({ length: 5 }, (_, i) => `${prefix}-${i}`);
    for (const name of names) await client.setSecret(name, `value-${name}`);
    for (let i = 0; i < 4; i++) await client.setSecret(names[0]!, `extra-${i}`);

    const listed: string[] = [];
    let pages = 0;
    for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 2 })) {
      pages++;
      expect(page.length).toBeLessThanOrEqual(2);
      listed.push(...page.map((p) => p.name));
    }
    expect(pages).toBeGreaterThanOrEqual(3);
    for (const name of names) expect(listed).toContain(name);

    const versions: string[] = [];
    let versionPages = 0;
    for await (const page of client.listPropertiesOfSecretVersions(names[0]!).byPage({ maxPageSize: 2 })) {
      versionPages++;
      versions.push(...page.map((p) => p.version!));
    }
    expect(versionPages).toBe(3);
    expect(new Set(versions).size).toBe(5);

    let total = 0;
    for await (const properties of client.listPropertiesOfSecretVersions(names[0]!)) {
      expect(properties.name).toBe(names[0]);
      total++;
    }
    expect(total).toBe(5);
  });

  it('deletes and recovers through the pollers, lists deleted secrets, and purges', async () => {
    const name = uniqueName('poll');
    await client.setSecret(name, 'survives');
    const deletePoller = await client.beginDeleteSecret(name, { intervalInMs: 50 });
    const deleted = await deletePoller.pollUntilDone();
    expect(deleted.name).toBe(name);
    expect(deleted.properties.deletedOn).toBeInstanceOf(Date);
    expect(deleted.properties.scheduledPurgeDate).toBeInstanceOf(Date);
    expect(deleted.properties.recoveryId).toBe(`${localStack().vaultUrl}/deletedsecrets/${name}`);

    const fetched = await client.getDeletedSecret(name);
    expect(fetched.name).toBe(name);
    const deletedNames: string[] = [];
    for await (const page of client.listDeletedSecrets().byPage({ maxPageSize: 3 })) deletedNames.push(...page.map((d) => d.name));
    expect(deletedNames).toContain(name);

    const recoverPoller = await client.beginRecoverDeletedSecret(name, { intervalInMs: 50 });
    const recovered = await recoverPoller.pollUntilDone();
    expect(recovered.name).toBe(name);
    expect((await client.getSecret(name)).value).toBe('survives');

    await (await client.beginDeleteSecret(name, { intervalInMs: 50 })).pollUntilDone();
    await client.purgeDeletedSecret(name);
    await expect(client.getDeletedSecret(name)).rejects.toMatchObject({ statusCode: 404, code: 'SecretNotFound' });
  });

  it('backs up and restores a secret with all its versions', async () => {
    const name = uniqueName('backup');
    await client.setSecret(name, 'v1');
    await client.setSecret(name, 'v2');
    const backup = await client.backupSecret(name);
    expect(backup).toBeInstanceOf(Uint8Array);
    await (await client.beginDeleteSecret(name, { intervalInMs: 50 })).pollUntilDone();
    await client.purgeDeletedSecret(name);
    const restored = await client.restoreSecretBackup(backup!);
    expect(restored.name).toBe(name);
    expect((await client.getSecret(name)).value).toBe('v2');
    let count = 0;
    for await (const _ of client.listPropertiesOfSecretVersions(name)) count++;
    expect(count).toBe(2);
  });

  it('surfaces Azure errors as RestErrors with the service code', async () => {
    await expect(client.getSecret(uniqueName('nope'))).rejects.toMatchObject({ statusCode: 404, code: 'SecretNotFound' });
    await expect(client.setSecret('bad_name', 'x')).rejects.toMatchObject({ statusCode: 400, code: 'BadParameter' });
  });
});

describe('SecretClient with other credentials', () => {
  it('works with a client certificate credential (client assertion)', async () => {
    const client = secretClient(adminCertificateCredential());
    const name = uniqueName('cert');
    await client.setSecret(name, 'via-certificate');
    expect((await client.getSecret(name)).value).toBe('via-certificate');
  });

  it('works with a managed identity (App Service form) and never reaches for the metadata address', async () => {
    const info = localStack();
    process.env.IDENTITY_ENDPOINT = info.managedIdentity.endpoint;
    process.env.IDENTITY_HEADER = info.managedIdentity.header;
    try {
      const client = secretClient(new ManagedIdentityCredential());
      const name = uniqueName('msi');
      await client.setSecret(name, 'via-managed-identity');
      expect((await client.getSecret(name)).value).toBe('via-managed-identity');
    } finally {
      delete process.env.IDENTITY_ENDPOINT;
      delete process.env.IDENTITY_HEADER;
    }
  });

  it('is refused with 403 ForbiddenByRbac for a principal without a role on the vault', async () => {
    const client = secretClient(unprivilegedCredential());
    await expect(client.getSecret('anything')).rejects.toMatchObject({ statusCode: 403, code: 'Forbidden' });
  });
});
