import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { ClientSecretCredential } from '@azure/identity';
import { exportJWK, generateKeyPair, importPKCS8, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { localClient } from '../../dev/dynamodb.ts';
import { storedRecords, waitForAuditItems } from '../support/audit.ts';
import { adminToken, localStack, raw, uniqueName } from '../support/local.ts';

/**
 * Tokens, data at rest, logs and KMS traffic, checked against the running local stack.
 */
const V = 'api-version=7.6';

/** Tokens signed with the identity provider's own key, so only the claim under test is wrong. */
async function idpSignedToken(claims: Record<string, unknown>, overrides: { exp?: number; iat?: number; nbf?: number } = {}) {
  const info = localStack();
  const dataDir = process.env.COFFER_TEST_DATA_DIR!;
  const pem = readFileSync(join(dataDir, 'identity', 'signing-key.pem'), 'utf8');
  const key = await importPKCS8(pem, 'RS256');
  const jwks = (await (await fetch(info.jwksUri)).json()) as { keys: { kid: string }[] };
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ tid: info.tenantId, oid: info.objectId, appid: info.clientId, ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: jwks.keys[0]!.kid })
    .setIssuer(typeof claims.iss === 'string' ? claims.iss : info.issuer)
    .setAudience(typeof claims.aud === 'string' ? claims.aud : info.audience)
    .setIssuedAt(overrides.iat ?? now)
    .setNotBefore(overrides.nbf ?? now)
    .setExpirationTime(overrides.exp ?? now + 3600)
    .sign(key);
}

describe('tokens', () => {
  it('accepts a token minted like the identity provider mints them (the control case)', async () => {
    const response = await raw('GET', `/secrets?${V}`, { token: await idpSignedToken({}) });
    expect(response.status).toBe(200);
  });

  const bad: [string, () => Promise<string>, RegExp][] = [
    [
      'expired',
      () =>
        idpSignedToken(
          {},
          { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200, nbf: Math.floor(Date.now() / 1000) - 7200 },
        ),
      /expired/,
    ],
    ['not yet valid', () => idpSignedToken({}, { nbf: Math.floor(Date.now() / 1000) + 3600 }), /not yet valid/],
    ['for another audience', () => idpSignedToken({ aud: 'https://storage.example' }), /audience/],
    ['from another issuer', () => idpSignedToken({ iss: 'https://evil.example/tenant/v2.0' }), /issuer/],
    ['for another tenant', () => idpSignedToken({ tid: '00000000-0000-0000-0000-000000000000' }), /tenant/],
    [
      'signed with a key the issuer never published',
      async () => {
        const { privateKey, publicKey } = await generateKeyPair('RS256');
        const jwks = (await (await fetch(localStack().jwksUri)).json()) as { keys: { kid: string }[] };
        const info = localStack();
        void (await exportJWK(publicKey));
        return new SignJWT({ tid: info.tenantId, oid: info.objectId })
          .setProtectedHeader({ alg: 'RS256', kid: jwks.keys[0]!.kid })
          .setIssuer(info.issuer)
          .setAudience(info.audience)
          .setIssuedAt()
          .setExpirationTime('1h')
          .sign(privateKey);
      },
      /signature/,
    ],
    [
      'unsigned (alg none)',
      async () => {
        const info = localStack();
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        const body = Buffer.from(
          JSON.stringify({ iss: info.issuer, aud: info.audience, exp: 9999999999, iat: 1, tid: info.tenantId, oid: info.objectId }),
        ).toString('base64url');
        return `${header}.${body}.`;
      },
      /AKV100/,
    ],
    ['not a JWT at all', async () => 'definitely-not-a-jwt', /AKV100/],
  ];

  it.each(bad)('refuses a token %s with 401, the challenge, and no change to stored data', async (_label, mint, message) => {
    const name = uniqueName('tok');
    await raw('PUT', `/secrets/${name}?${V}`, { body: { value: 'original' } });
    const response = await raw('PUT', `/secrets/${name}?${V}`, { body: { value: 'overwritten' }, token: await mint() });
    expect(response.status).toBe(401);
    expect(response.json.error.code).toBe('Unauthorized');
    expect(response.json.error.message).toMatch(message);
    // The resource names the vault's port: Python's challenge verification compares host and port.
    expect(response.headers['www-authenticate']).toMatch(/^Bearer authorization="[^"]+", resource="https:\/\/vault\.localhost:\d+"$/);
    const reread = await raw('GET', `/secrets/${name}?${V}`);
    expect(reread.json.value).toBe('original');
    expect((await raw('GET', `/secrets/${name}/versions?${V}`)).json.value).toHaveLength(1);
  });

  it('refuses a real identity-provider token requested for another resource', async () => {
    const info = localStack();
    const credential = new ClientSecretCredential(info.tenantId, info.clientId, info.clientSecret, {
      authorityHost: info.authorityHost,
      disableInstanceDiscovery: true,
    });
    const token = await credential.getToken('https://storage.example/.default');
    const response = await raw('GET', `/secrets?${V}`, { token: token!.token });
    expect(response.status).toBe(401);
    expect(response.json.error.message).toMatch(/audience/);
  });

  it('answers 403 ForbiddenByRbac, naming the action, to a valid principal without a role', async () => {
    const info = localStack();
    const credential = new ClientSecretCredential(info.tenantId, info.unprivileged.clientId, info.unprivileged.clientSecret, {
      authorityHost: info.authorityHost,
      disableInstanceDiscovery: true,
    });
    const token = (await credential.getToken(`${info.audience}/.default`))!.token;
    const response = await raw('PUT', `/secrets/${uniqueName('nope')}?${V}`, { body: { value: 'x' }, token });
    expect(response.status).toBe(403);
    expect(response.json.error.innererror.code).toBe('ForbiddenByRbac');
    expect(response.json.error.message).toContain("Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'");
    expect(response.json.error.message).toContain(`oid=${info.unprivileged.objectId}`);
  });
});

/** Every item of the objects and audit tables, binary attributes as latin1, one text per table. */
async function tableDumps(): Promise<string[]> {
  const info = localStack();
  const dynamo = localClient(info.endpoints.dynamodb);
  try {
    const dumps: string[] = [];
    for (const table of [info.tables.objects, info.tables.audit]) {
      const items: unknown[] = [];
      let start: Record<string, any> | undefined;
      do {
        const page = await dynamo.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
        // The audit table's packs hold their records compressed: opened, so the dump has what they hold.
        for (const item of page.Items ?? [])
          items.push(table === info.tables.audit && item.records ? { ...item, records: storedRecords(item) } : item);
        start = page.LastEvaluatedKey;
      } while (start);
      expect(items.length).toBeGreaterThan(0);
      dumps.push(JSON.stringify(items, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v)));
    }
    return dumps;
  } finally {
    dynamo.destroy();
  }
}

/** The ways a byte string could appear in a stored document or a log. */
function encodings(bytes: Buffer): string[] {
  return [bytes.toString('base64url'), bytes.toString('base64'), bytes.toString('hex'), bytes.toString('latin1')];
}

describe('nothing a user stored is in plaintext at rest or in logs', () => {
  it('keeps values, tags and content types out of DynamoDB and every log', async () => {
    const info = localStack();
    const marker = `plaintext-marker-${Date.now()}`;
    const name = uniqueName('rest');
    await raw('PUT', `/secrets/${name}?${V}`, {
      body: { value: `${marker}-value`, contentType: `${marker}-type`, tags: { [`${marker}-tagname`]: `${marker}-tagvalue` } },
    });
    await raw('PATCH', `/secrets/${name}?${V}`, { body: { tags: { t: `${marker}-patched` } } });
    await raw('GET', `/secrets/${name}?${V}`);
    const backup = await raw('POST', `/secrets/${name}/backup?${V}`);
    expect(backup.status).toBe(200);
    const deleted = await raw('DELETE', `/secrets/${name}?${V}`);
    // Delivered in order: once the last request's audit record is in the table, all of them are.
    await waitForAuditItems(deleted.headers['x-ms-request-id'] as string);

    for (const dump of await tableDumps()) {
      expect(dump).not.toContain(marker);
      expect(dump).toContain(name); // names are metadata, and the scan really saw our items
    }

    const token = await adminToken();
    for (const log of [info.gatewayLog, info.kmsLog, info.identityLog]) {
      const text = readFileSync(log, 'utf8');
      expect(text.length).toBeGreaterThan(0);
      expect(text).not.toContain(marker);
      expect(text).not.toContain(token.split('.')[2]!);
      expect(text).not.toContain(info.clientSecret);
    }
  });

  it('keeps private keys and key tags out of DynamoDB, the local KMS key store and every log', async () => {
    const info = localStack();
    const marker = `key-marker-${Date.now()}`;
    const privateParts: Buffer[] = [];
    for (const hsm of [false, true]) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = privateKey.export({ format: 'jwk' });
      privateParts.push(Buffer.from(jwk.d!, 'base64url'), privateKey.export({ format: 'der', type: 'pkcs8' }));
      const name = uniqueName(hsm ? 'rest-hsm-key' : 'rest-key');
      const imported = await raw('PUT', `/keys/${name}?${V}`, { body: { key: jwk, Hsm: hsm, tags: { owner: `${marker}-tag` } } });
      expect(imported.status, imported.text).toBe(200);
      expect(imported.json.key.d).toBeUndefined();
      const signed = await raw('POST', `/keys/${name}//sign?${V}`, { body: { alg: 'ES256', value: Buffer.alloc(32, 7).toString('base64url') } });
      expect(signed.status).toBe(200);
      const backedUp = await raw('POST', `/keys/${name}/backup?${V}`);
      expect(backedUp.status).toBe(200);
      // Delivered in order: once the last request's audit record is in the table, all of them are.
      if (hsm) await waitForAuditItems(backedUp.headers['x-ms-request-id'] as string);
    }

    const kmsStore = readdirSync(join(process.env.COFFER_TEST_DATA_DIR!, 'kms')).map((file) =>
      readFileSync(join(process.env.COFFER_TEST_DATA_DIR!, 'kms', file), 'latin1'),
    );
    expect(kmsStore.join('')).toContain('ECC_NIST_P256'); // the store was read and holds the HSM key
    const logs = [info.gatewayLog, info.kmsLog, info.identityLog].map((log) => readFileSync(log, 'latin1'));
    for (const text of [...(await tableDumps()), ...kmsStore, ...logs]) {
      expect(text).not.toContain(marker);
      for (const part of privateParts) for (const encoded of encodings(part)) expect(text.includes(encoded)).toBe(false);
    }
  });

  it('writes an audit record per request with the caller and the result, never the value', async () => {
    const info = localStack();
    const name = uniqueName('audit');
    const set = await raw('PUT', `/secrets/${name}?${V}`, { body: { value: 'audited-value' }, headers: { 'x-ms-client-request-id': 'corr-123' } });
    const requestId = set.headers['x-ms-request-id'] as string;
    // The record is delivered from the functions' log stream a moment after the response.
    const items = await waitForAuditItems(requestId);
    expect(items).toHaveLength(1);
    const record = items[0]!;
    expect(record.operationName?.S).toBe('SecretSet');
    expect(record.httpStatusCode?.N).toBe('200');
    expect(record.resultType?.S).toBe('Success');
    expect(record.correlationId?.S).toBe('corr-123');
    expect(record.identity?.M?.oid?.S).toBe(info.objectId);
    expect(record.id?.S).toBe(set.json.id);
    expect(JSON.stringify(record)).not.toContain('audited-value');
  });
});

describe('KMS traffic', () => {
  function kmsCalls(pattern = /GenerateDataKey|Decrypt/): number {
    return readFileSync(localStack().kmsLog, 'utf8')
      .split('\n')
      .filter((l) => pattern.test(l)).length;
  }

  it("makes no KMS call for warm reads, lists or new versions within a data key's budget", async () => {
    const name = uniqueName('warm');
    await raw('PUT', `/secrets/${name}?${V}`, { body: { value: 'first' } });
    await raw('GET', `/secrets/${name}?${V}`);
    const before = kmsCalls();
    // The log does record this stack's data-key traffic (the first write generated a key).
    expect(before).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) expect((await raw('GET', `/secrets/${name}?${V}`)).status).toBe(200);
    await raw('GET', `/secrets?${V}`);
    await raw('PUT', `/secrets/${name}?${V}`, { body: { value: 'second' } });
    expect((await raw('GET', `/secrets/${name}?${V}`)).json.value).toBe('second');
    expect(kmsCalls()).toBe(before);
  });

  it('signs and decrypts with a warm software key without calling KMS, and with an HSM key only through KMS', async () => {
    const digest = Buffer.alloc(32, 9).toString('base64url');
    const software = uniqueName('warm-key');
    await raw('POST', `/keys/${software}/create?${V}`, { body: { kty: 'RSA', key_size: 2048 } });
    const encrypted = await raw('POST', `/keys/${software}//encrypt?${V}`, { body: { alg: 'RSA-OAEP-256', value: 'aGVsbG8' } });
    await raw('POST', `/keys/${software}//sign?${V}`, { body: { alg: 'PS256', value: digest } });
    const before = kmsCalls(/./);
    for (let i = 0; i < 3; i++) {
      expect((await raw('POST', `/keys/${software}//sign?${V}`, { body: { alg: 'PS256', value: digest } })).status).toBe(200);
      const decrypted = await raw('POST', `/keys/${software}//decrypt?${V}`, { body: { alg: 'RSA-OAEP-256', value: encrypted.json.value } });
      expect(decrypted.json.value).toBe('aGVsbG8');
    }
    expect(kmsCalls(/./)).toBe(before);

    const hsm = uniqueName('hsm-key');
    await raw('POST', `/keys/${hsm}/create?${V}`, { body: { kty: 'EC-HSM', crv: 'P-256' } });
    const signsBefore = kmsCalls(/\bSign\b/);
    expect((await raw('POST', `/keys/${hsm}//sign?${V}`, { body: { alg: 'ES256', value: digest } })).status).toBe(200);
    expect(kmsCalls(/\bSign\b/)).toBe(signsBefore + 1);
  });
});
