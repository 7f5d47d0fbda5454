/**
 * SigV4 verification for the local KMS (dev/sigv4.ts): without it any local process could ask the
 * endpoint to decrypt the data keys DynamoDB Local holds, and read every stored secret. Refusals are
 * KmsErrors, which the AWS SDK and Coffer's own client (lib/aws/api) turn into typed errors.
 */
import { type Credentials, type SignedRequest, verifySigV4 } from '../sigv4.ts';
import { kmsError } from './errors.ts';

export { isSigned, type SignedRequest } from '../sigv4.ts';
export type KmsCredentials = Credentials;

export function verifySignature(request: SignedRequest, credentials: KmsCredentials, now = Date.now()): Promise<void> {
  return verifySigV4(request, credentials, { service: 'kms', refuse: kmsError }, now);
}
