/**
 * What packaging puts in place of `@aws-sdk/credential-provider-node`, the SDK's default credential
 * chain (scripts/bundle.ts). The SDK clients import it unconditionally, but only call it when a client
 * is built without credentials; lib/aws/clients.ts always passes the environment's, so the chain and
 * the STS, SSO and sign-in clients it loads are dead weight in a function. Should a client ever be
 * built without credentials, its first request fails with this error instead of searching
 * profiles and metadata endpoints a function has no business reaching.
 */
export function defaultProvider(): () => Promise<never> {
  return () =>
    Promise.reject(
      new Error('AWS credentials must be passed to the client explicitly: functions read them from the environment (lib/aws/clients.ts)'),
    );
}
