import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll } from 'vitest';
import { functionEnvironment } from '../../dev/stack.ts';
import { DynamoObjectStore } from '../../lib/aws/dynamo-objects.ts';
import { describeObjectStoreContract } from '../contract/object-store.contract.ts';
import { localStack } from '../support/local.ts';

/**
 * The ObjectStore contract against the local stack's DynamoDB Local, on the table the rest of the
 * suite uses: the contract puts every test in a vault of its own.
 */
let store: DynamoObjectStore | undefined;
let client: DynamoDBClient | undefined;

function dynamoStore(): DynamoObjectStore {
  if (!store) {
    const info = localStack();
    const env = functionEnvironment(info);
    client = new DynamoDBClient({
      region: env.AWS_REGION,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
      endpoint: info.endpoints.dynamodb,
    });
    // As lib/runtime/services.ts configures it for the functions.
    store = new DynamoObjectStore(DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), info.tables.objects);
  }
  return store;
}

afterAll(() => {
  client?.destroy();
});

describeObjectStoreContract('DynamoDB Local', dynamoStore);
