import type { Page } from '../objects/store.ts';
import type { OperationInput } from './operation.ts';
import { openSkipToken, parseMaxResults, sealSkipToken } from './paging.ts';

/**
 * Azure list responses: `{value, nextLink}` where nextLink is an absolute URL carrying the signed
 * `$skiptoken`, `maxresults` and the caller's `api-version`; SDKs follow it verbatim.
 */
export async function listPage<T>(
  input: OperationInput<unknown>,
  listing: { path: string; name: string },
  fetch: (limit: number, cursor: string | undefined) => Promise<Page<T>>,
): Promise<{ value: T[]; nextLink: string | null }> {
  const limit = parseMaxResults(input.query.maxresults);
  const key = await input.services.vaults.pagingKey(input.at.vault);
  const token = input.query.$skiptoken;
  const cursor = token ? openSkipToken(key, listing.name, token) : undefined;
  const page = await fetch(limit, cursor);
  let nextLink: string | null = null;
  if (page.cursor) {
    const params = new URLSearchParams({
      'api-version': input.query['api-version'] ?? '',
      $skiptoken: sealSkipToken(key, listing.name, page.cursor),
      maxresults: String(limit),
    });
    nextLink = `${input.at.baseUrl}${listing.path}?${params.toString()}`;
  }
  return { value: page.items, nextLink };
}
