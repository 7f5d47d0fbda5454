import { createHash, createPublicKey, randomUUID, verify } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DecryptCommand as SdkDecryptCommand,
  GenerateDataKeyCommand as SdkGenerateDataKeyCommand,
  KMSClient as SdkKmsClient,
} from '@aws-sdk/client-kms';
import * as sdk from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '../../lib/aws/api/dynamodb.ts';
import {
  CreateKeyCommand,
  DecryptCommand,
  GenerateDataKeyCommand,
  GenerateRandomCommand,
  GetPublicKeyCommand,
  KMSClient,
  KMSServiceException,
  SignCommand,
} from '../../lib/aws/api/kms.ts';
import { localStack } from '../support/local.ts';

/**
 * Coffer's DynamoDB and KMS clients (lib/aws/api) against DynamoDB Local and the local KMS, each
 * answer compared with what the AWS SDK reads or makes of the same item: the clients must be
 * interchangeable with the SDK's for every operation the adapters use.
 */
const info = localStack();
// The stack's own credential: the local KMS verifies signatures and accepts no other.
const credentials = info.awsCredentials;
const region = 'us-east-1';
const table = info.tables.objects;
const documents = new DynamoDBDocumentClient({ region, endpoint: info.endpoints.dynamodb, credentials: () => credentials });
const reference = sdk.DynamoDBDocumentClient.from(new DynamoDBClient({ region, endpoint: info.endpoints.dynamodb, credentials }), {
  marshallOptions: { removeUndefinedValues: true },
});
const kms = new KMSClient({ region, endpoint: info.endpoints.kms, credentials: () => credentials });
const sdkKms = new SdkKmsClient({ region, endpoint: info.endpoints.kms, credentials });

const partition = () => `aws-api-test#${randomUUID()}`;
const item = (pk: string, sk: string) => ({
  pk,
  sk,
  text: 'héllo',
  count: 42,
  fraction: 0.5,
  flag: true,
  nothing: null,
  skipped: undefined,
  blob: new Uint8Array([0, 1, 2, 250, 255]),
  nested: { list: [1, 'two', { three: new Uint8Array([3]) }], empty: {} },
});

describe('DynamoDB document client', () => {
  it('writes an item the SDK reads back identically, and reads what the SDK wrote', async () => {
    const pk = partition();
    await documents.send(new PutCommand({ TableName: table, Item: item(pk, 'mine') }));
    await reference.send(new sdk.PutCommand({ TableName: table, Item: item(pk, 'sdk') }));
    const bySdk = await reference.send(new sdk.GetCommand({ TableName: table, Key: { pk, sk: 'mine' }, ConsistentRead: true }));
    const byUs = await documents.send(new GetCommand({ TableName: table, Key: { pk, sk: 'sdk' }, ConsistentRead: true }));
    const { skipped: _skipped, ...expected } = item(pk, 'x');
    expect(bySdk.Item).toEqual({ ...expected, sk: 'mine' });
    expect(byUs.Item).toEqual({ ...expected, sk: 'sdk' });
    expect(byUs.Item!.blob).toBeInstanceOf(Uint8Array);
    expect(await documents.send(new GetCommand({ TableName: table, Key: { pk, sk: 'absent' } }))).not.toHaveProperty('Item.pk');
  });

  it('updates on a condition and answers the new attributes; a failed condition is ConditionalCheckFailedException', async () => {
    const pk = partition();
    await documents.send(new PutCommand({ TableName: table, Item: { pk, sk: 's', revision: 1 } }));
    const updated = await documents.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk, sk: 's' },
        UpdateExpression: 'SET revision = :next, payload = :payload',
        ConditionExpression: 'revision = :current',
        ExpressionAttributeValues: { ':current': 1, ':next': 2, ':payload': new Uint8Array([9]) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expect(updated.Attributes).toEqual({ pk, sk: 's', revision: 2, payload: new Uint8Array([9]) });
    const failure = await documents
      .send(
        new DeleteCommand({ TableName: table, Key: { pk, sk: 's' }, ConditionExpression: 'revision = :r', ExpressionAttributeValues: { ':r': 1 } }),
      )
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'ConditionalCheckFailedException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
  });

  it('queries a partition in pages, the next page starting at the last key of the previous one', async () => {
    const pk = partition();
    for (const sk of ['a', 'b', 'c'])
      await documents.send(new PutCommand({ TableName: table, Item: { pk, sk, data: new Uint8Array([sk.charCodeAt(0)]) } }));
    const query = { TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, Limit: 2 };
    const first = await documents.send(new QueryCommand(query));
    expect(first.Items).toEqual([
      { pk, sk: 'a', data: new Uint8Array([97]) },
      { pk, sk: 'b', data: new Uint8Array([98]) },
    ]);
    expect(first.LastEvaluatedKey).toEqual({ pk, sk: 'b' });
    const second = await documents.send(new QueryCommand({ ...query, ExclusiveStartKey: first.LastEvaluatedKey }));
    expect(second.Items).toEqual([{ pk, sk: 'c', data: new Uint8Array([99]) }]);
    expect(second.Count).toBe(1);
  });

  it('writes a transaction, and a cancelled one names each item’s reason in order', async () => {
    const pk = partition();
    await documents.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: table, Item: { pk, sk: 'one', v: 1 }, ConditionExpression: 'attribute_not_exists(pk)' } },
          { Put: { TableName: table, Item: { pk, sk: 'two', v: new Uint8Array([2]) } } },
        ],
      }),
    );
    const failure = await documents
      .send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: table, Item: { pk, sk: 'three' } } },
            { ConditionCheck: { TableName: table, Key: { pk, sk: 'one' }, ConditionExpression: 'v = :v', ExpressionAttributeValues: { ':v': 2 } } },
          ],
        }),
      )
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'TransactionCanceledException', $fault: 'client' });
    expect((failure as { CancellationReasons: { Code: string }[] }).CancellationReasons.map((r) => r.Code)).toEqual([
      'None',
      'ConditionalCheckFailed',
    ]);
    const written = await reference.send(new sdk.GetCommand({ TableName: table, Key: { pk, sk: 'two' } }));
    expect(written.Item).toEqual({ pk, sk: 'two', v: new Uint8Array([2]) });
  });

  it('writes and reads in batches', async () => {
    const pk = partition();
    const written = await documents.send(
      new BatchWriteCommand({ RequestItems: { [table]: ['a', 'b'].map((sk) => ({ PutRequest: { Item: { pk, sk, blob: new Uint8Array([1]) } } })) } }),
    );
    expect(written.UnprocessedItems ?? {}).toEqual({});
    const read = await documents.send(
      new BatchGetCommand({
        RequestItems: {
          [table]: {
            Keys: [
              { pk, sk: 'a' },
              { pk, sk: 'b' },
              { pk, sk: 'absent' },
            ],
          },
        },
      }),
    );
    expect(read.Responses![table]!.sort((x, y) => String(x.sk).localeCompare(String(y.sk)))).toEqual([
      { pk, sk: 'a', blob: new Uint8Array([1]) },
      { pk, sk: 'b', blob: new Uint8Array([1]) },
    ]);
    await documents.send(new BatchWriteCommand({ RequestItems: { [table]: [{ DeleteRequest: { Key: { pk, sk: 'a' } } }] } }));
    expect((await reference.send(new sdk.GetCommand({ TableName: table, Key: { pk, sk: 'a' } }))).Item).toBeUndefined();
  });
});

describe('KMS client', () => {
  it('makes data keys the SDK decrypts, and decrypts the SDK’s, bound to their encryption context', async () => {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }));
    expect(KeyMetadata?.CreationDate).toBeInstanceOf(Date);
    const keyId = KeyMetadata!.Arn!;
    const context = { 'coffer:vault': 'aws-api-test' };
    const mine = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }));
    expect(mine.Plaintext).toHaveLength(32);
    const sdkDecrypted = await sdkKms.send(new SdkDecryptCommand({ CiphertextBlob: mine.CiphertextBlob, EncryptionContext: context }));
    expect(sdkDecrypted.Plaintext).toEqual(mine.Plaintext);
    const theirs = await sdkKms.send(new SdkGenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }));
    expect((await kms.send(new DecryptCommand({ CiphertextBlob: theirs.CiphertextBlob, EncryptionContext: context }))).Plaintext).toEqual(
      theirs.Plaintext,
    );

    const tampered = await kms
      .send(new DecryptCommand({ CiphertextBlob: mine.CiphertextBlob, EncryptionContext: { 'coffer:vault': 'other' } }))
      .catch((e: unknown) => e);
    expect(tampered).toBeInstanceOf(KMSServiceException);
    expect(tampered).toMatchObject({ name: 'InvalidCiphertextException', $fault: 'client' });
  });

  it('signs a digest with an asymmetric key and answers its public key and random bytes as bytes', async () => {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
    const keyId = KeyMetadata!.Arn!;
    const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
    const message = Buffer.from('signed by the local KMS');
    const digest = createHash('sha256').update(message).digest();
    const { Signature } = await kms.send(
      new SignCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }),
    );
    const publicKey = createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' });
    expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, Buffer.from(Signature!))).toBe(true);
    const { Plaintext } = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 16 }));
    expect(Plaintext).toBeInstanceOf(Uint8Array);
    expect(Plaintext).toHaveLength(16);
  });

  it('answers a key that does not exist with a KMS NotFoundException, not a transport failure', async () => {
    const failure = await kms
      .send(new GetPublicKeyCommand({ KeyId: `arn:aws:kms:${region}:000000000000:key/${randomUUID()}` }))
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(KMSServiceException);
    expect((failure as KMSServiceException).name).toBe('NotFoundException');
  });
});
