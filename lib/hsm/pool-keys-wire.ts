import type { Page } from '../objects/store.ts';

/** The most keys (or versions) one list of a pool answers: a pool holds keys by the hundred, not by the million. */
const POOL_LIST_LIMIT = 1_000;
const STORE_PAGE = 100;

/**
 * A pool's list in one answer, `{value, nextLink: null}`, as the pool's RBAC lists answer
 * (docs/adr/0024-keys-in-pools.md): a vault's nextLink carries a skip token sealed with the vault's
 * paging key, and a pool has no paging key. The store's pages are read until the end or the limit.
 */
export async function wholeList<T, W>(
  read: (limit: number, cursor?: string) => Promise<Page<T>>,
  shape: (page: Page<T>) => Page<W>,
): Promise<{ value: W[]; nextLink: null }> {
  const value: W[] = [];
  let cursor: string | undefined;
  do {
    const page = await read(STORE_PAGE, cursor);
    value.push(...shape(page).items);
    cursor = page.cursor;
  } while (cursor && value.length < POOL_LIST_LIMIT);
  return { value: value.slice(0, POOL_LIST_LIMIT), nextLink: null };
}
