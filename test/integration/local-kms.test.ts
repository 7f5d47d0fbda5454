/**
 * The local KMS endpoint driven through the real @aws-sdk/client-kms, the way the production code
 * reaches it: if these pass, code that works here sees the same requests, responses and typed
 * errors it would get from AWS KMS.
 */
import {
  constants,
  createCipheriv,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  randomUUID,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AlreadyExistsException,
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisabledException,
  DryRunOperationException,
  EnableKeyCommand,
  EncryptCommand,
  ExpiredImportTokenException,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  ImportKeyMaterialCommand,
  IncorrectKeyException,
  IncorrectKeyMaterialException,
  InvalidAliasNameException,
  InvalidCiphertextException,
  InvalidImportTokenException,
  InvalidKeyUsageException,
  KMSClient,
  KMSInvalidSignatureException,
  KMSInvalidStateException,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  NotFoundException,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  TagResourceCommand,
  UnsupportedOperationException,
  UpdateAliasCommand,
  VerifyCommand,
} from '@aws-sdk/client-kms';
import type { CreateKeyCommandInput, KeyMetadata, SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../dev/sigv4.ts';
import { startLocalKms } from '../../dev/kms/server.ts';
import type { LocalKms } from '../../dev/kms/server.ts';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const CREDENTIALS = { accessKeyId: `AKIATEST${randomBytes(6).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64') };
const DAY_MS = 24 * 60 * 60 * 1000;

let dataDir: string;
let kms: LocalKms;
let client: KMSClient;
const logLines: string[] = [];

function connect(endpoint: string): KMSClient {
  // No retries: an error must surface as the error the endpoint returned, at once.
  return new KMSClient({ endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'coffer-local-kms-'));
  kms = await startLocalKms({ dataDir, credentials: CREDENTIALS, port: 0, log: (line) => logLines.push(line) });
  client = connect(kms.endpoint);
});

afterAll(async () => {
  client?.destroy();
  await kms?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function createKey(input: CreateKeyCommandInput = {}): Promise<KeyMetadata> {
  const result = await client.send(new CreateKeyCommand(input));
  return result.KeyMetadata!;
}

async function publicKeyOf(keyId: string): Promise<KeyObject> {
  const result = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  return createPublicKey({ key: Buffer.from(result.PublicKey!), format: 'der', type: 'spki' });
}

function sha(hash: 'sha256' | 'sha384' | 'sha512', data: Buffer): Buffer {
  return createHash(hash).update(data).digest();
}

/** AWS's RSA_AES_KEY_WRAP_SHA_256 recipe: OAEP-SHA-256-wrapped AES-256 key, then RFC 5649 key wrap. */
function wrapRsaAes(wrappingPublicKey: Uint8Array, material: Buffer): Buffer {
  const wrappingKey = createPublicKey({ key: Buffer.from(wrappingPublicKey), format: 'der', type: 'spki' });
  const aesKey = randomBytes(32);
  const wrappedKey = publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, aesKey);
  const cipher = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('a65959a6', 'hex'));
  return Buffer.concat([wrappedKey, cipher.update(material), cipher.final()]);
}

function wrapOaep(wrappingPublicKey: Uint8Array, material: Buffer, hash: 'sha1' | 'sha256'): Buffer {
  const wrappingKey = createPublicKey({ key: Buffer.from(wrappingPublicKey), format: 'der', type: 'spki' });
  return publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, material);
}

async function importMaterial(keyId: string, material: Buffer, algorithm: 'RSA_AES_KEY_WRAP_SHA_256' | 'RSAES_OAEP_SHA_256') {
  const parameters = await client.send(
    new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: 'RSA_2048' }),
  );
  const encrypted =
    algorithm === 'RSAES_OAEP_SHA_256' ? wrapOaep(parameters.PublicKey!, material, 'sha256') : wrapRsaAes(parameters.PublicKey!, material);
  return client.send(
    new ImportKeyMaterialCommand({
      KeyId: keyId,
      ImportToken: parameters.ImportToken,
      EncryptedKeyMaterial: encrypted,
      ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    }),
  );
}

/**
 * A raw request, for what the SDK would never send: signed with `signWith` (default the endpoint's
 * credential) as the SDK signs, or sent unsigned when it is null.
 */
async function rawRequest(
  headers: Record<string, string | number>,
  body?: string,
  signWith: { accessKeyId: string; secretAccessKey: string } | null = CREDENTIALS,
): Promise<{ status: number; json: any }> {
  const url = new URL(kms.endpoint);
  const sent: Record<string, string> = { host: url.host, ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])) };
  if (signWith) {
    const signer = new SignatureV4({ credentials: signWith, region: REGION, service: 'kms', sha256: Sha256 });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      path: '/',
      query: {},
      headers: sent,
      body: body ?? '',
    });
    Object.assign(sent, signed.headers);
  }
  return new Promise((resolve, reject) => {
    const req = request(kms.endpoint, { method: 'POST', headers: sent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
        req.destroy();
      });
    });
    req.on('error', reject);
    if (body === undefined) req.flushHeaders();
    else req.end(body);
  });
}

const KMS_JSON = { 'content-type': 'application/x-amz-json-1.1' };

// Material and keys the restart and on-disk checks look for later.
const secrets: { label: string; bytes: Buffer }[] = [];
const survivors: {
  symmetricKeyId?: string;
  dataKey?: { blob: Uint8Array; plaintext: Buffer };
  importedRsa?: { keyId: string; publicKey: KeyObject };
} = {};

describe('local KMS endpoint', () => {
  it('serves loopback only and answers only signed KMS requests', async () => {
    expect(kms.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(startLocalKms({ dataDir, credentials: CREDENTIALS, host: '0.0.0.0' })).rejects.toThrow(/loopback/);

    const unsigned = await rawRequest({ ...KMS_JSON, 'x-amz-target': 'TrentService.ListKeys' }, '{}', null);
    expect(unsigned.status).toBe(400);
    expect(unsigned.json.__type).toBe('MissingAuthenticationTokenException');

    const listed = await rawRequest({ ...KMS_JSON, 'x-amz-target': 'TrentService.ListKeys' }, '{}');
    expect(listed.status).toBe(200);
    expect(listed.json.Keys).toEqual([]);

    const unknown = await rawRequest({ ...KMS_JSON, 'x-amz-target': 'TrentService.MakeCoffee' }, '{}');
    expect([unknown.status, unknown.json.__type]).toEqual([400, 'UnknownOperationException']);
    const unimplemented = await rawRequest({ ...KMS_JSON, 'x-amz-target': 'TrentService.CreateGrant' }, '{}');
    expect([unimplemented.status, unimplemented.json.__type]).toEqual([400, 'UnsupportedOperationException']);
    const malformed = await rawRequest({ ...KMS_JSON, 'x-amz-target': 'TrentService.ListKeys' }, '{"Limit": ');
    expect([malformed.status, malformed.json.__type]).toEqual([400, 'SerializationException']);

    const rebound = await rawRequest({ ...KMS_JSON, host: 'attacker.example:80', 'x-amz-target': 'TrentService.ListKeys' }, '{}');
    expect([rebound.status, rebound.json.__type]).toEqual([403, 'AccessDeniedException']);

    const oversized = await rawRequest({ ...KMS_JSON, 'x-amz-target': 'TrentService.Encrypt', 'content-length': 2 * 1024 * 1024 });
    expect(oversized.status).toBe(413);
  });

  it('accepts only signatures by its own credential, made within five minutes, over the body sent', async () => {
    const listKeys = { ...KMS_JSON, 'x-amz-target': 'TrentService.ListKeys' };
    const date = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const scope = `${date.slice(0, 8)}/${REGION}/kms/aws4_request`;
    const bogus = await rawRequest(
      {
        ...listKeys,
        'x-amz-date': date,
        authorization: `AWS4-HMAC-SHA256 Credential=${CREDENTIALS.accessKeyId}/${scope}, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
      },
      '{}',
      null,
    );
    expect([bogus.status, bogus.json.__type]).toEqual([400, 'InvalidSignatureException']);
    expect(bogus.json.message).toMatch(/does not match the signature you provided/);

    const wrongSecret = await rawRequest(listKeys, '{}', {
      accessKeyId: CREDENTIALS.accessKeyId,
      secretAccessKey: randomBytes(30).toString('base64'),
    });
    expect([wrongSecret.status, wrongSecret.json.__type]).toEqual([400, 'InvalidSignatureException']);
    const wrongKeyId = await rawRequest(listKeys, '{}', { accessKeyId: 'local', secretAccessKey: 'local' });
    expect(wrongKeyId).toEqual({
      status: 400,
      json: { __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' },
    });

    // The SDK surfaces the refusal as the typed error AWS's would be.
    const impostor = new KMSClient({
      endpoint: kms.endpoint,
      region: REGION,
      credentials: { ...CREDENTIALS, secretAccessKey: 'guessed' },
      maxAttempts: 1,
    });
    await expect(impostor.send(new ListKeysCommand({}))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 400 },
    });
    impostor.destroy();
    const skewed = new KMSClient({
      endpoint: kms.endpoint,
      region: REGION,
      credentials: CREDENTIALS,
      maxAttempts: 1,
      systemClockOffset: -6 * 60_000,
    });
    await expect(skewed.send(new ListKeysCommand({}))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      message: expect.stringMatching(/^Signature expired/),
    });
    skewed.destroy();
    const ahead = new KMSClient({ endpoint: kms.endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1, systemClockOffset: 6 * 60_000 });
    await expect(ahead.send(new ListKeysCommand({}))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      message: expect.stringMatching(/^Signature not yet current/),
    });
    ahead.destroy();
    const withinSkew = new KMSClient({
      endpoint: kms.endpoint,
      region: REGION,
      credentials: CREDENTIALS,
      maxAttempts: 1,
      systemClockOffset: -4 * 60_000,
    });
    expect((await withinSkew.send(new ListKeysCommand({}))).Keys).toBeDefined();
    withinSkew.destroy();

    // A valid signature moved onto another body (a replay with a changed request) is refused.
    const url = new URL(kms.endpoint);
    const signer = new SignatureV4({ credentials: CREDENTIALS, region: REGION, service: 'kms', sha256: Sha256, applyChecksum: false });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      path: '/',
      query: {},
      headers: { host: url.host, ...listKeys },
      body: '{}',
    });
    const replayed = await rawRequest(signed.headers, '{"Limit": 1}', null);
    expect([replayed.status, replayed.json.__type]).toEqual([400, 'InvalidSignatureException']);
    const original = await rawRequest(signed.headers, '{}', null);
    expect(original.status).toBe(200);

    expect(logLines).toContain('ListKeys 400 UnrecognizedClientException');
    expect(logLines).toContain('ListKeys 400 InvalidSignatureException');
  });

  it('creates symmetric keys with the metadata AWS returns and resolves every identifier form', async () => {
    const before = Date.now();
    const key = await createKey({ Description: 'test key', Tags: [{ TagKey: 'team', TagValue: 'vault' }] });
    expect(key.KeyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(key).toMatchObject({
      AWSAccountId: ACCOUNT,
      Arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${key.KeyId}`,
      Description: 'test key',
      Enabled: true,
      KeyState: 'Enabled',
      KeySpec: 'SYMMETRIC_DEFAULT',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: false,
    });
    expect(key.SigningAlgorithms).toBeUndefined();
    expect(key.CreationDate).toBeInstanceOf(Date);
    expect(key.CreationDate!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(key.CreationDate!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    survivors.symmetricKeyId = key.KeyId;

    await client.send(new CreateAliasCommand({ AliasName: 'alias/resolve-me', TargetKeyId: key.KeyId }));
    for (const identifier of [key.KeyId!, key.Arn!, 'alias/resolve-me', `arn:aws:kms:${REGION}:${ACCOUNT}:alias/resolve-me`]) {
      const described = await client.send(new DescribeKeyCommand({ KeyId: identifier }));
      expect(described.KeyMetadata!.KeyId).toBe(key.KeyId);
    }
    await expect(client.send(new DescribeKeyCommand({ KeyId: randomUUID() }))).rejects.toBeInstanceOf(NotFoundException);
    await expect(client.send(new DescribeKeyCommand({ KeyId: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${key.KeyId}` }))).rejects.toBeInstanceOf(
      NotFoundException,
    );

    const tags = await client.send(new ListResourceTagsCommand({ KeyId: key.KeyId }));
    expect(tags.Tags).toEqual([{ TagKey: 'team', TagValue: 'vault' }]);
    await client.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'team', TagValue: 'keys' }] }));
    expect((await client.send(new ListResourceTagsCommand({ KeyId: key.KeyId }))).Tags).toEqual([{ TagKey: 'team', TagValue: 'keys' }]);

    await createKey();
    const ids = new Set<string>();
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new ListKeysCommand({ Limit: 1, Marker: marker }));
      for (const entry of page.Keys!) {
        expect(entry.KeyArn).toBe(`arn:aws:kms:${REGION}:${ACCOUNT}:key/${entry.KeyId}`);
        ids.add(entry.KeyId!);
      }
      marker = page.Truncated ? page.NextMarker : undefined;
      pages++;
    } while (marker);
    expect(ids.has(key.KeyId!)).toBe(true);
    expect(pages).toBe(ids.size);
  });

  it('round-trips data keys and binds them to their encryption context', async () => {
    const key = await createKey();
    const context = { 'coffer:vault': 'default', 'coffer:purpose': 'objects' };
    const dataKey = await client.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', EncryptionContext: context }));
    expect(dataKey.KeyId).toBe(key.Arn);
    expect(dataKey.Plaintext).toHaveLength(32);
    const plaintext = Buffer.from(dataKey.Plaintext!);
    secrets.push({ label: 'data key', bytes: plaintext });
    survivors.dataKey = { blob: dataKey.CiphertextBlob!, plaintext };
    survivors.symmetricKeyId = key.KeyId;

    // No KeyId: the blob names its key. Context member order does not matter.
    const decrypted = await client.send(
      new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: { 'coffer:purpose': 'objects', 'coffer:vault': 'default' } }),
    );
    expect(Buffer.from(decrypted.Plaintext!).equals(plaintext)).toBe(true);
    expect(decrypted.KeyId).toBe(key.Arn);
    expect(decrypted.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT');

    for (const wrongContext of [undefined, { ...context, 'coffer:vault': 'other' }, { ...context, extra: 'x' }]) {
      await expect(
        client.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: wrongContext })),
      ).rejects.toBeInstanceOf(InvalidCiphertextException);
    }
    const blob = Buffer.from(dataKey.CiphertextBlob!);
    for (const position of [20, 40, blob.length - 1]) {
      const tampered = Buffer.from(blob);
      tampered[position] = tampered[position]! ^ 0x01;
      const error = await client.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: context })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidCiphertextException);
      expect((error as Error).name).toBe('InvalidCiphertextException');
    }
    await expect(client.send(new DecryptCommand({ CiphertextBlob: blob.subarray(0, 30), EncryptionContext: context }))).rejects.toBeInstanceOf(
      InvalidCiphertextException,
    );

    const other = await createKey();
    await expect(
      client.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: context, KeyId: other.KeyId })),
    ).rejects.toBeInstanceOf(IncorrectKeyException);

    const sized = await client.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, NumberOfBytes: 64 }));
    expect(sized.Plaintext).toHaveLength(64);
    const aes128 = await client.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_128' }));
    expect(aes128.Plaintext).toHaveLength(16);
    const withoutPlaintext = await client.send(
      new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', EncryptionContext: context }),
    );
    expect(withoutPlaintext).not.toHaveProperty('Plaintext');
    const recovered = await client.send(new DecryptCommand({ CiphertextBlob: withoutPlaintext.CiphertextBlob, EncryptionContext: context }));
    expect(recovered.Plaintext).toHaveLength(32);

    await expect(client.send(new GenerateDataKeyCommand({ KeyId: key.KeyId }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(client.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', NumberOfBytes: 32 }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(client.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, NumberOfBytes: 1025 }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('encrypts, decrypts and re-encrypts with symmetric keys within the 4 KiB limit', async () => {
    const key = await createKey();
    const destination = await createKey();
    const plaintext = randomBytes(4096);
    const encrypted = await client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext, EncryptionContext: { a: '1' } }));
    expect(encrypted.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT');
    expect(encrypted.KeyId).toBe(key.Arn);
    await expect(client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: randomBytes(4097) }))).rejects.toMatchObject({
      name: 'ValidationException',
    });

    const moved = await client.send(
      new ReEncryptCommand({
        CiphertextBlob: encrypted.CiphertextBlob,
        SourceEncryptionContext: { a: '1' },
        DestinationKeyId: destination.KeyId,
        DestinationEncryptionContext: { b: '2' },
      }),
    );
    expect([moved.SourceKeyId, moved.KeyId]).toEqual([key.Arn, destination.Arn]);
    const decrypted = await client.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { b: '2' } }));
    expect(Buffer.from(decrypted.Plaintext!).equals(plaintext)).toBe(true);
    expect(decrypted.KeyId).toBe(destination.Arn);

    await expect(client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: plaintext, DryRun: true }))).rejects.toBeInstanceOf(
      DryRunOperationException,
    );

    const random = await client.send(new GenerateRandomCommand({ NumberOfBytes: 1024 }));
    expect(random.Plaintext).toHaveLength(1024);
    for (const NumberOfBytes of [0, 1025]) {
      await expect(client.send(new GenerateRandomCommand({ NumberOfBytes }))).rejects.toMatchObject({ name: 'ValidationException' });
    }
  });

  it('manages aliases: create, resolve, list, retarget, delete', async () => {
    const first = await createKey();
    const second = await createKey();
    await client.send(new CreateAliasCommand({ AliasName: 'alias/app/current', TargetKeyId: first.Arn }));
    await expect(client.send(new CreateAliasCommand({ AliasName: 'alias/app/current', TargetKeyId: second.KeyId }))).rejects.toBeInstanceOf(
      AlreadyExistsException,
    );
    for (const AliasName of ['app/current', 'alias/aws/mine', 'alias/bad name']) {
      await expect(client.send(new CreateAliasCommand({ AliasName, TargetKeyId: first.KeyId }))).rejects.toBeInstanceOf(InvalidAliasNameException);
    }

    const viaAlias = await client.send(new EncryptCommand({ KeyId: 'alias/app/current', Plaintext: Buffer.from('x') }));
    expect(viaAlias.KeyId).toBe(first.Arn);
    const listed = await client.send(new ListAliasesCommand({ KeyId: first.KeyId }));
    expect(listed.Aliases).toEqual([
      expect.objectContaining({
        AliasName: 'alias/app/current',
        AliasArn: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/app/current`,
        TargetKeyId: first.KeyId,
        CreationDate: expect.any(Date),
      }),
    ]);

    await client.send(new UpdateAliasCommand({ AliasName: 'alias/app/current', TargetKeyId: second.KeyId }));
    expect((await client.send(new EncryptCommand({ KeyId: 'alias/app/current', Plaintext: Buffer.from('x') }))).KeyId).toBe(second.Arn);
    const signingKey = await createKey({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    await expect(client.send(new UpdateAliasCommand({ AliasName: 'alias/app/current', TargetKeyId: signingKey.KeyId }))).rejects.toMatchObject({
      name: 'ValidationException',
    });

    await client.send(new DeleteAliasCommand({ AliasName: 'alias/app/current' }));
    await expect(client.send(new EncryptCommand({ KeyId: 'alias/app/current', Plaintext: Buffer.from('x') }))).rejects.toBeInstanceOf(
      NotFoundException,
    );
    await expect(client.send(new DeleteAliasCommand({ AliasName: 'alias/app/current' }))).rejects.toBeInstanceOf(NotFoundException);
  });

  it('refuses cryptographic operations on disabled keys until they are enabled again', async () => {
    const key = await createKey();
    const blob = (await client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('before') }))).CiphertextBlob;
    await client.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    const described = await client.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    expect(described.KeyMetadata).toMatchObject({ KeyState: 'Disabled', Enabled: false });

    await expect(client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }))).rejects.toBeInstanceOf(DisabledException);
    await expect(client.send(new DecryptCommand({ CiphertextBlob: blob }))).rejects.toBeInstanceOf(DisabledException);
    await expect(client.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' }))).rejects.toBeInstanceOf(DisabledException);

    await client.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    expect(Buffer.from((await client.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('before');
  });

  it('schedules, cancels and finally carries out key deletion', async () => {
    const key = await createKey();
    await client.send(new CreateAliasCommand({ AliasName: 'alias/doomed', TargetKeyId: key.KeyId }));
    const blob = (await client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }))).CiphertextBlob;
    await expect(client.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 6 }))).rejects.toMatchObject({
      name: 'ValidationException',
    });

    const scheduled = await client.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    expect(scheduled).toMatchObject({ KeyId: key.Arn, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    expect(Math.abs(scheduled.DeletionDate!.getTime() - (Date.now() + 7 * DAY_MS))).toBeLessThan(60_000);
    const described = (await client.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
    expect(described).toMatchObject({ KeyState: 'PendingDeletion', Enabled: false, PendingDeletionWindowInDays: 7 });
    expect(described.DeletionDate).toEqual(scheduled.DeletionDate);

    await expect(client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }))).rejects.toBeInstanceOf(KMSInvalidStateException);
    await expect(client.send(new DecryptCommand({ CiphertextBlob: blob }))).rejects.toBeInstanceOf(KMSInvalidStateException);
    await expect(client.send(new EnableKeyCommand({ KeyId: key.KeyId }))).rejects.toBeInstanceOf(KMSInvalidStateException);
    await expect(client.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }))).rejects.toBeInstanceOf(KMSInvalidStateException);

    const cancelled = await client.send(new CancelKeyDeletionCommand({ KeyId: 'alias/doomed' }));
    expect(cancelled.KeyId).toBe(key.Arn);
    const afterCancel = (await client.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
    expect(afterCancel.KeyState).toBe('Disabled');
    expect(afterCancel.DeletionDate).toBeUndefined();
    await expect(client.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }))).rejects.toBeInstanceOf(KMSInvalidStateException);

    await client.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 7 * DAY_MS + 60_000);
      await expect(client.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).rejects.toBeInstanceOf(NotFoundException);
      await expect(client.send(new DescribeKeyCommand({ KeyId: 'alias/doomed' }))).rejects.toBeInstanceOf(NotFoundException);
      const aliases = await client.send(new ListAliasesCommand({}));
      expect(aliases.Aliases!.map((alias) => alias.AliasName)).not.toContain('alias/doomed');
    } finally {
      vi.useRealTimers();
    }
  });

  it('signs with RSA keys verifiably by node:crypto, and verifies node:crypto signatures', async () => {
    const key = await createKey({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    expect(key.SigningAlgorithms).toEqual([
      'RSASSA_PKCS1_V1_5_SHA_256',
      'RSASSA_PKCS1_V1_5_SHA_384',
      'RSASSA_PKCS1_V1_5_SHA_512',
      'RSASSA_PSS_SHA_256',
      'RSASSA_PSS_SHA_384',
      'RSASSA_PSS_SHA_512',
    ]);
    expect(key.EncryptionAlgorithms).toBeUndefined();
    const publicKey = await publicKeyOf(key.KeyId!);
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const message = Buffer.from('sign me');
    const cases: [SigningAlgorithmSpec, 'sha256' | 'sha384' | 'sha512', number][] = [
      ['RSASSA_PSS_SHA_256', 'sha256', constants.RSA_PKCS1_PSS_PADDING],
      ['RSASSA_PSS_SHA_384', 'sha384', constants.RSA_PKCS1_PSS_PADDING],
      ['RSASSA_PSS_SHA_512', 'sha512', constants.RSA_PKCS1_PSS_PADDING],
      ['RSASSA_PKCS1_V1_5_SHA_256', 'sha256', constants.RSA_PKCS1_PADDING],
      ['RSASSA_PKCS1_V1_5_SHA_384', 'sha384', constants.RSA_PKCS1_PADDING],
      ['RSASSA_PKCS1_V1_5_SHA_512', 'sha512', constants.RSA_PKCS1_PADDING],
    ];
    for (const [algorithm, hash, padding] of cases) {
      // PSS salt length = digest length, as KMS uses; node verifies with exactly that salt length.
      const options = { key: publicKey, padding, saltLength: sha(hash, message).length };
      const raw = await client.send(new SignCommand({ KeyId: key.KeyId, Message: message, SigningAlgorithm: algorithm }));
      expect(raw).toMatchObject({ KeyId: key.Arn, SigningAlgorithm: algorithm });
      expect(nodeVerify(hash, message, options, Buffer.from(raw.Signature!))).toBe(true);
      const digest = await client.send(
        new SignCommand({ KeyId: key.KeyId, Message: sha(hash, message), MessageType: 'DIGEST', SigningAlgorithm: algorithm }),
      );
      expect(nodeVerify(hash, message, options, Buffer.from(digest.Signature!))).toBe(true);

      const verified = await client.send(
        new VerifyCommand({ KeyId: key.KeyId, Message: message, Signature: raw.Signature, SigningAlgorithm: algorithm }),
      );
      expect(verified.SignatureValid).toBe(true);
      await expect(
        client.send(new VerifyCommand({ KeyId: key.KeyId, Message: Buffer.from('sign me!'), Signature: raw.Signature, SigningAlgorithm: algorithm })),
      ).rejects.toBeInstanceOf(KMSInvalidSignatureException);
      await expect(
        client.send(new SignCommand({ KeyId: key.KeyId, Message: randomBytes(20), MessageType: 'DIGEST', SigningAlgorithm: algorithm })),
      ).rejects.toMatchObject({ name: 'ValidationException' });
    }
    await expect(client.send(new SignCommand({ KeyId: key.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }))).rejects.toBeInstanceOf(
      InvalidKeyUsageException,
    );
    await expect(
      client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: message, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
    ).rejects.toBeInstanceOf(InvalidKeyUsageException);
    const symmetric = await createKey();
    await expect(
      client.send(new SignCommand({ KeyId: symmetric.KeyId, Message: message, SigningAlgorithm: 'RSASSA_PSS_SHA_256' })),
    ).rejects.toBeInstanceOf(InvalidKeyUsageException);
    await expect(client.send(new GetPublicKeyCommand({ KeyId: symmetric.KeyId }))).rejects.toBeInstanceOf(UnsupportedOperationException);
  });

  it('signs with every ECC key spec in DER, and only with the algorithm AWS allows for the curve', async () => {
    const cases: [CreateKeyCommandInput['KeySpec'], SigningAlgorithmSpec, 'sha256' | 'sha384' | 'sha512', string][] = [
      ['ECC_NIST_P256', 'ECDSA_SHA_256', 'sha256', 'prime256v1'],
      ['ECC_NIST_P384', 'ECDSA_SHA_384', 'sha384', 'secp384r1'],
      ['ECC_NIST_P521', 'ECDSA_SHA_512', 'sha512', 'secp521r1'],
      ['ECC_SECG_P256K1', 'ECDSA_SHA_256', 'sha256', 'secp256k1'],
    ];
    const message = Buffer.from('an ECC message');
    for (const [keySpec, algorithm, hash, curve] of cases) {
      const key = await createKey({ KeySpec: keySpec, KeyUsage: 'SIGN_VERIFY' });
      expect(key.SigningAlgorithms).toEqual([algorithm]);
      const publicKey = await publicKeyOf(key.Arn!);
      expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe(curve);

      for (const [Message, MessageType] of [
        [message, 'RAW'],
        [sha(hash, message), 'DIGEST'],
      ] as const) {
        const signed = await client.send(new SignCommand({ KeyId: key.KeyId, Message, MessageType, SigningAlgorithm: algorithm }));
        const signature = Buffer.from(signed.Signature!);
        expect(signature[0]).toBe(0x30); // DER SEQUENCE, not raw r||s
        expect(nodeVerify(hash, message, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
        const verified = await client.send(
          new VerifyCommand({ KeyId: key.KeyId, Message, MessageType, Signature: signature, SigningAlgorithm: algorithm }),
        );
        expect(verified.SignatureValid).toBe(true);
      }

      const other = generateKeyPairSync('ec', { namedCurve: curve });
      const foreign = nodeSign(hash, message, other.privateKey);
      await expect(
        client.send(new VerifyCommand({ KeyId: key.KeyId, Message: message, Signature: foreign, SigningAlgorithm: algorithm })),
      ).rejects.toBeInstanceOf(KMSInvalidSignatureException);
      await expect(
        client.send(
          new VerifyCommand({
            KeyId: key.KeyId,
            Message: sha(hash, message),
            MessageType: 'DIGEST',
            Signature: foreign,
            SigningAlgorithm: algorithm,
          }),
        ),
      ).rejects.toBeInstanceOf(KMSInvalidSignatureException);
      await expect(
        client.send(
          new SignCommand({
            KeyId: key.KeyId,
            Message: Buffer.alloc(sha(hash, message).length + 1),
            MessageType: 'DIGEST',
            SigningAlgorithm: algorithm,
          }),
        ),
      ).rejects.toMatchObject({ name: 'ValidationException' });
    }
    const p256 = await createKey({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    await expect(client.send(new SignCommand({ KeyId: p256.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_384' }))).rejects.toBeInstanceOf(
      InvalidKeyUsageException,
    );
    await expect(createKey({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'ENCRYPT_DECRYPT' })).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('decrypts RSA-OAEP ciphertext made with node:crypto under the GetPublicKey key, within AWS limits', async () => {
    const key = await createKey({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    expect(key.EncryptionAlgorithms).toEqual(['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']);
    const publicKey = await publicKeyOf(key.KeyId!);
    for (const [algorithm, oaepHash] of [
      ['RSAES_OAEP_SHA_1', 'sha1'],
      ['RSAES_OAEP_SHA_256', 'sha256'],
    ] as const) {
      const plaintext = randomBytes(100);
      const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, plaintext);
      const decrypted = await client.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob: ciphertext, EncryptionAlgorithm: algorithm }));
      expect(Buffer.from(decrypted.Plaintext!).equals(plaintext)).toBe(true);
      expect(decrypted).toMatchObject({ KeyId: key.Arn, EncryptionAlgorithm: algorithm });
      const wrong = algorithm === 'RSAES_OAEP_SHA_1' ? 'RSAES_OAEP_SHA_256' : 'RSAES_OAEP_SHA_1';
      await expect(
        client.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob: ciphertext, EncryptionAlgorithm: wrong })),
      ).rejects.toBeInstanceOf(InvalidCiphertextException);
    }
    const encrypted = await client.send(
      new EncryptCommand({ KeyId: key.KeyId, Plaintext: randomBytes(190), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }),
    );
    expect(encrypted.CiphertextBlob).toHaveLength(256);
    await expect(
      client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: randomBytes(191), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: randomBytes(214), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }));
    await expect(
      client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: randomBytes(215), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    // Without an algorithm the request means SYMMETRIC_DEFAULT, which an RSA key cannot do.
    await expect(client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }))).rejects.toBeInstanceOf(InvalidKeyUsageException);
    await expect(client.send(new DecryptCommand({ KeyId: key.KeyId, CiphertextBlob: encrypted.CiphertextBlob }))).rejects.toBeInstanceOf(
      InvalidKeyUsageException,
    );

    // The one RSA-4096 key of the suite: generating it is slow.
    const large = await createKey({ KeySpec: 'RSA_4096', KeyUsage: 'ENCRYPT_DECRYPT' });
    const largeCiphertext = await client.send(
      new EncryptCommand({ KeyId: large.KeyId, Plaintext: randomBytes(446), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }),
    );
    expect(largeCiphertext.CiphertextBlob).toHaveLength(512);
    await expect(
      client.send(new EncryptCommand({ KeyId: large.KeyId, Plaintext: randomBytes(447), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await client.send(new EncryptCommand({ KeyId: large.KeyId, Plaintext: randomBytes(470), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }));
  });

  it('imports symmetric key material and enforces the import token', async () => {
    const key = await createKey({ Origin: 'EXTERNAL' });
    expect(key).toMatchObject({ Origin: 'EXTERNAL', KeyState: 'PendingImport', Enabled: false });
    await expect(client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }))).rejects.toBeInstanceOf(KMSInvalidStateException);

    const material = randomBytes(32);
    secrets.push({ label: 'imported AES key', bytes: material });
    const parameters = await client.send(
      new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }),
    );
    expect(parameters.KeyId).toBe(key.Arn);
    expect(Math.abs(parameters.ParametersValidTo!.getTime() - (Date.now() + DAY_MS))).toBeLessThan(60_000);
    const wrapped = wrapOaep(parameters.PublicKey!, material, 'sha256');

    const otherKey = await createKey({ Origin: 'EXTERNAL' });
    const base = { ImportToken: parameters.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' as const };
    await expect(client.send(new ImportKeyMaterialCommand({ ...base, KeyId: otherKey.KeyId }))).rejects.toBeInstanceOf(InvalidImportTokenException);
    const forgedToken = Buffer.from(parameters.ImportToken!);
    forgedToken[forgedToken.length - 1] = forgedToken[forgedToken.length - 1]! ^ 0x01;
    await expect(client.send(new ImportKeyMaterialCommand({ ...base, KeyId: key.KeyId, ImportToken: forgedToken }))).rejects.toBeInstanceOf(
      InvalidImportTokenException,
    );
    await expect(
      client.send(
        new ImportKeyMaterialCommand({ ...base, KeyId: key.KeyId, EncryptedKeyMaterial: wrapOaep(parameters.PublicKey!, material, 'sha1') }),
      ),
    ).rejects.toBeInstanceOf(InvalidCiphertextException);
    await expect(
      client.send(
        new ImportKeyMaterialCommand({ ...base, KeyId: key.KeyId, EncryptedKeyMaterial: wrapOaep(parameters.PublicKey!, randomBytes(16), 'sha256') }),
      ),
    ).rejects.toBeInstanceOf(IncorrectKeyMaterialException);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + DAY_MS + 60_000);
      await expect(client.send(new ImportKeyMaterialCommand({ ...base, KeyId: key.KeyId }))).rejects.toBeInstanceOf(ExpiredImportTokenException);
    } finally {
      vi.useRealTimers();
    }

    await client.send(new ImportKeyMaterialCommand({ ...base, KeyId: key.KeyId }));
    const imported = (await client.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
    expect(imported).toMatchObject({ KeyState: 'Enabled', Enabled: true, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    const blob = (await client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('imported') }))).CiphertextBlob;
    expect(Buffer.from((await client.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('imported');

    // Reimporting the same material is allowed; different material never is.
    await importMaterial(key.KeyId!, material, 'RSAES_OAEP_SHA_256');
    await expect(importMaterial(key.KeyId!, randomBytes(32), 'RSAES_OAEP_SHA_256')).rejects.toBeInstanceOf(IncorrectKeyMaterialException);
    const aws = await createKey();
    await expect(
      client.send(new GetParametersForImportCommand({ KeyId: aws.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })),
    ).rejects.toBeInstanceOf(UnsupportedOperationException);
  });

  it('lets imported material expire at ValidTo and be reimported or deleted', async () => {
    const key = await createKey({ Origin: 'EXTERNAL' });
    const material = randomBytes(32);
    secrets.push({ label: 'expiring AES key', bytes: material });
    const parameters = await client.send(
      new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', WrappingKeySpec: 'RSA_3072' }),
    );
    const request = { KeyId: key.KeyId, ImportToken: parameters.ImportToken, EncryptedKeyMaterial: wrapRsaAes(parameters.PublicKey!, material) };
    // KEY_MATERIAL_EXPIRES is the default model, and it needs a ValidTo.
    await expect(client.send(new ImportKeyMaterialCommand(request))).rejects.toMatchObject({ name: 'ValidationException' });
    const validTo = new Date(Date.now() + 2 * DAY_MS);
    await client.send(new ImportKeyMaterialCommand({ ...request, ValidTo: validTo }));
    const described = (await client.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
    expect(described).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_EXPIRES' });
    expect(Math.abs(described.ValidTo!.getTime() - validTo.getTime())).toBeLessThan(1000);
    const blob = (await client.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('short-lived') }))).CiphertextBlob;

    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(validTo.getTime() + 60_000);
      expect((await client.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.KeyState).toBe('PendingImport');
      await expect(client.send(new DecryptCommand({ CiphertextBlob: blob }))).rejects.toBeInstanceOf(KMSInvalidStateException);
      await importMaterial(key.KeyId!, material, 'RSAES_OAEP_SHA_256');
      expect(Buffer.from((await client.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('short-lived');
    } finally {
      vi.useRealTimers();
    }

    await client.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.KeyId }));
    expect((await client.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.KeyState).toBe('PendingImport');
    await expect(client.send(new DecryptCommand({ CiphertextBlob: blob }))).rejects.toBeInstanceOf(KMSInvalidStateException);
  });

  it('imports RSA and EC private keys wrapped with RSA_AES_KEY_WRAP_SHA_256 and signs with them', async () => {
    const message = Buffer.from('signed with imported material');

    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaDer = rsa.privateKey.export({ format: 'der', type: 'pkcs8' });
    secrets.push({ label: 'imported RSA private key', bytes: rsaDer });
    const rsaKey = await createKey({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' });
    await expect(client.send(new GetPublicKeyCommand({ KeyId: rsaKey.KeyId }))).rejects.toBeInstanceOf(KMSInvalidStateException);
    await importMaterial(rsaKey.KeyId!, rsaDer, 'RSA_AES_KEY_WRAP_SHA_256');
    const rsaPublic = await publicKeyOf(rsaKey.KeyId!);
    expect(rsaPublic.export({ format: 'der', type: 'spki' }).equals(rsa.publicKey.export({ format: 'der', type: 'spki' }))).toBe(true);
    const rsaSignature = await client.send(new SignCommand({ KeyId: rsaKey.KeyId, Message: message, SigningAlgorithm: 'RSASSA_PSS_SHA_256' }));
    expect(
      nodeVerify(
        'sha256',
        message,
        { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        Buffer.from(rsaSignature.Signature!),
      ),
    ).toBe(true);
    survivors.importedRsa = { keyId: rsaKey.KeyId!, publicKey: rsa.publicKey };

    const ec = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const ecDer = ec.privateKey.export({ format: 'der', type: 'pkcs8' });
    secrets.push({ label: 'imported EC private key', bytes: ecDer });
    const ecKey = await createKey({ KeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' });
    await importMaterial(ecKey.KeyId!, ecDer, 'RSA_AES_KEY_WRAP_SHA_256');
    const ecSignature = await client.send(new SignCommand({ KeyId: ecKey.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_384' }));
    expect(nodeVerify('sha384', message, ec.publicKey, Buffer.from(ecSignature.Signature!))).toBe(true);
    expect((await client.send(new DescribeKeyCommand({ KeyId: ecKey.KeyId }))).KeyMetadata!.KeyState).toBe('Enabled');
  });

  it('refuses private keys that do not match the key spec', async () => {
    const p256Key = await createKey({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ format: 'der', type: 'pkcs8' });
    await expect(importMaterial(p256Key.KeyId!, p384, 'RSA_AES_KEY_WRAP_SHA_256')).rejects.toBeInstanceOf(IncorrectKeyMaterialException);

    const rsaKey = await createKey({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' });
    const rsa3072 = generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey.export({ format: 'der', type: 'pkcs8' });
    await expect(importMaterial(rsaKey.KeyId!, rsa3072, 'RSA_AES_KEY_WRAP_SHA_256')).rejects.toBeInstanceOf(IncorrectKeyMaterialException);
    const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'der', type: 'pkcs8' });
    await expect(importMaterial(rsaKey.KeyId!, p256, 'RSA_AES_KEY_WRAP_SHA_256')).rejects.toBeInstanceOf(IncorrectKeyMaterialException);
    await expect(importMaterial(rsaKey.KeyId!, randomBytes(32), 'RSA_AES_KEY_WRAP_SHA_256')).rejects.toBeInstanceOf(IncorrectKeyMaterialException);
    expect((await client.send(new DescribeKeyCommand({ KeyId: rsaKey.KeyId }))).KeyMetadata!.KeyState).toBe('PendingImport');
  });

  it('keeps no key material in plaintext on disk', async () => {
    const files = await readdir(dataDir);
    expect(files.sort()).toEqual(['keys.json', 'root.key']);
    const store = await readFile(join(dataDir, 'keys.json'));
    expect(store.includes(Buffer.from(survivors.symmetricKeyId!))).toBe(true); // the right file
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    for (const { label, bytes } of secrets) {
      for (const encoding of ['base64', 'base64url', 'hex'] as const) {
        expect(store.includes(Buffer.from(bytes.toString(encoding))), `${label} (${encoding}) in keys.json`).toBe(false);
      }
      expect(store.includes(bytes), `${label} (raw) in keys.json`).toBe(false);
    }
    expect(store.includes(Buffer.from('PRIVATE KEY'))).toBe(false);
    // The request log names operations and outcomes only.
    expect(logLines).toContain('GenerateDataKey 200');
    const log = logLines.join('\n');
    for (const { bytes } of secrets) expect(log.includes(bytes.toString('base64'))).toBe(false);
    expect((await stat(join(dataDir, 'root.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, 'keys.json'))).mode & 0o777).toBe(0o600);
  });

  it('keeps keys, aliases and imported material across a restart on the same data directory', async () => {
    const before = await client.send(new ListKeysCommand({ Limit: 1000 }));
    client.destroy();
    await kms.close();

    kms = await startLocalKms({ dataDir, credentials: CREDENTIALS, port: 0 });
    client = connect(kms.endpoint);
    const after = await client.send(new ListKeysCommand({ Limit: 1000 }));
    expect(after.Keys).toEqual(before.Keys);
    expect((await client.send(new DescribeKeyCommand({ KeyId: 'alias/resolve-me' }))).KeyMetadata!.KeyState).toBe('Enabled');

    const { blob, plaintext } = survivors.dataKey!;
    const decrypted = await client.send(
      new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { 'coffer:vault': 'default', 'coffer:purpose': 'objects' } }),
    );
    expect(Buffer.from(decrypted.Plaintext!).equals(plaintext)).toBe(true);

    const { keyId, publicKey } = survivors.importedRsa!;
    const message = Buffer.from('after restart');
    const signed = await client.send(new SignCommand({ KeyId: keyId, Message: message, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' }));
    expect(nodeVerify('sha256', message, publicKey, Buffer.from(signed.Signature!))).toBe(true);
  });
});
