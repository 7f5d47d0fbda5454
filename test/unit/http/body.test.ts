import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { body, MAX_BODY_BYTES } from '../../../lib/http/middleware/body.ts';
import { request, runMiddleware } from './stubs.ts';

const schema = z.object({ value: z.string() });
const put = (payload: string | undefined, extra: { contentType?: string } = {}) =>
  request('PUT', '/secrets/a?api-version=7.6', { body: payload, headers: extra.contentType ? { 'content-type': extra.contentType } : {} });

describe('body middleware', () => {
  it("parses and validates the JSON body with the operation's schema", async () => {
    const { state } = await runMiddleware([body({ body: schema, bodyRequired: true })], put('{"value":"v","extra":1}'));
    expect(state.body).toEqual({ value: 'v' });
  });

  it('answers 400 for invalid JSON, a missing required body and a field of the wrong type, naming the field and not the value', async () => {
    await expect(runMiddleware([body({ body: schema, bodyRequired: true })], put('{'))).rejects.toMatchObject({
      status: 400,
      message: 'The request body is not valid JSON.',
    });
    await expect(runMiddleware([body({ body: schema, bodyRequired: true })], put(undefined))).rejects.toMatchObject({
      status: 400,
      message: 'The request body is required.',
    });
    await expect(runMiddleware([body({ body: schema })], put('{"value":42}'))).rejects.toMatchObject({
      status: 400,
      message: "Invalid value for 'value': expected string.",
    });
  });

  it("answers ARM's InvalidRequestContent on the management plane", async () => {
    await expect(runMiddleware([body({ body: schema, bodyRequired: true }, 'management')], put('{'))).rejects.toMatchObject({
      status: 400,
      code: 'InvalidRequestContent',
      message: 'The request body is not valid JSON.',
    });
    await expect(runMiddleware([body({ body: schema }, 'management')], put('{"value":42}'))).rejects.toMatchObject({
      status: 400,
      code: 'InvalidRequestContent',
    });
  });

  it('validates an empty optional body as {}', async () => {
    const optional = z.object({ tags: z.record(z.string(), z.string()).optional() });
    const { state } = await runMiddleware([body({ body: optional })], put(undefined));
    expect(state.body).toEqual({});
  });

  it('refuses a body over the limit with 413, with or without a schema', async () => {
    const large = 'x'.repeat(MAX_BODY_BYTES + 1);
    await expect(runMiddleware([body({})], put(large))).rejects.toMatchObject({ status: 413, code: 'RequestEntityTooLarge' });
  });

  it('decodes a base64 body as API Gateway sends binary content types', async () => {
    const { state } = await runMiddleware([body({ body: schema })], put('{"value":"b"}', { contentType: 'application/octet-stream' }));
    expect(state.body).toEqual({ value: 'b' });
  });

  it('leaves the body undefined for an operation without a body schema', async () => {
    const { state } = await runMiddleware([body({})], put('{"ignored":true}'));
    expect(state.body).toBeUndefined();
  });
});
