import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KEY_VAULT_API_VERSIONS } from '../../lib/http/api-version.ts';
import * as z from 'zod/mini';
import { managementParameters } from '../../lib/http/path-parameters.ts';
import { matchRoute, routes } from '../../lib/http/routes.ts';

describe('route table matching', () => {
  it('prefers a literal segment over a parameter, as API Gateway does', () => {
    expect(matchRoute('GET', '/secrets/db-password/versions').match?.route.operation).toBe('GetSecretVersions');
    expect(matchRoute('GET', '/secrets/db-password/0123456789abcdef0123456789abcdef').match?.route.operation).toBe('GetSecret');
    expect(matchRoute('POST', '/secrets/restore').match?.route.operation).toBe('RestoreSecret');
  });

  it('routes the certificate literals (contacts, issuers, restore, pending, policy, versions) before {name}/{version}', () => {
    const V = '0123456789abcdef0123456789abcdef';
    const cases: [string, string, string, Record<string, string>][] = [
      ['GET', '/certificates/contacts', 'GetCertificateContacts', {}],
      ['PUT', '/certificates/contacts', 'SetCertificateContacts', {}],
      ['DELETE', '/certificates/contacts', 'DeleteCertificateContacts', {}],
      ['GET', '/certificates/issuers', 'GetCertificateIssuers', {}],
      ['GET', '/certificates/issuers/', 'GetCertificateIssuers', {}],
      ['GET', '/certificates/issuers/my-ca', 'GetCertificateIssuer', { issuerName: 'my-ca' }],
      ['PUT', '/certificates/issuers/my-ca', 'SetCertificateIssuer', { issuerName: 'my-ca' }],
      ['PATCH', '/certificates/issuers/my-ca', 'UpdateCertificateIssuer', { issuerName: 'my-ca' }],
      ['DELETE', '/certificates/issuers/my-ca', 'DeleteCertificateIssuer', { issuerName: 'my-ca' }],
      // Of an issuer row and a certificate row with two literals each, the issuer's wins.
      ['GET', '/certificates/issuers/policy', 'GetCertificateIssuer', { issuerName: 'policy' }],
      ['PATCH', '/certificates/issuers/pending', 'UpdateCertificateIssuer', { issuerName: 'pending' }],
      ['POST', '/certificates/restore', 'RestoreCertificate', {}],
      ['GET', '/certificates/web/pending', 'GetCertificateOperation', { name: 'web' }],
      ['PATCH', '/certificates/web/pending', 'UpdateCertificateOperation', { name: 'web' }],
      ['DELETE', '/certificates/web/pending', 'DeleteCertificateOperation', { name: 'web' }],
      ['POST', '/certificates/web/pending/merge', 'MergeCertificate', { name: 'web' }],
      ['GET', '/certificates/web/policy', 'GetCertificatePolicy', { name: 'web' }],
      ['PATCH', '/certificates/web/policy', 'UpdateCertificatePolicy', { name: 'web' }],
      ['GET', '/certificates/web/versions', 'GetCertificateVersions', { name: 'web' }],
      ['POST', '/certificates/web/create', 'CreateCertificate', { name: 'web' }],
      ['POST', '/certificates/web/import', 'ImportCertificate', { name: 'web' }],
      ['POST', '/certificates/web/backup', 'BackupCertificate', { name: 'web' }],
      ['DELETE', '/certificates/web', 'DeleteCertificate', { name: 'web' }],
      ['GET', '/certificates/web', 'GetCertificate', { name: 'web', version: '' }],
      ['GET', '/certificates/web/', 'GetCertificate', { name: 'web', version: '' }],
      ['GET', `/certificates/web/${V}`, 'GetCertificate', { name: 'web', version: V }],
      ['PATCH', `/certificates/web/${V}`, 'UpdateCertificate', { name: 'web', version: V }],
      ['PATCH', '/certificates/web/', 'UpdateCertificate', { name: 'web', version: '' }],
      ['GET', '/Certificates/Contacts', 'GetCertificateContacts', {}],
      ['GET', '/certificates', 'GetCertificates', {}],
      ['GET', '/deletedcertificates', 'GetDeletedCertificates', {}],
      ['GET', '/deletedcertificates/web', 'GetDeletedCertificate', { name: 'web' }],
      ['DELETE', '/deletedcertificates/web', 'PurgeDeletedCertificate', { name: 'web' }],
      ['POST', '/DeletedCertificates/web/Recover', 'RecoverDeletedCertificate', { name: 'web' }],
    ];
    for (const [method, path, operation, parameters] of cases) {
      const { match } = matchRoute(method, path);
      expect(match?.route.operation, `${method} ${path}`).toBe(operation);
      expect(match?.pathParameters, `${method} ${path}`).toEqual(parameters);
    }
    // A certificate named like a literal is still reached where no literal row has that method.
    expect(matchRoute('POST', '/certificates/contacts/create').match?.route.operation).toBe('CreateCertificate');
    expect(matchRoute('POST', '/certificates/issuers').pathExists).toBe(true);
    expect(matchRoute('POST', '/certificates/issuers').match).toBeUndefined();
  });

  it('gives a bad issuer name the object-name message, saying issuer', () => {
    const getIssuer = routes.find((r) => r.operation === 'GetCertificateIssuer')!;
    expect(getIssuer.params.safeParse({ issuerName: 'Digi-Cert1' }).data).toEqual({ issuerName: 'Digi-Cert1' });
    const bad = getIssuer.params.safeParse({ issuerName: 'my_ca' });
    expect(bad.error?.issues[0]?.message).toBe("The issuer name 'my_ca' is invalid: names are 1 to 127 characters of 0-9, a-z, A-Z and '-'.");
  });

  it('treats an empty or missing version as the latest, with or without a trailing slash', () => {
    for (const path of ['/secrets/a', '/secrets/a/']) {
      const { match } = matchRoute('GET', path);
      expect(match?.route.operation).toBe('GetSecret');
      expect(match?.pathParameters).toEqual({ name: 'a', version: '' });
    }
  });

  it('matches literal segments case-insensitively and decodes parameters', () => {
    const { match } = matchRoute('POST', '/DeletedSecrets/My-Secret/Recover');
    expect(match?.route.operation).toBe('RecoverDeletedSecret');
    expect(match?.pathParameters.name).toBe('My-Secret');
  });

  it('matches release and attestation with the version present, empty or absent, never as a version', () => {
    for (const version of ['0123456789abcdef0123456789abcdef/', '/', '']) {
      const release = matchRoute('POST', `/keys/k/${version}release`).match;
      expect(release?.route.operation, version).toBe('ReleaseKey');
      expect(release?.pathParameters, version).toEqual({ name: 'k', version: version.slice(0, -1) });
      expect(matchRoute('GET', `/keys/k/${version}attestation`).match?.route.operation, version).toBe('GetKeyAttestation');
    }
  });

  it('tells an unknown path from a known path with the wrong method', () => {
    expect(matchRoute('GET', '/nothing/here')).toEqual({ match: undefined, pathExists: false });
    const wrongMethod = matchRoute('PUT', '/deletedsecrets');
    expect(wrongMethod.match).toBeUndefined();
    expect(wrongMethod.pathExists).toBe(true);
  });

  it('has one entry per operation and per method+path', () => {
    const operations = routes.map((r) => r.operation);
    expect(new Set(operations).size).toBe(operations.length);
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('names every handler file after the kebab-case of its operation id', () => {
    for (const route of routes) {
      const kebab = route.operation.replace(/(?<!^)([A-Z])/g, '-$1').toLowerCase();
      expect(route.handler.split('/').at(-1), route.operation).toBe(kebab);
      expect(existsSync(new URL(`../../functions/${route.handler}.ts`, import.meta.url)), route.handler).toBe(true);
    }
  });

  it('validates exactly the path parameters its path declares', () => {
    for (const route of routes) {
      if (route.plane === 'management') continue;
      const declared = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const schema = 'params' in route ? route.params : undefined;
      expect(schema ? Object.keys(schema.shape).sort() : [], route.operation).toEqual(declared);
      if (typeof route.scope !== 'string') expect(declared, route.operation).toContain(route.scope.parameter);
    }
  });

  it('validates every management path parameter with the management schema, and names a provider', () => {
    for (const route of routes) {
      if (route.plane !== 'management') continue;
      const declared = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const schema = 'params' in route ? route.params : undefined;
      if (declared.length > 0) expect(schema && Object.keys(schema.shape), route.operation).toEqual(expect.arrayContaining(declared));
      expect('provider' in route && route.provider, route.operation).toBeTruthy();
    }
  });

  it('matches a role-assignment path at each scope shape, with the scope as written', () => {
    const sub = '00000000-0000-0000-0000-00000000000a';
    const vaultId = `/subscriptions/${sub}/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/v1`;
    for (const scope of [`/subscriptions/${sub}`, `/subscriptions/${sub}/resourceGroups/RG`, vaultId, `${vaultId}/secrets/db`]) {
      const { match } = matchRoute('PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/11111111-1111-1111-1111-111111111111`);
      expect(match?.route.operation, scope).toBe('CreateRoleAssignment');
      expect(match?.pathParameters.scope).toBe(scope);
      expect(match?.pathParameters.subscriptionId).toBe(sub);
    }
    expect(matchRoute('GET', `${vaultId}/secrets/db/providers/Microsoft.Authorization/roleAssignments`).match?.route.operation).toBe(
      'ListRoleAssignments',
    );
    // Any collection matches the shape; the path schema refuses what is not secrets, keys or certificates.
    const other = matchRoute('GET', `${vaultId}/other/db/providers/Microsoft.Authorization/roleAssignments`).match;
    expect(other && z.safeParse(managementParameters, other.pathParameters).success).toBe(false);
    expect(matchRoute('GET', `${vaultId}`).match?.route.operation).toBe('GetVault');
  });

  it('names an object for the audit record only where the route addresses one', () => {
    for (const route of routes) {
      const auditId = 'auditId' in route ? route.auditId : undefined;
      if (auditId === 'path' || auditId === 'deleted') expect(route.scope, route.operation).not.toBe('vault');
      if (auditId === 'deleted') expect(route.path, route.operation).toMatch(/^\/deleted/);
    }
  });

  it('dates rotation, rotation policies, random bytes and key release from api-version 7.3, attestation from 7.6', () => {
    const since = routes.filter((r) => 'since' in r).map((r) => [r.operation, r.since]);
    for (const [operation, version] of since) expect(KEY_VAULT_API_VERSIONS.supported, operation).toContain(version);
    expect(since).toEqual([
      ['RotateKey', '7.3'],
      ['GetKeyRotationPolicy', '7.3'],
      ['UpdateKeyRotationPolicy', '7.3'],
      ['ReleaseKey', '7.3'],
      ['GetKeyAttestation', '7.6'],
      ['GetRandomBytes', '7.3'],
    ]);
  });

  it('gives a bad object name the message the domain gives', () => {
    const getSecret = routes.find((r) => r.operation === 'GetSecret')!;
    expect(getSecret.params.safeParse({ name: 'a', version: '' }).data).toEqual({ name: 'a', version: undefined });
    const bad = getSecret.params.safeParse({ name: 'bad_name', version: '' });
    expect(bad.error?.issues[0]?.message).toBe("The secret name 'bad_name' is invalid: names are 1 to 127 characters of 0-9, a-z, A-Z and '-'.");
  });

  it('accepts a version of exactly 32 hex characters, lowercased, and refuses any other', () => {
    const getKey = routes.find((r) => r.operation === 'GetKey')!;
    expect(getKey.params.safeParse({ name: 'k', version: 'ABCDEF0123456789ABCDEF0123456789' }).data).toEqual({
      name: 'k',
      version: 'abcdef0123456789abcdef0123456789',
    });
    for (const version of ['x'.repeat(1100), 'abc', 'attestation', 'g'.repeat(32), 'a'.repeat(33)]) {
      const bad = getKey.params.safeParse({ name: 'k', version });
      expect(bad.error?.issues[0]?.message, version.slice(0, 40)).toBe('The key version is invalid: a version is 32 hexadecimal characters.');
    }
  });
});
