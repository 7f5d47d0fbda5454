import { type AwsClientOptions, AwsJsonClient, AwsServiceError } from './aws-json.ts';

/**
 * An SSM client for the one operation the reference rotator uses, GetParameter of a SecureString
 * (its service principal's client secret, docs/rotation.md), on Coffer's own AWS JSON transport
 * (docs/adr/0011-aws-calls-without-the-sdk-runtime.md). SSM decrypts with the parameter's key (the
 * account's `aws/ssm` key by default, whose key policy lets SSM use it for the caller), so the
 * function needs `ssm:GetParameter` on that parameter and no KMS grant.
 */
class SsmServiceException extends AwsServiceError {}

export class SsmClient {
  private readonly client: AwsJsonClient;

  constructor(options: AwsClientOptions) {
    this.client = new AwsJsonClient(
      {
        signingName: 'ssm',
        endpointId: 'SSM',
        targetPrefix: 'AmazonSSM',
        jsonVersion: '1.1',
        errors: SsmServiceException,
        dependency: 'parameter store',
      },
      options,
    );
  }

  /** A parameter's value, decrypted. */
  async secureString(name: string): Promise<string> {
    const answer = (await this.client.call('GetParameter', { Name: name, WithDecryption: true })) as { Parameter?: { Value?: string } };
    const value = answer.Parameter?.Value;
    if (value === undefined) throw new Error(`parameter ${name} has no value`);
    return value;
  }
}
