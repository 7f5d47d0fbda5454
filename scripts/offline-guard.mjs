/**
 * Loaded (`node --import`) into the Serverless CLI while it packages: packaging must work with no
 * network and no AWS account, so any connection to a host other than loopback fails at once instead
 * of quietly reaching AWS (or hanging on an unreachable endpoint).
 */
import net from 'node:net';

const LOOPBACK = /^(localhost|127(?:\.\d+){3}|::1|::ffff:127(?:\.\d+){3})$/i;
const connect = net.Socket.prototype.connect;

net.Socket.prototype.connect = function offlineConnect(...args) {
  // net.connect() hands over its arguments already normalized, as one array.
  const [first, second] = Array.isArray(args[0]) ? args[0] : args;
  let host;
  if (first && typeof first === 'object' && !Array.isArray(first)) host = first.path ? 'localhost' : (first.host ?? 'localhost');
  else if (typeof first === 'number') host = typeof second === 'string' ? second : 'localhost';
  if (host !== undefined && !LOOPBACK.test(host)) {
    throw new Error(`offline packaging: refused a connection to ${host}; packaging must not need the network or AWS`);
  }
  return connect.apply(this, args);
};
