import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The AWS SDK clients a container uses, one of each, built by the composition root. Endpoints come
 * from the SDK's own `AWS_ENDPOINT_URL_*` variables (the local stack sets them).
 *
 * Credentials come from the environment only: Lambda puts the function role's credentials there
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), and so do the local stack and
 * the tests (dev/local-environment.ts). Naming the provider keeps the SDK's default chain (profiles,
 * SSO, STS, instance metadata) from ever running, so packaging can leave it out of every bundle
 * (scripts/bundle.ts); it was the largest piece of the SDK a function never uses.
 */
export function dynamoDocumentClient(region: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ region, credentials: fromEnv() }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function kmsClient(region: string): KMSClient {
  return new KMSClient({ region, credentials: fromEnv() });
}
