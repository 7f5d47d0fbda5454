import type { Route } from './routes.ts';
import { openSkipToken, parseMaxResults, sealSkipToken } from './paging.ts';

/**
 * Azure list responses: `{value, nextLink}` where nextLink is an absolute URL carrying the signed
 * `$skiptoken`, `maxresults` and the caller's `api-version`; SDKs follow it verbatim.
 */

/** One page as a store returns it: the items and, when more follow, the position after them. */
export interface ListPage<T> {
  items: T[];
  cursor?: string;
}

/** What a paged operation is asked for: at most `limit` items, after `cursor`. */
export interface PageRequest {
  limit: number;
  cursor: string | undefined;
}

export interface ListAnswer<T> {
  value: T[];
  nextLink: string | null;
}

/** A paged route's listing: the path its nextLink points at and the name its tokens are bound to. */
export interface Listing {
  path: string;
  name: string;
}

/** `/secrets/{name}/versions` for `a` -> path `/secrets/a/versions`, tokens bound to `secrets/a/versions`. */
export function listingOf(route: Route, pathParameters: Record<string, string | undefined>): Listing {
  const fill = (encode: (value: string) => string) => route.path.replace(/\{(\w+)\}/g, (_, name: string) => encode(pathParameters[name] ?? ''));
  return { path: fill(encodeURIComponent), name: fill((value) => value).slice(1) };
}

export interface PagingRequest {
  query: Record<string, string | undefined>;
  pagingKey: Uint8Array;
  listing: Listing;
}

/** `maxresults` is checked before the paging key is fetched: a bad one costs no KMS call. */
export async function pageRequest(
  query: Record<string, string | undefined>,
  listing: Listing,
  pagingKey: () => Promise<Uint8Array>,
): Promise<PagingRequest & { request: PageRequest }> {
  const limit = parseMaxResults(query.maxresults);
  const key = await pagingKey();
  const token = query.$skiptoken;
  return { query, pagingKey: key, listing, request: { limit, cursor: token ? openSkipToken(key, listing.name, token) : undefined } };
}

export function listAnswer<T>(page: ListPage<T>, paging: PagingRequest & { request: PageRequest }, baseUrl: string): ListAnswer<T> {
  let nextLink: string | null = null;
  if (page.cursor) {
    const params = new URLSearchParams({
      'api-version': paging.query['api-version'] ?? '',
      $skiptoken: sealSkipToken(paging.pagingKey, paging.listing.name, page.cursor),
      maxresults: String(paging.request.limit),
    });
    nextLink = `${baseUrl}${paging.listing.path}?${params.toString()}`;
  }
  return { value: page.items, nextLink };
}
