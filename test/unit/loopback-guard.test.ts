/** The test guard itself: every way of opening a socket to a non-loopback host is refused, and loopback is not. */
import net from 'node:net';
import tls from 'node:tls';
import { expect, it } from 'vitest';

it('refuses non-loopback hosts in every call form and lets loopback through', () => {
  expect(() => net.connect(80, '169.254.169.254')).toThrow(/test guard/);
  expect(() => net.connect({ port: 80, host: '10.0.0.1' })).toThrow(/test guard/);
  expect(() => tls.connect({ port: 443, host: '169.254.169.254' })).toThrow(/test guard/);
  expect(() => new net.Socket().connect(80, '8.8.8.8')).toThrow(/test guard/);
  const loopback = net.connect(1, '127.0.0.1');
  loopback.on('error', () => undefined);
  loopback.destroy();
});
