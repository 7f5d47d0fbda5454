import { BadParameter } from '../core/errors.ts';

/**
 * The api-versions a plane answers, oldest first: there is no default, a missing or unknown version is
 * a 400, and an operation newer than the version asked for is a 400 too. `previews` maps each preview
 * version the plane also accepts to the GA version it is answered as.
 */
export interface ApiVersions {
  supported: readonly string[];
  latest: string;
  previews?: ReadonlyMap<string, string>;
}

/**
 * The vault data plane's versions (reference §0). `2016-10-01` predates 7.0; the dated versions follow
 * 7.6 and are what current SDKs send (`2025-07-01` in @azure/keyvault-secrets 4.10+).
 */
const SUPPORTED_API_VERSIONS = ['2016-10-01', '7.0', '7.1', '7.2', '7.3', '7.4', '7.5', '7.6', '2025-06-01', '2025-07-01'] as const;
const LATEST_API_VERSION = '7.6';

/**
 * Preview versions that shipped SDKs send by default, each answered as the GA version it became: Debian's
 * python3-azure (azure-keyvault-keys 4.8.0b3, azure-keyvault-administration) sends `7.4-preview.1` from
 * its KeyClient, and the beta releases of the other SDKs sent the rest. A preview's operations are the
 * GA version's: `since` compares the GA version. A Map rather than an object literal, so that
 * `api-version=constructor` finds nothing on a prototype.
 */
const PREVIEW_API_VERSIONS: ReadonlyMap<string, (typeof SUPPORTED_API_VERSIONS)[number]> = new Map([
  ['7.2-preview', '7.2'],
  ['7.3-preview', '7.3'],
  ['7.4-preview.1', '7.4'],
  ['7.5-preview.1', '7.5'],
  ['7.6-preview.1', '7.6'],
  ['7.6-preview.2', '7.6'],
]);
export const KEY_VAULT_API_VERSIONS: ApiVersions = {
  supported: SUPPORTED_API_VERSIONS,
  latest: LATEST_API_VERSION,
  previews: PREVIEW_API_VERSIONS,
};

/**
 * The management plane answers each resource provider's api-versions, as ARM does: the versions the
 * official clients send (@azure/arm-keyvault 5: 2026-02-01; its vault list goes through
 * Microsoft.Resources at 2015-11-01; @azure/arm-authorization 9: 2022-04-01; @azure/arm-resources 8:
 * 2025-04-01; @azure/arm-resources-subscriptions 3: 2022-12-01; @azure/arm-eventgrid 14: 2022-06-15) and the recent ones before them.
 */
export const MANAGEMENT_API_VERSIONS = {
  keyVault: {
    supported: ['2019-09-01', '2021-10-01', '2022-07-01', '2023-02-01', '2023-07-01', '2024-11-01', '2025-05-01', '2026-02-01'],
    latest: '2026-02-01',
  },
  authorization: { supported: ['2020-04-01-preview', '2022-04-01', '2022-05-01-preview'], latest: '2022-04-01' },
  resources: { supported: ['2021-04-01', '2022-09-01', '2024-03-01', '2024-11-01', '2025-04-01'], latest: '2025-04-01' },
  resourcesList: { supported: ['2015-11-01', '2021-04-01', '2025-04-01'], latest: '2025-04-01' },
  subscriptions: { supported: ['2016-06-01', '2020-01-01', '2021-01-01', '2022-12-01'], latest: '2022-12-01' },
  // Event subscriptions on a vault: @azure/arm-eventgrid 14 sends 2022-06-15.
  eventGrid: { supported: ['2020-06-01', '2021-12-01', '2022-06-15', '2025-02-15'], latest: '2025-02-15' },
} as const satisfies Record<string, ApiVersions>;

export type ManagementProvider = keyof typeof MANAGEMENT_API_VERSIONS;

export function assertApiVersion(value: string | undefined, versions: ApiVersions = KEY_VAULT_API_VERSIONS): string {
  if (value === undefined || value === '') {
    throw new BadParameter("The 'api-version' query parameter is required.");
  }
  if (!versions.supported.includes(value) && !versions.previews?.has(value)) {
    throw new BadParameter(
      `The specified version (${shown(value)}) is not recognized. Consider using the latest supported version (${versions.latest}).`,
    );
  }
  return value;
}

/** An operation added in a later version than the one requested does not exist for that caller. */
export function assertOperationInVersion(
  operation: string,
  version: string,
  since: string | undefined,
  versions: ApiVersions = KEY_VAULT_API_VERSIONS,
): void {
  if (since === undefined) return;
  const first = versions.supported.indexOf(since);
  if (first === -1) throw new Error(`${operation}: 'since' ${since} is not a supported api-version`);
  if (versions.supported.indexOf(versions.previews?.get(version) ?? version) < first) {
    throw new BadParameter(
      `The operation '${operation}' is not supported in api-version ${shown(version)}: it requires api-version ${since} or later.`,
    );
  }
}

function shown(value: string): string {
  const clipped = value.length > 40 ? `${value.slice(0, 40)}...` : value;
  return clipped.replace(/[^\x20-\x7e]/g, '?');
}
