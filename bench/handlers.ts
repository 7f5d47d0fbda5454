/** The production handlers, called in this process with the events API Gateway would send them. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { type LambdaHandler, lambdaContext, lambdaEvent } from '../dev/lambda-event.ts';
import { functionEnvironment, type LocalStackInfo } from '../dev/stack.ts';
import { handler as createKeyHandler } from '../functions/keys/create-key.ts';
import { handler as signHandler } from '../functions/keys/sign.ts';
import { handler as getSecret } from '../functions/secrets/get-secret.ts';
import { handler as setSecret } from '../functions/secrets/set-secret.ts';
import { resetConfig } from '../lib/runtime/config.ts';
import { resetServices } from '../lib/runtime/services.ts';

const API_VERSION = '7.6';

export const handlers = { getSecret, setSecret, createKey: createKeyHandler, sign: signHandler };

/** The environment a deployed function gets, pointed at the local stack. */
export function configureHandlers(info: LocalStackInfo): void {
  Object.assign(process.env, functionEnvironment(info));
  resetConfig();
  resetServices();
}

/** The event API Gateway would hand a function for a request to the default vault at `localhost`, or to the vault at `host`. */
export function lambdaRequest(method: string, path: string, token: string, body?: unknown, host?: string): APIGatewayProxyEventV2 {
  return lambdaEvent({
    method,
    url: `${path}?api-version=${API_VERSION}`,
    headers: {
      authorization: `Bearer ${token}`,
      'user-agent': 'coffer-bench',
      ...(host === undefined ? {} : { host }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Calls a handler; anything but a 2xx stops the run (a benchmark of error responses measures nothing). */
export async function invoke(handler: LambdaHandler, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const result = await handler(event, lambdaContext('bench'));
  const status = result.statusCode ?? 200;
  if (status < 200 || status >= 300) {
    throw new Error(`${event.routeKey} answered ${status}: ${result.body ?? ''}`);
  }
  return result;
}

export interface CreatedKey {
  name: string;
  version: string;
}

export async function createKey(token: string, prefix: string, body: Record<string, unknown>): Promise<CreatedKey> {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  const result = await invoke(handlers.createKey, lambdaRequest('POST', `/keys/${name}/create`, token, body));
  const kid = (JSON.parse(result.body ?? '{}') as { key?: { kid?: string } }).key?.kid;
  const version = kid?.split('/').at(-1);
  if (!version) throw new Error(`CreateKey ${name} returned no key id`);
  return { name, version };
}
