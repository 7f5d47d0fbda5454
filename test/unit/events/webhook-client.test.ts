import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookRefused } from '../../../lib/events/subscriptions.ts';
import { addressAllowed, PolicyWebhookClient, resolveAllowed } from '../../../lib/events/webhook-client.ts';

describe('the webhook address policy', () => {
  it.each([
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '127.0.0.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fd00:ec2::254',
    'fc00::1',
    'fe80::1',
    '::ffff:169.254.169.254',
    '::ffff:10.0.0.1',
    '64:ff9b::a9fe:a9fe',
  ])('a deployment never calls %s', (address) => {
    expect(addressAllowed('public', address)).toBe(false);
  });

  it.each(['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34'])('a deployment may call %s', (address) => {
    expect(addressAllowed('public', address)).toBe(true);
  });

  it('the local stack calls loopback only', () => {
    expect(addressAllowed('loopback', '127.0.0.1')).toBe(true);
    expect(addressAllowed('loopback', '127.5.0.1')).toBe(true);
    expect(addressAllowed('loopback', '::1')).toBe(true);
    expect(addressAllowed('loopback', '93.184.216.34')).toBe(false);
    expect(addressAllowed('loopback', '169.254.169.254')).toBe(false);
  });

  it('checks every address a name resolves to (one private address is enough to refuse)', async () => {
    const resolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ];
    await expect(resolveAllowed('public', 'rebinding.example', resolver)).rejects.toBeInstanceOf(WebhookRefused);
    await expect(resolveAllowed('public', 'public.example', async () => [{ address: '93.184.216.34', family: 4 }])).resolves.toEqual({
      address: '93.184.216.34',
      family: 4,
    });
    await expect(resolveAllowed('public', '[::1]')).rejects.toBeInstanceOf(WebhookRefused);
  });
});

describe('the webhook client', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/redirect') {
        response.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
        return;
      }
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ method: request.method, event: request.headers['aeg-event-type'] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('calls a loopback webhook where loopback is the policy, on the address it checked', async () => {
    // The resolver is consulted once; the connection goes to what it answered, not a second lookup.
    let lookups = 0;
    const client = new PolicyWebhookClient('loopback', async () => {
      lookups++;
      return [{ address: '127.0.0.1', family: 4 }];
    });
    const answer = await client.send(`http://localhost:${port}/x`, {
      method: 'POST',
      headers: { 'aeg-event-type': 'SubscriptionValidation' },
      body: '[]',
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ method: 'POST', event: 'SubscriptionValidation' });
    expect(lookups).toBe(1);
  });

  it('never follows a redirect', async () => {
    const answer = await new PolicyWebhookClient('loopback').send(`http://127.0.0.1:${port}/redirect`, { method: 'POST', headers: {}, body: '' });
    expect(answer.status).toBe(307);
  });

  it('a deployment refuses http, and loopback whatever the scheme, before connecting', async () => {
    await expect(new PolicyWebhookClient('public').send(`http://127.0.0.1:${port}/x`, { method: 'POST', headers: {} })).rejects.toThrow('not https');
    await expect(new PolicyWebhookClient('public').send(`https://127.0.0.1:${port}/x`, { method: 'POST', headers: {} })).rejects.toThrow(
      'not public',
    );
    await expect(new PolicyWebhookClient('public').send('https://169.254.169.254/latest', { method: 'POST', headers: {} })).rejects.toThrow(
      'not public',
    );
  });
});
