import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { WebhookRefused, type WebhookClient, type WebhookRequest, type WebhookResponse } from './subscriptions.ts';

/**
 * Which webhook addresses Coffer itself calls (the validation handshake; in AWS EventBridge delivers):
 * - `public` (every deployment): https only, and only addresses on the public internet: never a
 *   private, loopback, link-local (169.254.0.0/16: the instance metadata service), unique-local
 *   (fc00::/7, fd00:ec2::254 among them), carrier-grade NAT, multicast or reserved one.
 * - `loopback` (the local stack): http or https, loopback addresses only.
 * The name is resolved once, every address it resolves to is checked, and the request connects to
 * the checked address (the TLS name stays the host's), so a second lookup cannot rebind it elsewhere.
 * Redirects are never followed: a 3xx is the answer.
 */
export type WebhookAddressPolicy = 'public' | 'loopback';

const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) is checked as the IPv4 address it is. */
function normalized(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1]!, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

export function addressAllowed(policy: WebhookAddressPolicy, address: string): boolean {
  const { address: plain, family } = normalized(address);
  if (family === 'ipv6' && /^::ffff:/i.test(plain)) return false;
  return policy === 'loopback' ? LOOPBACK.check(plain, family) : !NOT_PUBLIC.check(plain, family);
}

/** The URL's scheme is one the policy allows (checked before any lookup). */
function checkWebhookUrl(policy: WebhookAddressPolicy, url: URL): void {
  if (policy === 'public' && url.protocol !== 'https:') throw new WebhookRefused('an endpoint that is not https');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new WebhookRefused('an endpoint that is not http or https');
}

export type Resolver = (host: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );

/** Resolves the host and checks every address; answers the one to connect to. */
export async function resolveAllowed(policy: WebhookAddressPolicy, host: string, resolver: Resolver = systemResolver): Promise<LookupAddress> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  let addresses: LookupAddress[];
  if (isIP(bare)) {
    addresses = [{ address: bare, family: isIP(bare) }];
  } else {
    try {
      addresses = await resolver(bare);
    } catch {
      throw new WebhookRefused('a host name that does not resolve');
    }
  }
  if (addresses.length === 0) throw new WebhookRefused('a host name that does not resolve');
  if (!addresses.every((entry) => addressAllowed(policy, entry.address))) {
    throw new WebhookRefused(policy === 'loopback' ? 'an address that is not loopback' : 'an address that is not public');
  }
  return addresses[0]!;
}

const TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

export class PolicyWebhookClient implements WebhookClient {
  constructor(
    private readonly policy: WebhookAddressPolicy,
    private readonly resolver: Resolver = systemResolver,
  ) {}

  async send(target: string, request: WebhookRequest): Promise<WebhookResponse> {
    const url = new URL(target);
    checkWebhookUrl(this.policy, url);
    const pinned = await resolveAllowed(this.policy, url.hostname, this.resolver);
    const lookup: LookupFunction = (_host, options, callback) => {
      if ((options as { all?: boolean }).all) (callback as (error: null, addresses: LookupAddress[]) => void)(null, [pinned]);
      else callback(null, pinned.address, pinned.family);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const outgoing = send(
        url,
        {
          method: request.method,
          headers: { ...request.headers, ...(request.body !== undefined ? { 'content-length': String(Buffer.byteLength(request.body)) } : {}) },
          lookup,
          timeout: TIMEOUT_MS,
          agent: false,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) response.destroy(new WebhookRefused('a response that is too large'));
            else chunks.push(chunk);
          });
          response.on('error', reject);
          response.on('end', () => {
            const headers: Record<string, string | undefined> = {};
            for (const [key, value] of Object.entries(response.headers)) headers[key] = Array.isArray(value) ? value.join(', ') : value;
            resolve({ status: response.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new WebhookRefused('a timeout')));
      outgoing.on('error', reject);
      outgoing.end(request.body);
    });
  }
}
