import { createHmac, timingSafeEqual } from 'node:crypto';
import { BadParameter } from '../core/errors.ts';

/**
 * `$skiptoken` values: the store's position, bound to one vault and one listing and signed with the
 * vault's paging key, so a token cannot be forged, altered or replayed against another vault or list.
 */
const MAX_RESULTS_LIMIT = 25;

export function parseMaxResults(raw: string | undefined): number {
  if (raw === undefined || raw === '') return MAX_RESULTS_LIMIT;
  if (!/^\d+$/.test(raw)) throw new BadParameter("The 'maxresults' parameter must be an integer between 1 and 25.");
  const value = Number(raw);
  if (value < 1 || value > MAX_RESULTS_LIMIT) throw new BadParameter("The 'maxresults' parameter must be an integer between 1 and 25.");
  return value;
}

interface TokenBody {
  /** listing: e.g. `secrets`, `secrets/<name>/versions`, `deletedsecrets`. */
  l: string;
  /** the store's cursor */
  c: string;
}

export function sealSkipToken(key: Uint8Array, listing: string, cursor: string): string {
  const body = Buffer.from(JSON.stringify({ l: listing.toLowerCase(), c: cursor } satisfies TokenBody)).toString('base64url');
  return `${body}.${sign(key, body)}`;
}

export function openSkipToken(key: Uint8Array, listing: string, token: string): string {
  const invalid = () => new BadParameter("The '$skiptoken' parameter is invalid.");
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined) throw invalid();
  const expected = Buffer.from(sign(key, body));
  const actual = Buffer.from(signature);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw invalid();
  let parsed: TokenBody;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenBody;
  } catch {
    throw invalid();
  }
  if (parsed.l !== listing.toLowerCase() || typeof parsed.c !== 'string') throw invalid();
  return parsed.c;
}

function sign(key: Uint8Array, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}
