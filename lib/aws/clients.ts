import { DynamoDBDocumentClient } from './api/dynamodb.ts';
import { KMSClient } from './api/kms.ts';

/**
 * The AWS clients a container uses, one of each, built by the composition root: Coffer's own
 * DynamoDB and KMS clients (lib/aws/api), which keep the AWS SDK's command API and signer but leave
 * its runtime out of the function bundles (docs/adr/0011-aws-calls-without-the-sdk-runtime.md).
 *
 * Endpoints come from the SDK's own `AWS_ENDPOINT_URL_*` variables (the local stack sets them).
 * Credentials come from the environment only: Lambda puts the function role's credentials there
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), and so do the local stack and
 * the tests (dev/local-environment.ts); no profile, SSO or instance-metadata lookup ever runs.
 */
export function dynamoDocumentClient(region: string): DynamoDBDocumentClient {
  return new DynamoDBDocumentClient({ region: signingRegion(region) });
}

export function kmsClient(region: string): KMSClient {
  return new KMSClient({ region: signingRegion(region) });
}

/**
 * Requests are signed for the AWS region the function runs in (`AWS_REGION`, which Lambda always
 * sets), falling back to the configured one: the region Coffer names in its answers
 * (`COFFER_REGION`, `local` on the local stack) is a display name, and a service that checks the
 * signature's scope (AWS, the local KMS) refuses any other.
 */
function signingRegion(configured: string): string {
  return process.env.AWS_REGION || configured;
}
