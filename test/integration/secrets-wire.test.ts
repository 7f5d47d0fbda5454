import { describe, expect, it } from 'vitest';
import { localStack, raw, uniqueName } from '../support/local.ts';

/**
 * The secrets API on the wire, through the local HTTPS gateway and the production handlers: status
 * codes, bodies, headers and errors exactly as Azure Key Vault answers them.
 */
const V = 'api-version=7.6';
const VERSION = /^[0-9a-f]{32}$/;

async function setSecret(name: string, body: object = { value: 'v' }) {
  const response = await raw('PUT', `/secrets/${name}?${V}`, { body });
  expect(response.status, response.text).toBe(200);
  return response.json as { id: string; value: string; attributes: Record<string, unknown> };
}

describe('authentication challenge', () => {
  it('answers a token-less request with 401 and the Key Vault challenge before looking at the body', async () => {
    const info = localStack();
    const response = await raw('PUT', `/secrets/x?${V}`, { token: null, body: '{not json' });
    expect(response.status).toBe(401);
    expect(response.json).toEqual({ error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } });
    expect(response.headers['www-authenticate']).toBe(
      `Bearer authorization="${info.authorityHost}/${info.tenantId}", resource="${info.audience}:${new URL(info.vaultUrl).port}"`,
    );
  });

  it('answers the challenge even without an api-version', async () => {
    const response = await raw('GET', '/secrets', { token: null });
    expect(response.status).toBe(401);
  });
});

describe('api-version', () => {
  it('is required', async () => {
    const response = await raw('GET', '/secrets');
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe('BadParameter');
  });

  it('must be known', async () => {
    const response = await raw('GET', '/secrets?api-version=9.9');
    expect(response.status).toBe(400);
    expect(response.json.error.message).toContain('The specified version (9.9) is not recognized');
  });
});

describe('set and get', () => {
  it('returns the bundle with a versioned id, Unix-second attributes and the standard headers', async () => {
    const info = localStack();
    const name = uniqueName('wire');
    const before = Math.floor(Date.now() / 1000);
    const response = await raw('PUT', `/secrets/${name}?${V}`, {
      body: { value: 's3cret', contentType: 'text/plain', tags: { env: 'test' } },
      headers: { 'x-ms-client-request-id': 'client-req-1' },
    });
    expect(response.status).toBe(200);
    const bundle = response.json;
    expect(bundle.value).toBe('s3cret');
    expect(bundle.contentType).toBe('text/plain');
    expect(bundle.tags).toEqual({ env: 'test' });
    const [, base, version] = /^(.*)\/secrets\/[^/]+\/([^/]+)$/.exec(bundle.id)!;
    expect(base).toBe(info.vaultUrl);
    expect(version).toMatch(VERSION);
    expect(bundle.attributes.enabled).toBe(true);
    expect(bundle.attributes.created).toBeGreaterThanOrEqual(before);
    expect(bundle.attributes.updated).toBe(bundle.attributes.created);
    expect(bundle.attributes.recoverableDays).toBe(90);
    expect(bundle.attributes.recoveryLevel).toBe('Recoverable+Purgeable');
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['x-ms-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers['x-ms-client-request-id']).toBe('client-req-1');
    expect(response.headers['x-ms-keyvault-service-version']).toBeDefined();
  });

  it('gets the latest with and without a trailing slash, and any version by id', async () => {
    const name = uniqueName('get');
    const first = await setSecret(name, { value: 'one' });
    const second = await setSecret(name, { value: 'two' });
    expect(second.id).not.toBe(first.id);
    expect((await raw('GET', `/secrets/${name}?${V}`)).json.value).toBe('two');
    expect((await raw('GET', `/secrets/${name}/?${V}`)).json.value).toBe('two');
    const firstVersion = first.id.split('/').pop();
    const old = await raw('GET', `/secrets/${name}/${firstVersion}?${V}`);
    expect(old.json.value).toBe('one');
    expect(old.json.id).toBe(first.id);
  });

  it('treats names case-insensitively and keeps the first casing', async () => {
    const name = uniqueName('Case');
    await setSecret(name, { value: 'a' });
    const response = await raw('GET', `/secrets/${name.toUpperCase()}?${V}`);
    expect(response.status).toBe(200);
    expect(response.json.id).toContain(`/secrets/${name}/`);
  });

  it('answers 404 SecretNotFound for an unknown secret or version', async () => {
    const missing = await raw('GET', `/secrets/${uniqueName('missing')}?${V}`);
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('SecretNotFound');
    const name = uniqueName('ver');
    await setSecret(name);
    const wrongVersion = await raw('GET', `/secrets/${name}/0123456789abcdef0123456789abcdef?${V}`);
    expect(wrongVersion.status).toBe(404);
    expect(wrongVersion.json.error.code).toBe('SecretNotFound');
  });

  it('refuses a version that is not 32 hex characters with 400 BadParameter, before any store call', async () => {
    const name = uniqueName('badver');
    const set = await setSecret(name, { value: 'kept' });
    for (const version of ['x'.repeat(1100), 'a'.repeat(1025), 'not-a-version', '0123456789abcdef', `${'0'.repeat(32)}0`, 'g'.repeat(32)]) {
      for (const [method, body] of [
        ['GET', undefined],
        ['PATCH', { tags: { t: 'changed' } }],
      ] as const) {
        const response = await raw(method, `/secrets/${name}/${version}?${V}`, body ? { body } : {});
        expect(response.status, `${method} ${version.slice(0, 40)}: ${response.text.slice(0, 200)}`).toBe(400);
        expect(response.json.error.code).toBe('BadParameter');
        expect(response.json.error.message).toMatch(/32 hexadecimal characters/);
      }
    }
    const latest = await raw('GET', `/secrets/${name}?${V}`);
    expect(latest.json).toMatchObject({ id: set.id, value: 'kept' });
    expect(latest.json.tags).toBeUndefined();
  });

  it('refuses get on a disabled secret with 403 SecretDisabled until it is enabled again', async () => {
    const name = uniqueName('disabled');
    await setSecret(name, { value: 'x', attributes: { enabled: false } });
    const denied = await raw('GET', `/secrets/${name}?${V}`);
    expect(denied.status).toBe(403);
    expect(denied.json).toEqual({
      error: { code: 'Forbidden', message: 'Operation get is not allowed on a disabled secret.', innererror: { code: 'SecretDisabled' } },
    });
    const enabled = await raw('PATCH', `/secrets/${name}/?${V}`, { body: { attributes: { enabled: true } } });
    expect(enabled.status).toBe(200);
    expect((await raw('GET', `/secrets/${name}?${V}`)).json.value).toBe('x');
  });

  it('serves not-yet-valid and expired secrets, as Azure does', async () => {
    const name = uniqueName('window');
    const now = Math.floor(Date.now() / 1000);
    await setSecret(name, { value: 'future', attributes: { nbf: now + 3600 } });
    expect((await raw('GET', `/secrets/${name}?${V}`)).status).toBe(200);
    const expired = uniqueName('expired');
    await setSecret(expired, { value: 'past', attributes: { exp: now - 3600 } });
    const response = await raw('GET', `/secrets/${expired}?${V}`);
    expect(response.status).toBe(200);
    expect(response.json.attributes.exp).toBe(now - 3600);
  });
});

describe('update', () => {
  it('changes attributes, tags and contentType of one version, never the value', async () => {
    const name = uniqueName('upd');
    const first = await setSecret(name, { value: 'keep', contentType: 'a', tags: { t: '1' } });
    await setSecret(name, { value: 'newer' });
    const version = first.id.split('/').pop();
    const response = await raw('PATCH', `/secrets/${name}/${version}?${V}`, {
      body: { contentType: 'b', tags: { t: '2', u: '3' }, attributes: { exp: 4102444800 }, value: 'ignored' },
    });
    expect(response.status).toBe(200);
    expect(response.json.value).toBeUndefined();
    expect(response.json.contentType).toBe('b');
    expect(response.json.tags).toEqual({ t: '2', u: '3' });
    expect(response.json.attributes.exp).toBe(4102444800);
    expect(response.json.attributes.updated).toBeGreaterThanOrEqual(response.json.attributes.created);
    const reread = await raw('GET', `/secrets/${name}/${version}?${V}`);
    expect(reread.json.value).toBe('keep');
    expect(reread.json.tags).toEqual({ t: '2', u: '3' });
    // The latest version is untouched.
    const latest = await raw('GET', `/secrets/${name}?${V}`);
    expect(latest.json.value).toBe('newer');
    expect(latest.json.tags).toBeUndefined();
  });

  it('keeps what a PATCH leaves out', async () => {
    const name = uniqueName('keep');
    await setSecret(name, { value: 'x', contentType: 'ct', tags: { a: 'b' } });
    const response = await raw('PATCH', `/secrets/${name}?${V}`, { body: { attributes: { enabled: true } } });
    expect(response.json.contentType).toBe('ct');
    expect(response.json.tags).toEqual({ a: 'b' });
  });
});

describe('bad input leaves stored data unchanged', () => {
  const cases: [string, string | object, RegExp][] = [
    ['malformed JSON', '{"value": "x"', /not valid JSON/],
    ['a body that is not an object', '"just a string"', /body/],
    ['a missing value', { contentType: 'x' }, /'value'/],
    ['a value of the wrong type', { value: 42 }, /'value': expected string/],
    ['tags of the wrong type', { value: 'x', tags: { a: 1 } }, /'tags.a'/],
    ['enabled of the wrong type', { value: 'x', attributes: { enabled: 'yes' } }, /'attributes.enabled'/],
    ['a fractional exp', { value: 'x', attributes: { exp: 1.5 } }, /'attributes.exp'/],
    ['an oversize value', { value: 'x'.repeat(25_601) }, /maximum permitted length of 25600/],
    ['an oversize multibyte value', { value: 'é'.repeat(12_801) }, /maximum permitted length/],
    ['a content type over 255 characters', { value: 'x', contentType: 'c'.repeat(256) }, /content type/],
    ['16 tags', { value: 'x', tags: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`t${i}`, 'v'])) }, /Too many tags/],
    ['a tag value over 512 characters', { value: 'x', tags: { t: 'v'.repeat(513) } }, /Tag values/],
    ['an exp beyond year 9999', { value: 'x', attributes: { exp: 253402300800 } }, /'attributes.exp'/],
  ];

  it.each(cases)('%s gets 400 BadParameter', async (_label, body, message) => {
    const name = uniqueName('bad');
    await setSecret(name, { value: 'original' });
    const response = await raw('PUT', `/secrets/${name}?${V}`, { body });
    expect(response.status, response.text).toBe(400);
    expect(response.json.error.code).toBe('BadParameter');
    expect(response.json.error.message).toMatch(message);
    expect(response.text).not.toContain('xxxxxxxxxx');
    const reread = await raw('GET', `/secrets/${name}?${V}`);
    expect(reread.json.value).toBe('original');
    const versions = await raw('GET', `/secrets/${name}/versions?${V}`);
    expect(versions.json.value).toHaveLength(1);
  });

  it('accepts a value of exactly 25600 bytes', async () => {
    const name = uniqueName('max');
    const value = 'x'.repeat(25_600);
    expect((await setSecret(name, { value })).value).toBe(value);
  });

  it.each([['bad_name'], ['a'.repeat(128)], ['sp%20ace'], ['dot.ted']])('refuses the name %s', async (name) => {
    const response = await raw('PUT', `/secrets/${name}?${V}`, { body: { value: 'x' } });
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe('BadParameter');
  });

  it('refuses a PATCH with wrong types and leaves the version as it was', async () => {
    const name = uniqueName('patch');
    await setSecret(name, { value: 'v', tags: { a: 'b' } });
    const response = await raw('PATCH', `/secrets/${name}?${V}`, { body: { tags: 'not-an-object' } });
    expect(response.status).toBe(400);
    expect((await raw('GET', `/secrets/${name}?${V}`)).json.tags).toEqual({ a: 'b' });
  });

  it('answers unknown paths with 404 and known paths with the wrong method with 405', async () => {
    expect((await raw('GET', `/nothing?${V}`)).status).toBe(404);
    const wrongMethod = await raw('PUT', `/deletedsecrets?${V}`, { body: {} });
    expect(wrongMethod.status).toBe(405);
  });
});

describe('lists and paging', () => {
  it('pages versions with maxresults and a signed nextLink that carries the api-version', async () => {
    const name = uniqueName('pages');
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await setSecret(name, { value: `v${i}` })).id);
    const seen: string[] = [];
    let link: string | null = `/secrets/${name}/versions?${V}&maxresults=2`;
    let pages = 0;
    while (link) {
      const response = await raw('GET', link);
      expect(response.status, response.text).toBe(200);
      pages++;
      expect(response.json.value.length).toBeLessThanOrEqual(2);
      for (const item of response.json.value) {
        expect(item.value).toBeUndefined();
        seen.push(item.id);
      }
      link = response.json.nextLink;
      if (link) {
        expect(link.startsWith(localStack().vaultUrl)).toBe(true);
        expect(new URL(link).searchParams.get('api-version')).toBe('7.6');
        expect(new URL(link).searchParams.get('maxresults')).toBe('2');
      }
    }
    expect(pages).toBe(3);
    expect(new Set(seen)).toEqual(ids);
  });

  it('refuses a tampered skiptoken and one replayed against another listing', async () => {
    const name = uniqueName('tamper');
    for (let i = 0; i < 3; i++) await setSecret(name, { value: `v${i}` });
    const first = await raw('GET', `/secrets/${name}/versions?${V}&maxresults=1`);
    const next = new URL(first.json.nextLink);
    const token = next.searchParams.get('$skiptoken')!;
    const tampered = await raw('GET', `/secrets/${name}/versions?${V}&maxresults=1&$skiptoken=${token.slice(0, -2)}xx`);
    expect(tampered.status).toBe(400);
    const replayed = await raw('GET', `/secrets?${V}&maxresults=1&$skiptoken=${encodeURIComponent(token)}`);
    expect(replayed.status).toBe(400);
    expect(replayed.json.error.code).toBe('BadParameter');
  });

  it('lists secrets with base ids and their latest metadata, never values', async () => {
    const name = uniqueName('listed');
    await setSecret(name, { value: 'hidden', contentType: 'ct', tags: { k: 'v' } });
    const found: any[] = [];
    let link: string | null = `/secrets?${V}`;
    while (link) {
      const response = await raw('GET', link);
      found.push(...response.json.value);
      link = response.json.nextLink;
    }
    const item = found.find((i) => i.id === `${localStack().vaultUrl}/secrets/${name}`);
    expect(item).toMatchObject({ contentType: 'ct', tags: { k: 'v' }, attributes: { enabled: true } });
    expect(found.every((i) => i.value === undefined)).toBe(true);
  });

  it('refuses maxresults out of range', async () => {
    const response = await raw('GET', `/secrets?${V}&maxresults=26`);
    expect(response.status).toBe(400);
  });
});

describe('soft delete, recover, purge', () => {
  it('deletes into the deleted state, blocks the name, recovers, and purges', async () => {
    const info = localStack();
    const name = uniqueName('del');
    await setSecret(name, { value: 'kept', tags: { a: 'b' } });
    const deleted = await raw('DELETE', `/secrets/${name}?${V}`);
    expect(deleted.status).toBe(200);
    expect(deleted.json.value).toBeUndefined();
    expect(deleted.json.recoveryId).toBe(`${info.vaultUrl}/deletedsecrets/${name}`);
    expect(deleted.json.scheduledPurgeDate - deleted.json.deletedDate).toBe(90 * 86_400);
    expect(deleted.json.tags).toEqual({ a: 'b' });

    expect((await raw('GET', `/secrets/${name}?${V}`)).status).toBe(404);
    const reuse = await raw('PUT', `/secrets/${name}?${V}`, { body: { value: 'new' } });
    expect(reuse.status).toBe(409);
    expect(reuse.json.error.innererror.code).toBe('ObjectIsDeletedButRecoverable');
    expect((await raw('DELETE', `/secrets/${name}?${V}`)).status).toBe(404);

    const got = await raw('GET', `/deletedsecrets/${name}?${V}`);
    expect(got.status).toBe(200);
    expect(got.json.id).toBe(deleted.json.id);

    const recovered = await raw('POST', `/deletedsecrets/${name}/recover?${V}`);
    expect(recovered.status).toBe(200);
    expect(recovered.json.id).toBe(deleted.json.id);
    expect((await raw('GET', `/secrets/${name}?${V}`)).json.value).toBe('kept');
    expect((await raw('GET', `/deletedsecrets/${name}?${V}`)).status).toBe(404);

    await raw('DELETE', `/secrets/${name}?${V}`);
    const purged = await raw('DELETE', `/deletedsecrets/${name}?${V}`);
    expect(purged.status).toBe(204);
    expect(purged.text).toBe('');
    const gone = await raw('GET', `/deletedsecrets/${name}?${V}`);
    expect(gone.status).toBe(404);
    expect(gone.json.error.message).toBe(`Deleted Secret not found: ${name}`);
    // The name is free again and starts with a single version.
    await setSecret(name, { value: 'fresh' });
    expect((await raw('GET', `/secrets/${name}/versions?${V}`)).json.value).toHaveLength(1);
  });

  it('lists deleted secrets with their recovery ids', async () => {
    const name = uniqueName('listdel');
    await setSecret(name);
    await raw('DELETE', `/secrets/${name}?${V}`);
    const all: any[] = [];
    let link: string | null = `/deletedsecrets?${V}&maxresults=5`;
    while (link) {
      const response = await raw('GET', link);
      all.push(...response.json.value);
      link = response.json.nextLink;
    }
    const item = all.find((i) => i.recoveryId?.endsWith(`/deletedsecrets/${name}`));
    expect(item).toBeDefined();
    expect(item.deletedDate).toBeTypeOf('number');
  });
});

describe('backup and restore', () => {
  it('restores every version after a purge, and refuses to restore onto an existing name', async () => {
    const name = uniqueName('bak');
    await setSecret(name, { value: 'first' });
    await setSecret(name, { value: 'second', tags: { x: 'y' } });
    const backup = await raw('POST', `/secrets/${name}/backup?${V}`);
    expect(backup.status).toBe(200);
    expect(backup.json.value).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(backup.json.value, 'base64url').includes(Buffer.from('second'))).toBe(false);

    const conflict = await raw('POST', `/secrets/restore?${V}`, { body: { value: backup.json.value } });
    expect(conflict.status).toBe(409);

    await raw('DELETE', `/secrets/${name}?${V}`);
    await raw('DELETE', `/deletedsecrets/${name}?${V}`);
    const restored = await raw('POST', `/secrets/restore?${V}`, { body: { value: backup.json.value } });
    expect(restored.status, restored.text).toBe(200);
    expect(restored.json.tags).toEqual({ x: 'y' });
    expect((await raw('GET', `/secrets/${name}?${V}`)).json.value).toBe('second');
    expect((await raw('GET', `/secrets/${name}/versions?${V}`)).json.value).toHaveLength(2);
  });

  it('refuses a corrupt or altered backup blob with 400', async () => {
    const name = uniqueName('corrupt');
    await setSecret(name);
    const backup = (await raw('POST', `/secrets/${name}/backup?${V}`)).json.value as string;
    const bytes = Buffer.from(backup, 'base64url');
    const at = bytes.length - 5;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
    for (const value of [bytes.toString('base64url'), 'bm90IGEgYmFja3Vw', '!!!']) {
      const response = await raw('POST', `/secrets/restore?${V}`, { body: { value } });
      expect(response.status).toBe(400);
      expect(response.json.error.code).toBe('BadParameter');
    }
  });
});

describe('concurrency', () => {
  it('keeps every version when many clients set one name at once', async () => {
    const name = uniqueName('race');
    const writes = 20;
    const results = await Promise.all(Array.from({ length: writes }, (_, i) => raw('PUT', `/secrets/${name}?${V}`, { body: { value: `w${i}` } })));
    expect(results.map((r) => r.status)).toEqual(Array(writes).fill(200));
    const versions = await raw('GET', `/secrets/${name}/versions?${V}`);
    expect(versions.json.value).toHaveLength(writes);
    const latest = await raw('GET', `/secrets/${name}?${V}`);
    const created = results.map((r) => r.json.id);
    expect(created).toContain(latest.json.id);
  });
});
