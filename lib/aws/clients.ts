import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The AWS SDK clients a container uses, one of each, built by the composition root. Endpoints come
 * from the SDK's own `AWS_ENDPOINT_URL_*` variables (the local stack sets them).
 */
export function dynamoDocumentClient(region: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ region }), { marshallOptions: { removeUndefinedValues: true } });
}

export function kmsClient(region: string): KMSClient {
  return new KMSClient({ region });
}
