import { afterAll, beforeAll } from 'vitest';
import { functionEnvironment } from '../../dev/stack.ts';
import { dynamoDocumentClient } from '../../lib/aws/clients.ts';
import { DynamoEventSubscriptionStore } from '../../lib/aws/dynamo-event-subscriptions.ts';
import { describeEventSubscriptionStoreContract } from '../contract/event-subscription-store.contract.ts';
import { localStack } from '../support/local.ts';

/** The EventSubscriptionStore contract against DynamoDB Local, on the objects table the stack uses. */
const savedEnv = { ...process.env };
let store: DynamoEventSubscriptionStore | undefined;

beforeAll(() => {
  Object.assign(process.env, functionEnvironment(localStack()));
});

afterAll(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
});

describeEventSubscriptionStoreContract('DynamoDB Local', () => {
  if (!store) {
    const info = localStack();
    store = new DynamoEventSubscriptionStore(dynamoDocumentClient(functionEnvironment(info).AWS_REGION!), info.tables.objects);
  }
  return store;
});
