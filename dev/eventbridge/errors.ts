/**
 * The local EventBridge answers failures with the exception names EventBridge uses: the AWS SDK
 * turns `__type` into the error class callers catch, and Coffer's own client (lib/aws/api) into the
 * error's name, so code that handles `ResourceNotFoundException` locally handles it in AWS too.
 */
export type EventBridgeErrorType =
  | 'AccessDeniedException'
  | 'IncompleteSignatureException'
  | 'InternalException'
  | 'InvalidEventPatternException'
  | 'InvalidSignatureException'
  | 'LimitExceededException'
  | 'MissingAuthenticationTokenException'
  | 'RequestEntityTooLargeException'
  | 'ResourceAlreadyExistsException'
  | 'ResourceNotFoundException'
  | 'SerializationException'
  | 'UnknownOperationException'
  | 'UnrecognizedClientException'
  | 'ValidationException';

export class EventBridgeError extends Error {
  constructor(
    readonly type: EventBridgeErrorType,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export function eventBridgeError(type: EventBridgeErrorType, message: string, status = 400): EventBridgeError {
  return new EventBridgeError(type, message, status);
}

/** AWS's wording for a request-shape violation. */
export function validationError(field: string, constraint: string): EventBridgeError {
  return new EventBridgeError(
    'ValidationException',
    `1 validation error detected: Value at '${field.charAt(0).toLowerCase()}${field.slice(1)}' failed to satisfy constraint: ${constraint}`,
  );
}
