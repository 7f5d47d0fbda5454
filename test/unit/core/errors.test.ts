import { describe, expect, it } from 'vitest';
import {
  BadParameter,
  Conflict,
  describeError,
  type ErrorDescription,
  Forbidden,
  InternalError,
  MethodNotAllowed,
  NotFound,
  PayloadTooLarge,
  ServiceUnavailable,
  Throttled,
  Unauthorized,
  VaultError,
} from '../../../lib/core/errors.ts';

function depthOf(description: ErrorDescription): number {
  return description.cause ? 1 + depthOf(description.cause) : 0;
}

describe('describeError', () => {
  it('describes an error by name, message and stack, and nothing else it carries', () => {
    const error = Object.assign(new TypeError('bad input'), { secretValue: 'hunter2' });
    const described = describeError(error);
    expect(described).toEqual({ name: 'TypeError', message: 'bad input', stack: error.stack });
    expect(JSON.stringify(described)).not.toContain('hunter2');
  });

  it('describes a thrown non-error by its string form', () => {
    expect(describeError('plain string')).toEqual({ message: 'plain string' });
    expect(describeError(42)).toEqual({ message: '42' });
    expect(describeError(undefined)).toEqual({ message: 'undefined' });
  });

  it('follows causes three levels deep, and no further', () => {
    const socket = new Error('socket hang up');
    const kms = new Error('KMS timed out', { cause: socket });
    const unavailable = new ServiceUnavailable('KMS is unavailable', { cause: kms });
    const described = describeError(unavailable);
    expect(described).toMatchObject({
      name: 'ServiceUnavailable',
      message: 'KMS is unavailable',
      cause: { name: 'Error', message: 'KMS timed out', cause: { message: 'socket hang up' } },
    });
    expect(described.cause?.cause?.cause).toBeUndefined();

    let deep: Error = new Error('level 0');
    for (let level = 1; level <= 10; level++) deep = new Error(`level ${level}`, { cause: deep });
    const bounded = describeError(deep);
    expect(depthOf(bounded)).toBe(3);
    expect(bounded.cause?.cause?.cause?.message).toBe('level 7');
  });

  it('ends on a cycle of causes', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(depthOf(describeError(a))).toBe(3);
  });

  it('describes a non-error cause by its string form', () => {
    expect(describeError(new Error('outer', { cause: 'ECONNRESET' })).cause).toEqual({ message: 'ECONNRESET' });
  });
});

describe('the error hierarchy', () => {
  it.each([
    [new BadParameter('bad'), BadParameter, 400, 'BadParameter', undefined],
    [new Unauthorized('no token'), Unauthorized, 401, 'Unauthorized', undefined],
    [new Forbidden('no', 'ForbiddenByRbac'), Forbidden, 403, 'Forbidden', 'ForbiddenByRbac'],
    [new NotFound('SecretNotFound', 'gone'), NotFound, 404, 'SecretNotFound', undefined],
    [new MethodNotAllowed('PUT'), MethodNotAllowed, 405, 'MethodNotAllowed', undefined],
    [new Conflict('taken', 'ObjectIsDeletedButRecoverable'), Conflict, 409, 'Conflict', 'ObjectIsDeletedButRecoverable'],
    [new PayloadTooLarge('big'), PayloadTooLarge, 413, 'RequestEntityTooLarge', undefined],
    [new Throttled('slow down', 7), Throttled, 429, 'Throttled', undefined],
    [new ServiceUnavailable('down'), ServiceUnavailable, 503, 'ServiceUnavailable', undefined],
    [new InternalError(), InternalError, 500, 'InternalError', undefined],
  ] as const)('%s answers its status and code', (error, type, status, code, innerCode) => {
    expect(error).toBeInstanceOf(type);
    expect(error).toBeInstanceOf(VaultError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(type.name);
    expect({ status: error.status, code: error.code, innerCode: error.innerCode }).toEqual({ status, code, innerCode });
  });

  it("answers Azure's error body, with innererror only when there is an inner code", () => {
    expect(new Forbidden('Operation get is not allowed on a disabled secret.', 'SecretDisabled').toBody()).toEqual({
      error: { code: 'Forbidden', message: 'Operation get is not allowed on a disabled secret.', innererror: { code: 'SecretDisabled' } },
    });
    expect(new BadParameter('The value is invalid.').toBody()).toEqual({ error: { code: 'BadParameter', message: 'The value is invalid.' } });
  });

  it('MethodNotAllowed names the method', () => {
    expect(new MethodNotAllowed('PATCH').message).toBe("The requested resource does not support http method 'PATCH'.");
  });

  it('Unauthorized carries the challenge headers it is given', () => {
    const challenge = { 'WWW-Authenticate': 'Bearer authorization="https://login.localhost/t", resource="https://vault.localhost"' };
    expect(new Unauthorized('no token', challenge).headers).toEqual(challenge);
    expect(new Unauthorized('no token').headers).toEqual({});
  });

  it('ServiceUnavailable asks to retry after 5 seconds and Throttled after the seconds it is given', () => {
    expect(new ServiceUnavailable('KMS is unavailable').headers).toEqual({ 'Retry-After': '5' });
    expect(new Throttled('Too many requests.', 30).headers).toEqual({ 'Retry-After': '30' });
  });

  it('InternalError keeps its cause for the log and answers only a generic message', () => {
    const cause = new Error('DynamoDB item pk=VAULT#secret-vault is malformed');
    const error = new InternalError({ cause });
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('The service encountered an internal error. Retry the request.');
    expect(error.headers).toEqual({});
    const answer = JSON.stringify(error.toBody());
    expect(answer).toBe('{"error":{"code":"InternalError","message":"The service encountered an internal error. Retry the request."}}');
    expect(answer).not.toContain('DynamoDB');
    expect(describeError(error).cause?.message).toBe(cause.message);
  });

  it('ServiceUnavailable keeps its cause out of the answer too', () => {
    const error = new ServiceUnavailable('The identity provider is unavailable.', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8444') });
    expect((error.cause as Error).message).toContain('ECONNREFUSED');
    expect(JSON.stringify(error.toBody())).not.toContain('ECONNREFUSED');
  });

  it('has no cause property when none was given', () => {
    expect('cause' in new InternalError()).toBe(false);
    expect('cause' in new ServiceUnavailable('down')).toBe(false);
  });
});
