import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  constants,
  generateKeyPairSync,
  type JsonWebKey,
  publicEncrypt,
  randomBytes,
  randomUUID,
  verify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CryptographyClient, KeyClient, type KeyVaultKey } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, REGION } from '../../dev/local-environment.ts';
import { DynamoDBDocumentClient, QueryCommand } from '../../lib/aws/api/dynamodb.ts';
import { DynamoPoolStore } from '../../lib/aws/dynamo-managed-hsm-pools.ts';
import { hsmRoleIds } from '../../lib/hsm/roles.ts';
import { localRoutes } from '../../lib/http/routes.ts';
import { waitForAuditItems } from '../support/audit.ts';
import { securityDomainOfficers } from '../support/certificates.ts';
import { adminSecretCredential, localStack, raw, uniqueName, unprivilegedCredential } from '../support/local.ts';
import { managementClients } from '../support/vaults.ts';

/**
 * A managed HSM pool's keys through the unmodified KeyClient and CryptographyClient against the
 * pool's hsmUri on the local stack, its HSM a SoftHSM2 token (docs/adr/0024-keys-in-pools.md): every
 * key type, size, curve and algorithm Managed HSM offers that SoftHSM2 implements, RSA-OAEP-256's
 * refusal where it does not, one RSA key that signs and decrypts, RSA1_5, the life cycle with soft
 * delete, a Crypto Service Encryption User on one AES key, the refusal before activation, and the
 * pool's DynamoDB items holding handles, public parts and metadata only.
 */
const info = localStack();
const pools = managementClients(info).vaults.managedHsms;
const LOCATION = 'eastus';
const MHSM_SCOPE = 'https://managedhsm.azure.net/.default';
const API = 'api-version=7.4';
const ROLE_DEFINITION = (id: string) => `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/${id}`;
const CLIENT_OPTIONS = { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } };

const poolName = (prefix: string) => uniqueName(prefix).replace(/-/g, '').slice(0, 24);
const name = poolName('pkeys');
const inactiveName = poolName('pkoff');
let hsmUri = '';
let inactiveUri = '';
let adminToken = '';
let keys: KeyClient;
const admin = adminSecretCredential(info);
const application = unprivilegedCredential(info);
/** How the pool was activated, for the report: the real security domain download when the route exists. */
let activatedBy = '';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest();
const at = (uri: string, path: string) => `${uri.replace(/\/$/, '')}${path}${path.includes('?') ? '&' : '?'}${API}`;

async function grant(role: string, principalId: string, scope = '/'): Promise<void> {
  const prefix = scope === '/' ? '' : scope;
  const r = await raw('PUT', at(hsmUri, `${prefix}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`), {
    token: adminToken,
    body: { properties: { roleDefinitionId: ROLE_DEFINITION(role), principalId } },
  });
  expect(r.status, r.text).toBe(201);
}

/** The security domain download when the pool host has it (it activates the pool); else the activation write it makes, in set-up only. */
async function activate(pool: string, uri: string): Promise<void> {
  if (localRoutes.some((r) => r.path === '/securitydomain/download' && r.method === 'POST')) {
    const certificates = securityDomainOfficers().map(({ jwk }) => jwk);
    const r = await raw('POST', at(uri, '/securitydomain/download'), { token: adminToken, body: { certificates, required: 2 } });
    expect(r.status, r.text).toBe(202);
    activatedBy = 'security domain download';
    return;
  }
  const dynamo = new DynamoDBDocumentClient({ endpoint: info.endpoints.dynamodb, region: REGION, credentials: () => LOCAL_CREDENTIALS });
  try {
    const store = new DynamoPoolStore(dynamo, info.tables.objects);
    const record = (await store.getPool(pool))!;
    expect(await store.updatePool({ ...record, activation: { status: 'Active', message: '' }, revision: record.revision + 1 }, record.revision)).toBe(
      true,
    );
    activatedBy = 'the activation write';
  } finally {
    dynamo.destroy();
  }
}

function keyClient(credential = admin): KeyClient {
  return new KeyClient(hsmUri, credential, CLIENT_OPTIONS);
}

function crypto(key: KeyVaultKey | string, credential = admin): CryptographyClient {
  return new CryptographyClient(key as KeyVaultKey, credential, CLIENT_OPTIONS);
}

async function refusal(promise: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message?: string }> {
  return promise.then(
    () => ({ statusCode: 0 }),
    (error: { statusCode?: number; code?: string; message?: string }) => ({ statusCode: error.statusCode, code: error.code, message: error.message }),
  );
}

/** The key's public part for node:crypto: the JWK without its -HSM suffix (and secp256k1 by its JOSE name). */
function publicKeyOf(key: KeyVaultKey) {
  const { kty, n, e, crv, x, y } = key.key!;
  const jwk =
    kty === 'RSA-HSM'
      ? { kty: 'RSA', n: Buffer.from(n!).toString('base64url'), e: Buffer.from(e!).toString('base64url') }
      : { kty: 'EC', crv: crv === 'P-256K' ? 'secp256k1' : crv, x: Buffer.from(x!).toString('base64url'), y: Buffer.from(y!).toString('base64url') };
  return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

beforeAll(async () => {
  const pool = await pools.beginCreateOrUpdateAndWait(info.resourceGroup, name, {
    location: LOCATION,
    sku: { family: 'B', name: 'Standard_B1' },
    properties: { tenantId: info.tenantId, initialAdminObjectIds: [info.objectId] },
  });
  hsmUri = pool.properties!.hsmUri!;
  const inactive = await pools.beginCreateOrUpdateAndWait(info.resourceGroup, inactiveName, {
    location: LOCATION,
    sku: { family: 'B', name: 'Standard_B1' },
    properties: { tenantId: info.tenantId, initialAdminObjectIds: [info.objectId] },
  });
  inactiveUri = inactive.properties!.hsmUri!;
  adminToken = (await admin.getToken(MHSM_SCOPE))!.token;
  await activate(name, hsmUri);
  // The Administrator performs no key operation: the test's principal is Crypto Officer and Crypto User too.
  await grant(hsmRoleIds.cryptoOfficer, info.objectId);
  await grant(hsmRoleIds.cryptoUser, info.objectId);
  keys = keyClient();
}, 120_000);

afterAll(async () => {
  for (const pool of [name, inactiveName]) {
    await pools.beginDeleteAndWait(info.resourceGroup, pool).catch(() => undefined);
    await pools.beginPurgeDeletedAndWait(pool, LOCATION).catch(() => undefined);
  }
}, 60_000);

describe("a pool's keys through KeyClient", () => {
  it('creates, reads, lists, versions, updates, soft-deletes, recovers and purges an RSA-HSM key', async () => {
    const keyName = uniqueName('life');
    const first = await keys.createRsaKey(keyName, { keySize: 2048, hsm: true, tags: { purpose: 'test' } });
    expect(activatedBy).not.toBe('');
    expect(first.keyType).toBe('RSA-HSM');
    expect(first.key?.n?.length).toBe(256);
    expect(first.id).toBe(`${hsmUri.replace(/\/$/, '')}/keys/${keyName}/${first.properties.version}`);
    expect(first.keyOperations?.sort()).toEqual(['decrypt', 'encrypt', 'sign', 'unwrapKey', 'verify', 'wrapKey']);
    expect(first.properties.tags).toEqual({ purpose: 'test' });
    expect(first.properties.recoveryLevel).toBe('Recoverable+Purgeable');
    const second = await keys.createKey(keyName, 'RSA-HSM', { keySize: 3072 });
    expect((await keys.getKey(keyName)).properties.version).toBe(second.properties.version);
    expect((await keys.getKey(keyName, { version: first.properties.version! })).key?.n).toEqual(first.key?.n);
    const versions = await collect(keys.listPropertiesOfKeyVersions(keyName));
    expect(versions.map((v) => v.version).sort()).toEqual([first.properties.version, second.properties.version].sort());
    expect((await collect(keys.listPropertiesOfKeys())).map((p) => p.name)).toContain(keyName);

    const updated = await keys.updateKeyProperties(keyName, second.properties.version!, { enabled: false, tags: { purpose: 'off' } });
    expect(updated.properties.enabled).toBe(false);
    expect(updated.properties.tags).toEqual({ purpose: 'off' });
    const disabled = await refusal(crypto(updated).sign('RS256', sha256('x')));
    expect(disabled.statusCode).toBe(403);

    const deleting = await keys.beginDeleteKey(keyName, { intervalInMs: 10 });
    const deleted = await deleting.pollUntilDone();
    expect(deleted.properties.recoveryId).toBe(`${hsmUri.replace(/\/$/, '')}/deletedkeys/${keyName}`);
    expect((await keys.getDeletedKey(keyName)).name).toBe(keyName);
    expect((await collect(keys.listDeletedKeys())).map((k) => k.name)).toContain(keyName);
    expect((await refusal(keys.getKey(keyName))).statusCode).toBe(404);
    const recovered = await (await keys.beginRecoverDeletedKey(keyName, { intervalInMs: 10 })).pollUntilDone();
    expect(recovered.properties.version).toBe(second.properties.version);
    await (await keys.beginDeleteKey(keyName, { intervalInMs: 10 })).pollUntilDone();
    await keys.purgeDeletedKey(keyName);
    expect((await refusal(keys.getDeletedKey(keyName))).statusCode).toBe(404);
  });

  it.each([2048, 3072, 4096])('signs and decrypts with one RSA-HSM %i key, RSA1_5 and RSA-OAEP included', async (keySize) => {
    const key = await keys.createRsaKey(uniqueName(`rsa${keySize}`), { keySize, hsm: true });
    const client = crypto(key);
    const publicKey = publicKeyOf(key);
    for (const [alg, padding] of [
      ['RS256', constants.RSA_PKCS1_PADDING],
      ['PS256', constants.RSA_PKCS1_PSS_PADDING],
    ] as const) {
      const signed = await client.sign(alg, sha256('message'));
      expect(verify('sha256', Buffer.from('message'), { key: publicKey, padding, saltLength: 32 }, signed.result), alg).toBe(true);
      expect((await client.verify(alg, sha256('message'), signed.result)).result, alg).toBe(true);
    }
    for (const [alg, padding] of [
      ['RSA-OAEP', constants.RSA_PKCS1_OAEP_PADDING],
      ['RSA1_5', constants.RSA_PKCS1_PADDING],
    ] as const) {
      const ciphertext = publicEncrypt({ key: publicKey, padding, oaepHash: 'sha1' }, Buffer.from('the secret'));
      expect(Buffer.from((await client.decrypt({ algorithm: alg, ciphertext })).result).toString(), alg).toBe('the secret');
      const wrapped = await client.wrapKey(alg, randomBytes(32));
      expect((await client.unwrapKey(alg, wrapped.result)).result.length, alg).toBe(32);
    }
    const encrypted = await client.encrypt({ algorithm: 'RSA1_5', plaintext: Buffer.from('both ways') });
    expect(Buffer.from((await client.decrypt({ algorithm: 'RSA1_5', ciphertext: encrypted.result })).result).toString()).toBe('both ways');
  });

  it("answers RSA-OAEP-256 with a 400 that says the pool's HSM does not support it", async () => {
    const key = await keys.createRsaKey(uniqueName('oaep256'), { keySize: 2048, hsm: true });
    const ciphertext = publicEncrypt({ key: publicKeyOf(key), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('x'));
    const refused = await refusal(crypto(key).decrypt({ algorithm: 'RSA-OAEP-256', ciphertext }));
    expect(refused.statusCode).toBe(400);
    expect(refused.message).toMatch(/does not support RSA-OAEP-256/);
  });

  it.each([
    ['P-256', 'ES256', 'sha256'],
    ['P-384', 'ES384', 'sha384'],
    ['P-521', 'ES512', 'sha512'],
    ['P-256K', 'ES256K', 'sha256'],
  ] as const)('signs with an EC-HSM %s key (%s), node:crypto verifies', async (curve, alg, hash) => {
    const key = await keys.createEcKey(uniqueName('ec'), { curve, hsm: true });
    expect(key.keyType).toBe('EC-HSM');
    expect(key.key?.crv).toBe(curve);
    expect(key.keyOperations?.sort()).toEqual(['sign', 'verify']);
    const digest = createHash(hash).update('message').digest();
    const signed = await crypto(key).sign(alg, digest);
    const publicKey = publicKeyOf(key);
    expect(verify(hash, Buffer.from('message'), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signed.result)).toBe(true);
    expect((await crypto(key).verify(alg, digest, signed.result)).result).toBe(true);
    const forged = Buffer.from(signed.result);
    forged[0] = (forged[0] ?? 0) ^ 1;
    expect((await crypto(key).verify(alg, digest, forged)).result).toBe(false);
  });

  it.each([128, 192, 256] as const)('encrypts, decrypts, wraps and unwraps with an oct-HSM %i key: GCM with aad, CBC, CBCPAD, KW', async (size) => {
    const key = await keys.createOctKey(uniqueName(`aes${size}`), { keySize: size, hsm: true });
    expect(key.keyType).toBe('oct-HSM');
    expect(key.key?.k).toBeUndefined();
    expect(key.keyOperations?.sort()).toEqual(['decrypt', 'encrypt', 'unwrapKey', 'wrapKey']);
    const client = crypto(key);
    const plaintext = Buffer.from('sixteen byte msg and some more');
    const aad = Buffer.from('header');
    const gcm = await client.encrypt({ algorithm: `A${size}GCM`, plaintext, additionalAuthenticatedData: aad });
    expect(gcm.iv?.length).toBe(12);
    expect(gcm.authenticationTag?.length).toBe(16);
    const opened = await client.decrypt({
      algorithm: `A${size}GCM`,
      ciphertext: gcm.result,
      iv: gcm.iv!,
      authenticationTag: gcm.authenticationTag!,
      additionalAuthenticatedData: aad,
    });
    expect(Buffer.from(opened.result).toString()).toBe(plaintext.toString());
    const tampered = await refusal(
      client.decrypt({
        algorithm: `A${size}GCM`,
        ciphertext: gcm.result,
        iv: gcm.iv!,
        authenticationTag: gcm.authenticationTag!,
        additionalAuthenticatedData: Buffer.from('other'),
      }),
    );
    expect(tampered.statusCode).toBe(400);

    const iv = randomBytes(16);
    const cbcPad = await client.encrypt({ algorithm: `A${size}CBCPAD`, plaintext, iv });
    expect(cbcPad.result.length).toBe(32);
    expect(Buffer.from((await client.decrypt({ algorithm: `A${size}CBCPAD`, ciphertext: cbcPad.result, iv })).result).toString()).toBe(
      plaintext.toString(),
    );
    const block = plaintext.subarray(0, 16);
    const cbc = await client.encrypt({ algorithm: `A${size}CBC`, plaintext: block, iv });
    expect(Buffer.from((await client.decrypt({ algorithm: `A${size}CBC`, ciphertext: cbc.result, iv })).result)).toEqual(block);

    const dataKey = randomBytes(32);
    const wrapped = await client.wrapKey(`A${size}KW`, dataKey);
    expect(wrapped.result.length).toBe(40);
    expect(Buffer.from((await client.unwrapKey(`A${size}KW`, wrapped.result)).result)).toEqual(dataKey);
  });

  it.each([128, 192, 256] as const)('imports an oct-HSM %i key that interoperates with node:crypto both ways: GCM, CBCPAD and KW', async (size) => {
    const material = randomBytes(size / 8);
    const key = await keys.importKey(uniqueName(`byok${size}`), { kty: 'oct-HSM', k: material });
    expect(key.keyType).toBe('oct-HSM');
    expect(key.key?.k).toBeUndefined();
    const client = crypto(key);
    const plaintext = Buffer.from('a message for the pool');
    const aad = Buffer.from('context');

    const sealed = await client.encrypt({ algorithm: `A${size}GCM`, plaintext, additionalAuthenticatedData: aad });
    const decipher = createDecipheriv(`aes-${size}-gcm`, material, sealed.iv!);
    decipher.setAAD(aad);
    decipher.setAuthTag(Buffer.from(sealed.authenticationTag!));
    expect(Buffer.concat([decipher.update(sealed.result), decipher.final()])).toEqual(plaintext);

    const iv = randomBytes(12);
    const cipher = createCipheriv(`aes-${size}-gcm`, material, iv);
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const opened = await client.decrypt({
      algorithm: `A${size}GCM`,
      ciphertext,
      iv,
      authenticationTag: cipher.getAuthTag(),
      additionalAuthenticatedData: aad,
    });
    expect(Buffer.from(opened.result)).toEqual(plaintext);

    const cbcIv = randomBytes(16);
    const cbc = await client.encrypt({ algorithm: `A${size}CBCPAD`, plaintext, iv: cbcIv });
    const cbcDecipher = createDecipheriv(`aes-${size}-cbc`, material, cbcIv);
    expect(Buffer.concat([cbcDecipher.update(cbc.result), cbcDecipher.final()])).toEqual(plaintext);

    const KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');
    const dataKey = randomBytes(32);
    const wrappedByNode = Buffer.concat([createCipheriv(`id-aes${size}-wrap`, material, KW_IV).update(dataKey)]);
    expect(Buffer.from((await client.unwrapKey(`A${size}KW`, wrappedByNode)).result)).toEqual(dataKey);
    const wrappedByPool = await client.wrapKey(`A${size}KW`, dataKey);
    const unwrapper = createDecipheriv(`id-aes${size}-wrap`, material, KW_IV);
    expect(Buffer.concat([unwrapper.update(wrappedByPool.result), unwrapper.final()])).toEqual(dataKey);
  });

  it('imports RSA and EC private keys that node:crypto made: the pool signs and decrypts with them, node:crypto checks', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaJwk = rsa.privateKey.export({ format: 'jwk' });
    const bytes = (value: string | undefined) => Buffer.from(value!, 'base64url');
    const importedRsa = await keys.importKey(uniqueName('byokrsa'), {
      kty: 'RSA-HSM',
      ...Object.fromEntries((['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const).map((member) => [member, bytes(rsaJwk[member])])),
    });
    expect(importedRsa.keyType).toBe('RSA-HSM');
    expect(importedRsa.key?.d).toBeUndefined();
    const signed = await crypto(importedRsa).sign('RS256', sha256('imported'));
    expect(verify('sha256', Buffer.from('imported'), rsa.publicKey, signed.result)).toBe(true);
    const ciphertext = publicEncrypt({ key: rsa.publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from('to the pool'));
    expect(Buffer.from((await crypto(importedRsa).decrypt({ algorithm: 'RSA1_5', ciphertext })).result).toString()).toBe('to the pool');

    const ec = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const ecJwk = ec.privateKey.export({ format: 'jwk' });
    const importedEc = await keys.importKey(uniqueName('byokec'), {
      kty: 'EC-HSM',
      crv: 'P-256K',
      x: bytes(ecJwk.x),
      y: bytes(ecJwk.y),
      d: bytes(ecJwk.d),
    });
    expect(importedEc.key?.crv).toBe('P-256K');
    const ecSigned = await crypto(importedEc).sign('ES256K', sha256('imported'));
    expect(verify('sha256', Buffer.from('imported'), { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, ecSigned.result)).toBe(true);
  });

  it('refuses to import what a pool does not take (400)', async () => {
    for (const [key, message] of [
      [{ kty: 'oct-HSM', k: randomBytes(20).toString('base64url') }, /128, 192 or 256 bits/],
      [{ kty: 'oct-HSM' }, /needs its 'k'/],
      [{ kty: 'RSA', n: 'AQAB', e: 'AQAB' }, /private|'d'|invalid/i],
    ] as const) {
      const r = await raw('PUT', at(hsmUri, `/keys/${uniqueName('badimport')}`), { token: adminToken, body: { key } });
      expect(r.status, r.text).toBe(400);
      expect(r.json.error.message).toMatch(message);
    }
  });

  it('answers random bytes from the HSM', async () => {
    const bytes = await keys.getRandomBytes(64);
    expect(bytes.length).toBe(64);
    expect(Buffer.from(bytes).equals(Buffer.alloc(64))).toBe(false);
  });
});

describe("a pool's key access", () => {
  it('lets a Crypto Service Encryption User on one AES key read, wrap and unwrap it, and refuses it a delete and any other key (403)', async () => {
    const mine = await keys.createOctKey(uniqueName('cseu'), { keySize: 256, hsm: true });
    const other = await keys.createOctKey(uniqueName('other'), { keySize: 256, hsm: true });
    await grant(hsmRoleIds.cryptoServiceEncryptionUser, info.unprivileged.objectId, `/keys/${mine.name}`);
    const appKeys = keyClient(application);
    // The grant takes effect within the RBAC cache's 5 seconds.
    let read: KeyVaultKey | undefined;
    for (let i = 0; i < 30 && !read; i++) {
      read = await appKeys.getKey(mine.name).catch(() => undefined);
      if (!read) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(read?.id).toBe(mine.id);
    const client = crypto(read!, application);
    const dataKey = randomBytes(16);
    const wrapped = await client.wrapKey('A256KW', dataKey);
    expect(Buffer.from((await client.unwrapKey('A256KW', wrapped.result)).result)).toEqual(dataKey);
    const deleting = await refusal(appKeys.beginDeleteKey(mine.name));
    expect(deleting.statusCode).toBe(403);
    expect(deleting.code).toBe('AccessDenied');
    expect(deleting.message).toContain(`Microsoft.KeyVault/managedHsm/keys/delete on /keys/${mine.name}`);
    expect((await refusal(client.encrypt({ algorithm: 'A256GCM', plaintext: Buffer.from('x') }))).statusCode).toBe(403);
    expect((await refusal(appKeys.getKey(other.name))).statusCode).toBe(403);
    expect((await refusal(crypto(other, application).wrapKey('A256KW', dataKey))).statusCode).toBe(403);
    expect((await refusal(appKeys.createOctKey(uniqueName('nope'), { hsm: true }))).statusCode).toBe(403);
    expect((await keys.getKey(mine.name)).id).toBe(mine.id);
  });

  it('refuses every key operation of a pool that is not activated (403 HsmNotActivated)', async () => {
    await grant(hsmRoleIds.cryptoUser, info.objectId).catch(() => undefined);
    const r = await raw('POST', at(inactiveUri, `/keys/${uniqueName('k')}/create`), { token: adminToken, body: { kty: 'oct-HSM', key_size: 256 } });
    expect(r.status, r.text).toBe(403);
    expect(r.json.error.innererror?.code ?? r.json.error.code).toMatch(/HsmNotActivated|AccessDenied/);
  });
});

describe("a pool's bad key requests", () => {
  it.each([
    [{ kty: 'RSA', key_size: 2048 }, /only/],
    [{ kty: 'EC' }, /only/],
    [{ kty: 'oct' }, /only/],
    [{ kty: 'oct-HSM', key_size: 100 }, /128, 192 or 256/],
    [{ kty: 'oct-HSM', crv: 'P-256' }, /not valid for oct-HSM/],
    [{ kty: 'RSA-HSM', key_size: 1024 }, /2048, 3072 or 4096/],
    [{ kty: 'RSA-HSM', public_exponent: 3 }, /65537/],
    [{ kty: 'EC-HSM', crv: 'P-192' }, /curve/i],
    [{ kty: 'oct-HSM', key_ops: ['sign'] }, /oct keys cannot sign/],
  ])('answers 400 for %j', async (body, message) => {
    const r = await raw('POST', at(hsmUri, `/keys/${uniqueName('bad')}/create`), { token: adminToken, body });
    expect(r.status, r.text).toBe(400);
    expect(r.json.error.message).toMatch(message);
  });

  it('answers 400 for an algorithm the key does not take, a bad iv, a missing tag and bad base64url', async () => {
    const aes = await keys.createOctKey(uniqueName('badaes'), { keySize: 128, hsm: true });
    const rsa = await keys.createRsaKey(uniqueName('badrsa'), { keySize: 2048, hsm: true });
    const post = (key: KeyVaultKey, op: string, body: object) =>
      raw('POST', at(hsmUri, `/keys/${key.name}/${key.properties.version}/${op}`), { token: adminToken, body });
    const cases: [KeyVaultKey, string, object, RegExp][] = [
      [aes, 'encrypt', { alg: 'A256GCM', value: 'AAAA' }, /256-bit key/],
      [aes, 'encrypt', { alg: 'A128CBC', value: 'AAAAAAAAAAAAAAAAAAAAAA' }, /iv/],
      [aes, 'encrypt', { alg: 'A128GCM', value: 'AAAA', iv: 'AAAA' }, /iv/],
      [aes, 'decrypt', { alg: 'A128GCM', value: 'AAAA', iv: 'AAAAAAAAAAAAAAAA' }, /tag/],
      [aes, 'wrapkey', { alg: 'RSA-OAEP', value: 'AAAA' }, /A128KW/],
      [rsa, 'sign', { alg: 'ES256', value: sha256('x').toString('base64url') }, /not supported/],
      [rsa, 'sign', { alg: 'RS256', value: 'AAAA' }, /digest/],
      [rsa, 'decrypt', { alg: 'RSA-OAEP', value: 'not base64!' }, /base64url/],
    ];
    for (const [key, op, body, message] of cases) {
      const r = await post(key, op, body);
      expect(r.status, `${op} ${JSON.stringify(body)}: ${r.text}`).toBe(400);
      expect(r.json.error.message, `${op} ${JSON.stringify(body)}`).toMatch(message);
    }
    // An AES key's key_ops have no sign: the keys domain refuses it before the HSM, as for a vault's key.
    const sign = await post(aes, 'sign', { alg: 'ES256', value: sha256('x').toString('base64url') });
    expect(sign.status).toBe(403);
    expect(sign.json.error.innererror.code).toBe('KeyOperationForbidden');
  });
});

describe("a pool's DynamoDB items", () => {
  it('hold handles, public parts and metadata only: no private or secret key material', async () => {
    const rsa = await keys.createRsaKey(uniqueName('store'), { keySize: 2048, hsm: true });
    const aes = await keys.createOctKey(uniqueName('store'), { keySize: 256, hsm: true });
    // The one key whose material the test knows: an imported one, searched for in every encoding.
    const material = randomBytes(32);
    const imported = await keys.importKey(uniqueName('store'), { kty: 'oct-HSM', k: material });
    const dynamo = new DynamoDBDocumentClient({ endpoint: info.endpoints.dynamodb, region: REGION, credentials: () => LOCAL_CREDENTIALS });
    try {
      const items: Record<string, any>[] = [];
      for (const key of [rsa, aes, imported]) {
        const keyName = key.name.toLowerCase();
        for (const pk of [`MHSM#${name}#keys`, `MHSM#${name}#keys#${keyName}`]) {
          const page = await dynamo.send(
            new QueryCommand({ TableName: info.tables.objects, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } }),
          );
          items.push(...(page.Items ?? []).filter((item) => item.sk === keyName || item.pk.endsWith(`#${keyName}`)));
        }
      }
      expect(items.length).toBe(6);
      const allowed = ['kty', 'keyOps', 'n', 'e', 'crv', 'x', 'y', 'keySize', 'hsmHandle'];
      for (const item of items) {
        expect(Object.keys(item.plain).filter((field) => !allowed.includes(field))).toEqual([]);
        expect(item.plain.hsmHandle).toMatch(/^coffer-[0-9a-f-]{36}$/);
        expect(item.secret).toBeUndefined();
        expect(JSON.stringify(item)).not.toMatch(/"(d|p|q|dp|dq|qi|k)":/);
      }
      const dump = JSON.stringify(items, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));
      for (const encoding of ['base64', 'base64url', 'hex', 'latin1'] as const) expect(dump).not.toContain(material.toString(encoding));
      // Nor in the functions' log stream (their audit records and warnings), which the import went through.
      const logs = readFileSync(info.gatewayLog, 'latin1');
      expect(logs).toContain(imported.name);
      for (const encoding of ['base64', 'base64url', 'hex'] as const) expect(logs).not.toContain(material.toString(encoding));
      expect(items.find((item) => item.plain.kty === 'RSA-HSM')?.plain.n).toBe(Buffer.from(rsa.key!.n!).toString('base64url'));
    } finally {
      dynamo.destroy();
    }
  });

  it("records each key request in the pool's audit partition", async () => {
    const r = await raw('POST', at(hsmUri, `/keys/${uniqueName('audited')}/create`), { token: adminToken, body: { kty: 'EC-HSM' } });
    expect(r.status, r.text).toBe(200);
    const [item] = await waitForAuditItems(String(r.headers['x-ms-request-id']));
    expect(item).toMatchObject({ vault: { S: `managedhsms/${name}` }, operationName: { S: 'KeyCreate' }, httpStatusCode: { N: '200' } });
  });
});
