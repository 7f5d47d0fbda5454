import { BadParameter } from '../core/errors.ts';

/**
 * The api-versions Coffer answers (reference §0): there is no default, a missing or unknown version
 * is a 400. The dated versions are what current SDKs send (`2025-07-01` in @azure/keyvault-secrets 4.10+).
 */
export const SUPPORTED_API_VERSIONS = ['2016-10-01', '7.0', '7.1', '7.2', '7.3', '7.4', '7.5', '7.6', '2025-06-01', '2025-07-01'] as const;
export const LATEST_API_VERSION = '7.6';

export function assertApiVersion(value: string | undefined): string {
  if (value === undefined || value === '') {
    throw new BadParameter("The 'api-version' query parameter is required.");
  }
  if (!(SUPPORTED_API_VERSIONS as readonly string[]).includes(value)) {
    const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    throw new BadParameter(
      `The specified version (${shown.replace(/[^\x20-\x7e]/g, '?')}) is not recognized. Consider using the latest supported version (${LATEST_API_VERSION}).`,
    );
  }
  return value;
}
