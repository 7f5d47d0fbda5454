/**
 * The HTTP bytes of a call through the gateway, request and response, headers and bodies, as the SDK
 * sent and received them: what a load balancer counts as processed bytes. Read from node:http's
 * diagnostics channels, so the client is the unchanged SecretClient.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';

export interface HttpExchange {
  requestBytes: number;
  responseBytes: number;
  responseBodyBytes: number;
  status: number;
}

/** The size of an HTTP/1.1 message: start line, header lines, the blank line and the body. */
export function httpMessageBytes(startLine: string, headers: readonly (readonly [string, string])[], bodyBytes: number): number {
  let bytes = Buffer.byteLength(`${startLine}\r\n`) + 2;
  for (const [name, value] of headers) bytes += Buffer.byteLength(`${name}: ${value}\r\n`);
  return bytes + bodyBytes;
}

function exchangeOf(request: ClientRequest, response: IncomingMessage): HttpExchange {
  const requestHeaders = request.getRawHeaderNames().map((name) => [name, String(request.getHeader(name) ?? '')] as const);
  const responseHeaders: [string, string][] = [];
  for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) responseHeaders.push([response.rawHeaders[i]!, response.rawHeaders[i + 1]!]);
  const responseBodyBytes = Number(response.headers['content-length'] ?? 0);
  return {
    requestBytes: httpMessageBytes(`${request.method} ${request.path} HTTP/1.1`, requestHeaders, Number(request.getHeader('content-length') ?? 0)),
    responseBytes: httpMessageBytes(`HTTP/1.1 ${response.statusCode} ${response.statusMessage ?? ''}`, responseHeaders, responseBodyBytes),
    responseBodyBytes,
    status: response.statusCode ?? 0,
  };
}

/** Runs `action` and answers every HTTP exchange this process completed meanwhile. */
export async function recordHttpExchanges(action: () => Promise<unknown>): Promise<HttpExchange[]> {
  const exchanges: HttpExchange[] = [];
  const listener = (message: unknown) => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    exchanges.push(exchangeOf(request, response));
  };
  subscribe('http.client.response.finish', listener);
  try {
    await action();
  } finally {
    unsubscribe('http.client.response.finish', listener);
  }
  return exchanges;
}
