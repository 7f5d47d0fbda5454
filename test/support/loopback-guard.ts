/**
 * Loaded into every test worker: any attempt to open a connection to a host other than loopback
 * fails at once. Tests talk to the local stack only; in particular no credential may ever probe the
 * cloud metadata address, and this makes such a regression a loud test failure instead of traffic.
 */
import net from 'node:net';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+|[a-z0-9-]+\.vault\.localhost)$/i;
const originalConnect = net.Socket.prototype.connect;

function targetHost(rawArgs: unknown[]): string | undefined {
  // net.connect() and tls.connect() hand over their arguments already normalized, as one array.
  const args = Array.isArray(rawArgs[0]) ? (rawArgs[0] as unknown[]) : rawArgs;
  const first = args[0];
  if (first && typeof first === 'object' && !Array.isArray(first)) {
    const options = first as { host?: string; path?: string };
    if (options.path) return 'localhost';
    return options.host ?? 'localhost';
  }
  if (typeof first === 'number') return typeof args[1] === 'string' ? args[1] : 'localhost';
  if (typeof first === 'string') return 'localhost'; // IPC path
  return undefined;
}

net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
  const host = targetHost(args);
  if (host !== undefined && !LOOPBACK.test(host)) {
    throw new Error(`test guard: refused a connection to non-loopback host ${host}`);
  }
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;
