import { describe, expect, it } from 'vitest';
import type { AccessPolicyEntry } from '../../../lib/access/access-policies.ts';
import { builtInRoles, roleIds } from '../../../lib/access/roles.ts';
import { objectScope, subscriptionScope, vaultScope } from '../../../lib/access/scopes.ts';
import { dataPlane, routeHandler } from '../../../lib/http/pipelines.ts';
import { type Route, routes } from '../../../lib/http/routes.ts';
import { assignment, context, request, SUBSCRIPTION, stubServices, vault } from '../http/stubs.ts';

/**
 * Every built-in role, at subscription, vault and object scope, against every data-plane operation
 * through the real pipeline (stub token, stub handler): allowed exactly where the role's documented
 * DataActions say (reference §6), written out here by hand rather than derived from the same
 * definitions the code uses.
 */
const dataRoutes = (routes as readonly Route[]).filter((r) => r.plane === 'data');
const ops = (...names: string[]) => new Set(names);

const SECRET_METADATA = ['GetSecrets', 'GetSecretVersions', 'GetDeletedSecrets', 'GetDeletedSecret'];
const ALL_SECRETS = [
  ...SECRET_METADATA,
  'SetSecret',
  'GetSecret',
  'UpdateSecret',
  'DeleteSecret',
  'BackupSecret',
  'RestoreSecret',
  'PurgeDeletedSecret',
  'RecoverDeletedSecret',
];
const KEY_READS = ['GetKeys', 'GetKeyVersions', 'GetKey', 'GetDeletedKeys', 'GetDeletedKey', 'GetKeyAttestation'];
const ALL_KEYS = [
  ...KEY_READS,
  'CreateKey',
  'ImportKey',
  'UpdateKey',
  'DeleteKey',
  'BackupKey',
  'RestoreKey',
  'Encrypt',
  'Decrypt',
  'WrapKey',
  'UnwrapKey',
  'Sign',
  'Verify',
  'RotateKey',
  'GetKeyRotationPolicy',
  'UpdateKeyRotationPolicy',
  'PurgeDeletedKey',
  'RecoverDeletedKey',
  'ReleaseKey',
];
// certificates/read: the certificate, its versions, policy and pending operation, and the deleted ones.
const CERTIFICATE_READS = [
  'GetCertificates',
  'GetCertificate',
  'GetCertificateVersions',
  'GetCertificatePolicy',
  'GetCertificateOperation',
  'GetDeletedCertificates',
  'GetDeletedCertificate',
];
// certificatecas/read: the vault's issuers and its certificate contacts (lib/http/routes.ts says why contacts).
const CERTIFICATE_AUTHORITY_READS = ['GetCertificateIssuers', 'GetCertificateIssuer', 'GetCertificateContacts'];
const ALL_CERTIFICATES = [
  ...CERTIFICATE_READS,
  ...CERTIFICATE_AUTHORITY_READS,
  'CreateCertificate',
  'ImportCertificate',
  'UpdateCertificate',
  'UpdateCertificatePolicy',
  'UpdateCertificateOperation',
  'DeleteCertificateOperation',
  'MergeCertificate',
  'DeleteCertificate',
  'BackupCertificate',
  'RestoreCertificate',
  'PurgeDeletedCertificate',
  'RecoverDeletedCertificate',
  'SetCertificateContacts',
  'DeleteCertificateContacts',
  'SetCertificateIssuer',
  'UpdateCertificateIssuer',
  'DeleteCertificateIssuer',
];

const expected: Record<string, Set<string>> = {
  [roleIds.administrator]: ops(...ALL_SECRETS, ...ALL_KEYS, ...ALL_CERTIFICATES, 'GetRandomBytes'),
  [roleIds.keyVaultReader]: ops(...SECRET_METADATA, ...KEY_READS, 'GetKeyRotationPolicy', ...CERTIFICATE_READS, ...CERTIFICATE_AUTHORITY_READS),
  [roleIds.secretsOfficer]: ops(...ALL_SECRETS),
  [roleIds.secretsUser]: ops(...SECRET_METADATA, 'GetSecret'),
  [roleIds.cryptoOfficer]: ops(...ALL_KEYS),
  [roleIds.cryptoUser]: ops(...KEY_READS, 'UpdateKey', 'BackupKey', 'Encrypt', 'Decrypt', 'WrapKey', 'UnwrapKey', 'Sign', 'Verify'),
  [roleIds.cryptoServiceEncryptionUser]: ops(...KEY_READS, 'WrapKey', 'UnwrapKey'),
  [roleIds.cryptoServiceReleaseUser]: ops('ReleaseKey'),
  [roleIds.certificatesOfficer]: ops(...ALL_CERTIFICATES),
  // The certificates, and the managed secret (the certificate with its private key) and key behind each.
  [roleIds.certificateUser]: ops(...SECRET_METADATA, 'GetSecret', ...KEY_READS, ...CERTIFICATE_READS),
  [roleIds.keyVaultDataAccessAdministrator]: ops(),
  [roleIds.keyVaultContributor]: ops(),
  [roleIds.keyVaultPurgeOperator]: ops(),
  [roleIds.owner]: ops(),
  [roleIds.contributor]: ops(),
  [roleIds.reader]: ops(),
  [roleIds.userAccessAdministrator]: ops(),
  [roleIds.monitoringReader]: ops(),
};

function eventFor(route: Route) {
  const path = route.path.replace('{name}', 'obj1').replace('{version}', '').replace('{issuerName}', 'issuer1');
  const params: Record<string, string> = {};
  if (route.path.includes('{name}')) params.name = 'obj1';
  if (route.path.includes('{version}')) params.version = '';
  if (route.path.includes('{issuerName}')) params.issuerName = 'issuer1';
  return request(route.method, `${path}?api-version=7.6`, { match: { route, pathParameters: params } });
}

async function status(route: Route, services: ReturnType<typeof stubServices>): Promise<number> {
  const handler = routeHandler(
    dataPlane,
    route,
    () => services,
    () => ({}),
    {},
    async () => ({ body: {} }),
  );
  return (await handler(eventFor(route), context())).statusCode ?? 0;
}

const objectOf = (route: Route) => objectScope(vault(), typeof route.scope === 'string' ? 'secrets' : route.scope.collection, 'obj1');

describe('built-in roles against every data-plane operation', () => {
  it('has an expectation for every built-in role', () => {
    expect(builtInRoles.map((r) => r.name).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const role of builtInRoles) {
    it(`${role.roleName} at subscription, vault and object scope`, async () => {
      const mismatches: string[] = [];
      for (const route of dataRoutes) {
        const allowed = expected[role.name]!.has(route.operation);
        const scopes = [
          { scope: subscriptionScope(SUBSCRIPTION), covers: true },
          { scope: vaultScope(vault()), covers: true },
          // An object assignment covers only operations on that object, never the vault's lists.
          { scope: objectOf(route), covers: typeof route.scope !== 'string' },
        ];
        for (const { scope, covers } of scopes) {
          const got = await status(route, stubServices({ assignments: [assignment(role.name, scope)] }));
          const want = allowed && covers ? 200 : 403;
          if (got !== want) mismatches.push(`${route.operation} at ${scope}: ${got}, expected ${want}`);
        }
      }
      expect(mismatches).toEqual([]);
    });
  }
});

describe('access-policy permissions against every data-plane operation', () => {
  const policyOps: Record<string, string[]> = {
    'secrets/get': ['GetSecret', 'GetDeletedSecret'],
    'secrets/list': ['GetSecrets', 'GetSecretVersions', 'GetDeletedSecrets'],
    'secrets/set': ['SetSecret', 'UpdateSecret'],
    'secrets/delete': ['DeleteSecret'],
    'secrets/backup': ['BackupSecret'],
    'secrets/restore': ['RestoreSecret'],
    'secrets/recover': ['RecoverDeletedSecret'],
    'secrets/purge': ['PurgeDeletedSecret'],
    'keys/get': ['GetKey', 'GetDeletedKey', 'GetKeyAttestation'],
    'keys/list': ['GetKeys', 'GetKeyVersions', 'GetDeletedKeys'],
    'keys/create': ['CreateKey'],
    'keys/import': ['ImportKey'],
    'keys/update': ['UpdateKey'],
    'keys/delete': ['DeleteKey'],
    'keys/backup': ['BackupKey'],
    'keys/restore': ['RestoreKey'],
    'keys/recover': ['RecoverDeletedKey'],
    'keys/purge': ['PurgeDeletedKey'],
    'keys/encrypt': ['Encrypt'],
    'keys/decrypt': ['Decrypt'],
    'keys/wrapKey': ['WrapKey'],
    'keys/unwrapKey': ['UnwrapKey'],
    'keys/sign': ['Sign'],
    'keys/verify': ['Verify'],
    'keys/rotate': ['RotateKey'],
    'keys/getrotationpolicy': ['GetKeyRotationPolicy'],
    'keys/setrotationpolicy': ['UpdateKeyRotationPolicy'],
    'keys/release': ['ReleaseKey'],
    'certificates/get': ['GetCertificate', 'GetCertificatePolicy', 'GetCertificateOperation', 'GetDeletedCertificate'],
    'certificates/list': ['GetCertificates', 'GetCertificateVersions', 'GetDeletedCertificates'],
    'certificates/create': ['CreateCertificate', 'MergeCertificate'],
    'certificates/import': ['ImportCertificate'],
    'certificates/update': ['UpdateCertificate', 'UpdateCertificatePolicy', 'UpdateCertificateOperation'],
    'certificates/delete': ['DeleteCertificate', 'DeleteCertificateOperation'],
    'certificates/backup': ['BackupCertificate'],
    'certificates/restore': ['RestoreCertificate'],
    'certificates/recover': ['RecoverDeletedCertificate'],
    'certificates/purge': ['PurgeDeletedCertificate'],
    'certificates/managecontacts': ['SetCertificateContacts', 'GetCertificateContacts', 'DeleteCertificateContacts'],
    'certificates/getissuers': ['GetCertificateIssuer'],
    'certificates/listissuers': ['GetCertificateIssuers'],
    'certificates/setissuers': ['SetCertificateIssuer', 'UpdateCertificateIssuer'],
    'certificates/deleteissuers': ['DeleteCertificateIssuer'],
  };

  for (const [permission, allowedOps] of Object.entries(policyOps)) {
    it(`${permission} allows exactly ${allowedOps.join(', ')}`, async () => {
      const [kind, name] = permission.split('/') as ['secrets' | 'keys' | 'certificates', string];
      const entry: AccessPolicyEntry = { tenantId: 'tenant-1', objectId: 'oid-1', permissions: { [kind]: [name] } };
      // Role assignments do not count in an access-policy vault: the administrator's is ignored.
      const services = stubServices({ vault: vault({ enableRbacAuthorization: false, accessPolicies: [entry] }) });
      const results: string[] = [];
      for (const route of dataRoutes) if ((await status(route, services)) === 200) results.push(route.operation);
      expect(results.sort()).toEqual([...allowedOps].sort());
    });
  }

  it('grants nothing to a principal without an entry, and every operation of its kinds to `all`', async () => {
    const none = stubServices({ vault: vault({ enableRbacAuthorization: false, accessPolicies: [] }) });
    for (const route of dataRoutes) expect(await status(route, none), route.operation).toBe(403);
    const entry: AccessPolicyEntry = {
      tenantId: 'tenant-1',
      objectId: 'oid-1',
      permissions: { secrets: ['all'], keys: ['all'], certificates: ['all'] },
    };
    const all = stubServices({ vault: vault({ enableRbacAuthorization: false, accessPolicies: [entry] }) });
    const refused: string[] = [];
    for (const route of dataRoutes) if ((await status(route, all)) !== 200) refused.push(route.operation);
    // Random bytes are Managed HSM's: no access policy grants them.
    expect(refused).toEqual(['GetRandomBytes']);
  });
});
