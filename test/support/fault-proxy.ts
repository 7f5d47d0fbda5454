import { createServer, type IncomingMessage, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A loopback proxy in front of one of the local stack's dependencies (DynamoDB Local, the local KMS),
 * for the fault-injection tests: healthy it forwards each request as it came (the signature still
 * holds, the Host header is kept), and on command it fails the way a dependency does. Only the
 * process that owns the proxy sees the faults; the shared stack and the other tests' clients never
 * go through it.
 */
export type Fault =
  | { kind: 'healthy' }
  /** The process is gone: connections are refused (ECONNREFUSED), open ones are reset. */
  | { kind: 'killed' }
  /** The process is stopped: connections are accepted and requests read, but nothing is ever answered. */
  | { kind: 'frozen' }
  /** Each request's connection is dropped before an answer (socket hang up). */
  | { kind: 'reset' }
  /** Each request is answered with the service's error document: throttling, a server fault. */
  | { kind: 'error'; status: number; code: string }
  /**
   * The next request for `target` (its X-Amz-Target, e.g. `DynamoDB_20120810.TransactWriteItems`) is
   * done by the dependency, but its answer is lost: the connection drops once it has arrived. Then
   * the proxy is healthy again. Every other request is forwarded.
   */
  | { kind: 'answer-lost'; target: string };

export class FaultProxy {
  /** Requests that reached the proxy, forwarded or not. */
  requests = 0;
  /** Requests forwarded to the dependency. */
  forwarded = 0;
  private fault: Fault = { kind: 'healthy' };
  /** Requests still forwarded before the fault begins. */
  private healthyLeft = 0;
  private listening = false;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(
    private readonly target: URL,
    private port: number,
  ) {
    this.server = createServer((request, response) => this.handle(request, response));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(target: string): Promise<FaultProxy> {
    const proxy = new FaultProxy(new URL(target), 0);
    await proxy.listen();
    proxy.port = (proxy.server.address() as AddressInfo).port;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Applies `fault`, after `after` more requests have been forwarded healthy (a failure part way through an operation). */
  async set(fault: Fault, options: { after?: number } = {}): Promise<void> {
    this.healthyLeft = options.after ?? 0;
    this.fault = fault;
    // Whatever was held or half-done under the previous fault is abandoned, as a restarted process would.
    for (const socket of this.sockets) socket.destroy();
    if (fault.kind === 'killed' && this.healthyLeft === 0) await this.stopListening();
    else await this.listen();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await this.stopListening();
  }

  private async listen(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listening = true;
  }

  private async stopListening(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    this.requests++;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      if (this.fault.kind === 'answer-lost' && request.headers['x-amz-target'] === this.fault.target) {
        this.fault = { kind: 'healthy' };
        this.forward(request, body, response, { loseAnswer: true });
        return;
      }
      if (this.fault.kind === 'healthy' || this.fault.kind === 'answer-lost' || this.healthyLeft > 0) {
        if (this.healthyLeft > 0) this.healthyLeft--;
        this.forward(request, body, response);
        return;
      }
      switch (this.fault.kind) {
        case 'killed':
          request.socket.destroy();
          void this.stopListening();
          return;
        case 'frozen':
          return;
        case 'reset':
          request.socket.destroy();
          return;
        case 'error': {
          const json = request.headers['content-type'] ?? 'application/x-amz-json-1.0';
          response.writeHead(this.fault.status, { 'content-type': json, 'x-amzn-errortype': this.fault.code });
          response.end(JSON.stringify({ __type: this.fault.code, message: `injected ${this.fault.code}` }));
        }
      }
    });
  }

  private forward(request: IncomingMessage, body: Buffer, response: ServerResponse, options: { loseAnswer?: boolean } = {}): void {
    this.forwarded++;
    const upstream = httpRequest(
      { host: this.target.hostname, port: this.target.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        if (options.loseAnswer) {
          // The dependency has done the work and answered: the caller never hears of it.
          answer.resume();
          answer.once('end', () => request.socket.destroy());
          return;
        }
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => request.socket.destroy());
    upstream.end(body);
  }
}
