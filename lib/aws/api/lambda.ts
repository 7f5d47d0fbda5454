import { type AwsClientOptions, AwsJsonClient, AwsServiceError } from './aws-json.ts';

/**
 * A Lambda client for the one operation Coffer uses, a synchronous Invoke (RequestResponse), on
 * Coffer's own transport (aws-json.ts, REST-JSON form), so the function that routes what API Gateway
 * cannot bundles no SDK runtime (docs/adr/0011-aws-calls-without-the-sdk-runtime.md).
 */
class LambdaServiceException extends AwsServiceError {}

/**
 * How long an invocation may take: the invoked operation's own timeout (serverless.yml
 * `timeoutSeconds`, 10 s) and a little, in one attempt. An invocation that timed out may have run, so
 * it is not tried again; what Lambda refuses before running anything (throttling) is, within the budget.
 */
export const INVOKE_TIMING = { attemptTimeoutMs: 11_000, callBudgetMs: 11_000, failFastMs: 1_000 };

export class LambdaClient {
  private readonly client: AwsJsonClient;

  constructor(options: AwsClientOptions) {
    this.client = new AwsJsonClient(
      {
        signingName: 'lambda',
        endpointId: 'LAMBDA',
        targetPrefix: '',
        jsonVersion: '1.1',
        errors: LambdaServiceException,
        dependency: 'function service',
        // Lambda's own throttling and its concurrency limits are throttling, as the SDK reads them.
        classify: (error) => (error.name === 'TooManyRequestsException' || error.name === 'EC2ThrottledException' ? 'throttling' : undefined),
      },
      { timing: INVOKE_TIMING, ...options },
    );
  }

  /** Invokes `functionName` with `payload` and answers what the function returned. */
  async invoke(functionName: string, payload: unknown): Promise<Record<string, unknown>> {
    return this.client.call('Invoke', payload, { path: `/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations` });
  }

  destroy(): void {
    this.client.destroy();
  }
}
