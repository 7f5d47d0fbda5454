import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Rotation, rotationWebhook } from '../lib/runtime/rotation.ts';

/**
 * The reference rotator as an Event Grid webhook on loopback (docs/rotation.md, "Locally"): what an
 * event subscription on the local vault delivers to. It answers the validation handshake, rotates on
 * each SecretNearExpiry it receives, and answers 200 when done (500 when a rotation failed, so the
 * delivery is retried). It listens on 127.0.0.1 only, plain http: the local event path delivers to
 * loopback webhooks over http or https (README, "Events (local)").
 */
export interface RotatorWebhook {
  /** `http://127.0.0.1:<port>/rotate` */
  url: string;
  close(): Promise<void>;
}

/** Event Grid sends at most 1 MB per delivery. */
const MAX_BODY_BYTES = 1024 * 1024;

export async function startRotatorWebhook(rotation: Rotation, port = 0): Promise<RotatorWebhook> {
  const server = createServer(async (request, response) => {
    let status = 500;
    let body: unknown = { error: 'rotation failed' };
    try {
      if (new URL(request.url ?? '/', 'http://127.0.0.1').pathname !== '/rotate') {
        status = 404;
        body = { error: 'the webhook is at /rotate' };
      } else {
        const text = await readBody(request);
        if (text === undefined) {
          status = 413;
          body = { error: 'a delivery is at most 1 MB' };
        } else {
          ({ status, body } = await rotationWebhook(rotation, { method: request.method ?? 'GET', headers: request.headers, body: text }));
        }
      }
    } catch (error) {
      process.stderr.write(`rotator webhook: ${error instanceof Error ? error.message : 'error'}\n`);
    }
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/rotate`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
