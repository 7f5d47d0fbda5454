/**
 * The error hierarchy. Domain code throws these; only lib/http turns them into Azure's error body
 * `{"error":{"code","message","innererror":{"code"}}}`. Messages never carry secret values, key
 * material or tokens: they are returned to callers and written to logs.
 */
/** An error as a log field: name, message and stack, never the error object with whatever it holds. */
export interface ErrorDescription {
  name?: string;
  message?: string;
  stack?: string;
  cause?: ErrorDescription;
}

export function describeError(error: unknown, depth = 0): ErrorDescription {
  if (!(error instanceof Error)) return { message: String(error) };
  const described: ErrorDescription = { name: error.name, message: error.message, stack: error.stack };
  // Causes are followed a few levels deep: enough for "503 <- KMS timeout <- socket error".
  if (error.cause !== undefined && depth < 3) described.cause = describeError(error.cause, depth + 1);
  return described;
}

/**
 * `cause` keeps what went wrong underneath (a KMS or DynamoDB error) for the operator's log line; it is
 * never part of the answer. Every 5xx is logged with its cause by the respond middleware.
 */
export interface VaultErrorOptions {
  cause?: unknown;
}

export class VaultError extends Error {
  readonly status: number;
  readonly code: string;
  readonly innerCode: string | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    innerCode?: string,
    headers: Record<string, string> = {},
    options: VaultErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.innerCode = innerCode;
    this.headers = headers;
  }

  toBody(): { error: { code: string; message: string; innererror?: { code: string } } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.innerCode ? { innererror: { code: this.innerCode } } : {}),
      },
    };
  }
}

export class BadParameter extends VaultError {
  constructor(message: string) {
    super(400, 'BadParameter', message);
  }
}

/** 401: missing or invalid token. The challenge header is added by the authenticator. */
export class Unauthorized extends VaultError {
  constructor(message: string, headers: Record<string, string> = {}) {
    super(401, 'Unauthorized', message, undefined, headers);
  }
}

/** 403: authenticated, not permitted (RBAC, disabled object, key_ops, validity window). */
export class Forbidden extends VaultError {
  constructor(message: string, innerCode: string) {
    super(403, 'Forbidden', message, innerCode);
  }
}

/** 404 with the object-specific code Azure uses: SecretNotFound, KeyNotFound, ... */
export class NotFound extends VaultError {
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

export class MethodNotAllowed extends VaultError {
  constructor(method: string) {
    super(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
  }
}

export class Conflict extends VaultError {
  constructor(message: string, innerCode?: string) {
    super(409, 'Conflict', message, innerCode);
  }
}

export class PayloadTooLarge extends VaultError {
  constructor(message: string) {
    super(413, 'RequestEntityTooLarge', message);
  }
}

/**
 * 429 with the seconds to wait, Key Vault's answer when a vault is over its limits: thrown when
 * DynamoDB or KMS stays throttled through a call's retries (lib/aws/api/aws-json.ts); the official
 * SDKs wait Retry-After and try again.
 */
export class Throttled extends VaultError {
  constructor(message: string, retryAfterSeconds: number, options: VaultErrorOptions = {}) {
    super(429, 'Throttled', message, undefined, { 'Retry-After': String(retryAfterSeconds) }, options);
  }
}

/** 503: a dependency (identity provider, KMS, DynamoDB, audit log) is unavailable; retryable after Retry-After. */
export class ServiceUnavailable extends VaultError {
  constructor(message: string, options: VaultErrorOptions = {}) {
    super(503, 'ServiceUnavailable', message, undefined, { 'Retry-After': '5' }, options);
  }
}

/** 500: a fault of ours. The answer says only that; the cause goes to the operator's log. */
export class InternalError extends VaultError {
  constructor(options: VaultErrorOptions = {}) {
    super(500, 'InternalError', 'The service encountered an internal error. Retry the request.', undefined, {}, options);
  }
}
