import { afterAll, beforeAll } from 'vitest';
import { functionEnvironment } from '../../dev/stack.ts';
import { dynamoDocumentClient } from '../../lib/aws/clients.ts';
import { DynamoDueStore } from '../../lib/aws/dynamo-schedule.ts';
import { describeDueStoreContract } from '../contract/due-store.contract.ts';
import { localStack } from '../support/local.ts';

/** The DueStore contract against DynamoDB Local, on the objects table (and its due index) the stack uses. */
const savedEnv = { ...process.env };
let store: DynamoDueStore | undefined;

beforeAll(() => {
  Object.assign(process.env, functionEnvironment(localStack()));
});

afterAll(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
});

describeDueStoreContract('DynamoDB Local', () => {
  if (!store) {
    const info = localStack();
    store = new DynamoDueStore(dynamoDocumentClient(functionEnvironment(info).AWS_REGION!), info.tables.objects);
  }
  return store;
});
