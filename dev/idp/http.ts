/** The identity provider's HTTP plumbing: bounded bodies, JSON answers with Entra's cache headers, safe log lines. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GUID } from './tokens.ts';

const MAX_BODY_BYTES = 64 * 1024;

/** The body as text, or undefined once a 413 has been sent for a body over 64 KiB. */
export function readBody(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const tooLarge = () => {
      settled = true;
      req.pause();
      // Closing the connection discards the rest of the body instead of reading it.
      res.setHeader('Connection', 'close');
      sendJson(res, 413, { error: 'invalid_request', error_description: 'Request body too large.' });
      resolveBody(undefined);
    };
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return tooLarge();
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return tooLarge();
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolveBody(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
  });
}

export function notFound(res: ServerResponse, path: string): string {
  sendJson(res, 404, { error: 'not_found', error_description: `No such endpoint on the development identity provider: ${path}` });
  return 'not-found';
}

export function sendJson(res: ServerResponse, status: number, body: unknown, options: { noStore?: boolean; cacheSeconds?: number } = {}): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (options.cacheSeconds !== undefined && !options.noStore) {
    res.setHeader('Cache-Control', `max-age=${options.cacheSeconds}, private`);
  } else {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
  }
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

export function safePath(rawUrl: string | undefined): string {
  // The query string of the managed identity endpoint is harmless, but token requests are
  // POSTs and other clients might put anything in a query: log the path only.
  const path = (rawUrl ?? '/').split('?')[0] ?? '/';
  return path.length > 200 ? `${path.slice(0, 200)}...` : path;
}

export function correlationIdOf(req: IncomingMessage): string {
  const given = req.headers['client-request-id'];
  // Echo the caller's id (MSAL sends one) so errors can be matched to client logs.
  return typeof given === 'string' && GUID.test(given) ? given.toLowerCase() : randomUUID();
}
