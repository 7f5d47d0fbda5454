import { afterAll, beforeAll } from 'vitest';
import { functionEnvironment } from '../../dev/stack.ts';
import { dynamoDocumentClient } from '../../lib/aws/clients.ts';
import { DynamoHsmRbacStore } from '../../lib/aws/dynamo-hsm-rbac.ts';
import { describeHsmRbacStoreContract } from '../contract/hsm-rbac-store.contract.ts';
import { localStack } from '../support/local.ts';

/** The HsmRbacStore contract against DynamoDB Local, on the objects table the stack uses. */
const savedEnv = { ...process.env };
let store: DynamoHsmRbacStore | undefined;

beforeAll(() => {
  // The store gets its client as the functions do (lib/aws/clients.ts, from their environment).
  Object.assign(process.env, functionEnvironment(localStack()));
});

afterAll(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
});

describeHsmRbacStoreContract('DynamoDB Local', () => {
  if (!store) {
    const info = localStack();
    store = new DynamoHsmRbacStore(dynamoDocumentClient(functionEnvironment(info).AWS_REGION!), info.tables.objects);
  }
  return store;
});
