import type * as z from 'zod/mini';
import { BadParameter, PayloadTooLarge, VaultError } from '../../core/errors.ts';
import type { Event, Middleware } from '../request.ts';
import type { Plane } from '../routes.ts';
import { validate } from '../validation.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface BodySchema<TBody> {
  body?: z.core.$ZodType<TBody>;
  /** A body is required (Azure rejects a PUT/POST without one). */
  bodyRequired?: boolean;
}

/**
 * The request body: within the size limit, JSON, and valid for the operation's schema, else a 400.
 * The management plane's 400 carries ARM's code for a body it cannot use, `InvalidRequestContent`.
 */
export function body<TBody>(schema: BodySchema<TBody>, plane: Plane = 'data'): Middleware {
  return {
    before: (request) => {
      try {
        request.context.coffer.body = parseBody(request.event, schema);
      } catch (error) {
        if (plane === 'management' && error instanceof BadParameter) throw new VaultError(400, 'InvalidRequestContent', error.message);
        throw error;
      }
    },
  };
}

function parseBody<TBody>(event: Event, schema: BodySchema<TBody>): TBody {
  const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) throw new PayloadTooLarge('The request body is too large.');
  if (!schema.body) return undefined as TBody;
  if (raw.trim() === '') {
    if (schema.bodyRequired) throw new BadParameter('The request body is required.');
    return validate(schema.body, {});
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new BadParameter('The request body is not valid JSON.');
  }
  return validate(schema.body, parsed);
}
