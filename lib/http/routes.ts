/**
 * The one route table. Every API operation is listed here once; serverless.yml's functions and the
 * local HTTPS gateway are both generated from it, so what runs locally is what deploys.
 *
 * - `operation` is the Azure REST operation id (it names the Lambda function and the audit record).
 * - `path` uses API Gateway's `{param}` syntax. Azure paths are case-insensitive: the gateway matches
 *   literal segments case-insensitively; a trailing slash means "latest version" (see `optionalTail`).
 * - `handler` is the module under functions/ that exports `handler`.
 * - `dataAction` is the Azure RBAC DataAction the caller needs (without the `Microsoft.KeyVault/vaults/`
 *   prefix); authorization checks it against the vault's role assignments.
 * - `audit` is Key Vault's audit `operationName` for the operation.
 */
export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface Route {
  readonly operation: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly handler: string;
  readonly dataAction: string;
  readonly audit: string;
  /**
   * The last path parameter may be empty or absent: Azure SDKs call `GET /secrets/{name}/` for the
   * latest version, and `GET /secrets/{name}` must work too.
   */
  readonly optionalTail?: boolean;
}

export const routes = [
  // Secrets (reference §1.1)
  { operation: 'SetSecret', method: 'PUT', path: '/secrets/{name}', handler: 'secrets/set-secret', dataAction: 'secrets/setSecret/action', audit: 'SecretSet' },
  { operation: 'GetSecrets', method: 'GET', path: '/secrets', handler: 'secrets/get-secrets', dataAction: 'secrets/readMetadata/action', audit: 'SecretList' },
  { operation: 'GetSecretVersions', method: 'GET', path: '/secrets/{name}/versions', handler: 'secrets/get-secret-versions', dataAction: 'secrets/readMetadata/action', audit: 'SecretListVersions' },
  { operation: 'GetSecret', method: 'GET', path: '/secrets/{name}/{version}', handler: 'secrets/get-secret', dataAction: 'secrets/getSecret/action', audit: 'SecretGet', optionalTail: true },
  { operation: 'UpdateSecret', method: 'PATCH', path: '/secrets/{name}/{version}', handler: 'secrets/update-secret', dataAction: 'secrets/update/action', audit: 'SecretUpdate', optionalTail: true },
  { operation: 'DeleteSecret', method: 'DELETE', path: '/secrets/{name}', handler: 'secrets/delete-secret', dataAction: 'secrets/delete', audit: 'SecretDelete' },
  { operation: 'BackupSecret', method: 'POST', path: '/secrets/{name}/backup', handler: 'secrets/backup-secret', dataAction: 'secrets/backup/action', audit: 'SecretBackup' },
  { operation: 'RestoreSecret', method: 'POST', path: '/secrets/restore', handler: 'secrets/restore-secret', dataAction: 'secrets/restore/action', audit: 'SecretRestore' },
  { operation: 'GetDeletedSecrets', method: 'GET', path: '/deletedsecrets', handler: 'secrets/get-deleted-secrets', dataAction: 'secrets/readMetadata/action', audit: 'SecretListDeleted' },
  { operation: 'GetDeletedSecret', method: 'GET', path: '/deletedsecrets/{name}', handler: 'secrets/get-deleted-secret', dataAction: 'secrets/readMetadata/action', audit: 'SecretGetDeleted' },
  { operation: 'PurgeDeletedSecret', method: 'DELETE', path: '/deletedsecrets/{name}', handler: 'secrets/purge-deleted-secret', dataAction: 'secrets/purge/action', audit: 'SecretPurge' },
  { operation: 'RecoverDeletedSecret', method: 'POST', path: '/deletedsecrets/{name}/recover', handler: 'secrets/recover-deleted-secret', dataAction: 'secrets/recover/action', audit: 'SecretRecover' },

  // Keys (reference §1.2, §3)
  { operation: 'CreateKey', method: 'POST', path: '/keys/{name}/create', handler: 'keys/create-key', dataAction: 'keys/create/action', audit: 'KeyCreate' },
  { operation: 'ImportKey', method: 'PUT', path: '/keys/{name}', handler: 'keys/import-key', dataAction: 'keys/import/action', audit: 'KeyImport' },
  { operation: 'GetKeys', method: 'GET', path: '/keys', handler: 'keys/get-keys', dataAction: 'keys/read', audit: 'KeyList' },
  { operation: 'GetKeyVersions', method: 'GET', path: '/keys/{name}/versions', handler: 'keys/get-key-versions', dataAction: 'keys/read', audit: 'KeyListVersions' },
  { operation: 'GetKey', method: 'GET', path: '/keys/{name}/{version}', handler: 'keys/get-key', dataAction: 'keys/read', audit: 'KeyGet', optionalTail: true },
  { operation: 'UpdateKey', method: 'PATCH', path: '/keys/{name}/{version}', handler: 'keys/update-key', dataAction: 'keys/update/action', audit: 'KeyUpdate', optionalTail: true },
  { operation: 'DeleteKey', method: 'DELETE', path: '/keys/{name}', handler: 'keys/delete-key', dataAction: 'keys/delete', audit: 'KeyDelete' },
  { operation: 'BackupKey', method: 'POST', path: '/keys/{name}/backup', handler: 'keys/backup-key', dataAction: 'keys/backup/action', audit: 'KeyBackup' },
  { operation: 'RestoreKey', method: 'POST', path: '/keys/restore', handler: 'keys/restore-key', dataAction: 'keys/restore/action', audit: 'KeyRestore' },
  { operation: 'Encrypt', method: 'POST', path: '/keys/{name}/{version}/encrypt', handler: 'keys/encrypt', dataAction: 'keys/encrypt/action', audit: 'KeyEncrypt' },
  { operation: 'Decrypt', method: 'POST', path: '/keys/{name}/{version}/decrypt', handler: 'keys/decrypt', dataAction: 'keys/decrypt/action', audit: 'KeyDecrypt' },
  { operation: 'WrapKey', method: 'POST', path: '/keys/{name}/{version}/wrapkey', handler: 'keys/wrap-key', dataAction: 'keys/wrap/action', audit: 'KeyWrap' },
  { operation: 'UnwrapKey', method: 'POST', path: '/keys/{name}/{version}/unwrapkey', handler: 'keys/unwrap-key', dataAction: 'keys/unwrap/action', audit: 'KeyUnwrap' },
  { operation: 'Sign', method: 'POST', path: '/keys/{name}/{version}/sign', handler: 'keys/sign', dataAction: 'keys/sign/action', audit: 'KeySign' },
  { operation: 'Verify', method: 'POST', path: '/keys/{name}/{version}/verify', handler: 'keys/verify', dataAction: 'keys/verify/action', audit: 'KeyVerify' },
  { operation: 'RotateKey', method: 'POST', path: '/keys/{name}/rotate', handler: 'keys/rotate-key', dataAction: 'keys/rotate/action', audit: 'KeyRotate' },
  { operation: 'GetKeyRotationPolicy', method: 'GET', path: '/keys/{name}/rotationpolicy', handler: 'keys/get-key-rotation-policy', dataAction: 'keyrotationpolicies/read', audit: 'KeyRotationPolicyGet' },
  { operation: 'UpdateKeyRotationPolicy', method: 'PUT', path: '/keys/{name}/rotationpolicy', handler: 'keys/update-key-rotation-policy', dataAction: 'keyrotationpolicies/write', audit: 'KeyRotationPolicySet' },
  { operation: 'GetDeletedKeys', method: 'GET', path: '/deletedkeys', handler: 'keys/get-deleted-keys', dataAction: 'keys/read', audit: 'KeyListDeleted' },
  { operation: 'GetDeletedKey', method: 'GET', path: '/deletedkeys/{name}', handler: 'keys/get-deleted-key', dataAction: 'keys/read', audit: 'KeyGetDeleted' },
  { operation: 'PurgeDeletedKey', method: 'DELETE', path: '/deletedkeys/{name}', handler: 'keys/purge-deleted-key', dataAction: 'keys/purge/action', audit: 'KeyPurge' },
  { operation: 'RecoverDeletedKey', method: 'POST', path: '/deletedkeys/{name}/recover', handler: 'keys/recover-deleted-key', dataAction: 'keys/recover/action', audit: 'KeyRecover' },
  // Managed HSM's random bytes, offered by every vault; Administrator ('*') grants it.
  { operation: 'GetRandomBytes', method: 'POST', path: '/rng', handler: 'keys/get-random-bytes', dataAction: 'rng/action', audit: 'RandomBytesGet' },
] as const satisfies readonly Route[];

export type OperationName = (typeof routes)[number]['operation'];

export function routeFor(operation: OperationName): Route {
  const route = routes.find((r) => r.operation === operation);
  if (!route) throw new Error(`no route for operation ${operation}`);
  return route;
}

/** API Gateway's route key, e.g. `PUT /secrets/{name}`. */
export function routeKey(route: Route): string {
  return `${route.method} ${route.path}`;
}

export interface RouteMatch {
  route: Route;
  pathParameters: Record<string, string>;
}

/**
 * Matches a request the way API Gateway would (literal segments beat parameters), plus Key Vault's
 * case-insensitive literals and optional trailing version segment. Returns undefined when no route
 * matches; `methodAllowed` tells a 405 from a 404.
 */
export function matchRoute(method: string, rawPath: string): { match?: RouteMatch; pathExists: boolean } {
  const segments = splitPath(rawPath);
  let best: { match: RouteMatch; literalCount: number } | undefined;
  let pathExists = false;
  for (const route of routes as readonly Route[]) {
    const params = matchSegments(route, segments);
    if (!params) continue;
    pathExists = true;
    if (route.method !== method.toUpperCase()) continue;
    const literalCount = splitPath(route.path).filter((s) => !s.startsWith('{')).length;
    if (!best || literalCount > best.literalCount) best = { match: { route, pathParameters: params }, literalCount };
  }
  return { match: best?.match, pathExists };
}

function splitPath(path: string): string[] {
  const withoutQuery = path.split('?')[0] ?? '';
  return withoutQuery.split('/').slice(1);
}

function matchSegments(route: Route, requestSegments: string[]): Record<string, string> | undefined {
  const routeSegments = splitPath(route.path);
  let segments = requestSegments;
  // `/secrets/x/` has a trailing empty segment: for optional-tail routes it is the empty version,
  // otherwise a trailing slash is tolerated like Azure does.
  if (segments.length > 1 && segments[segments.length - 1] === '' && !route.optionalTail) segments = segments.slice(0, -1);
  if (route.optionalTail && segments.length === routeSegments.length - 1) segments = [...segments, ''];
  if (segments.length !== routeSegments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < routeSegments.length; i++) {
    const expected = routeSegments[i]!;
    const actual = segments[i]!;
    if (expected.startsWith('{')) {
      let value: string;
      try {
        value = decodeURIComponent(actual);
      } catch {
        return undefined;
      }
      // An empty version means the latest: SDKs send `/keys/k//sign` for a key id without version.
      const isTail = route.optionalTail && i === routeSegments.length - 1;
      if (value === '' && !isTail && expected !== '{version}') return undefined;
      params[expected.slice(1, -1)] = value;
    } else if (expected.toLowerCase() !== actual.toLowerCase()) {
      return undefined;
    }
  }
  return params;
}
