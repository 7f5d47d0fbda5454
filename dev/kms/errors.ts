/**
 * The local KMS answers failures with the exception names real KMS uses, because the AWS SDK
 * turns `__type` into the error class callers catch (`instanceof NotFoundException`, `error.name`).
 * A local endpoint that said "Error" where AWS says "DisabledException" would let code pass locally
 * and fail in the cloud.
 */
export type KmsErrorType =
  | 'AccessDeniedException'
  | 'AlreadyExistsException'
  | 'DisabledException'
  | 'DryRunOperationException'
  | 'ExpiredImportTokenException'
  | 'IncompleteSignatureException'
  | 'IncorrectKeyException'
  | 'IncorrectKeyMaterialException'
  | 'InvalidAliasNameException'
  | 'InvalidCiphertextException'
  | 'InvalidImportTokenException'
  | 'InvalidKeyUsageException'
  | 'InvalidMarkerException'
  | 'InvalidSignatureException'
  | 'KMSInternalException'
  | 'KMSInvalidSignatureException'
  | 'KMSInvalidStateException'
  | 'MissingAuthenticationTokenException'
  | 'NotFoundException'
  | 'RequestEntityTooLargeException'
  | 'SerializationException'
  | 'TagException'
  | 'UnknownOperationException'
  | 'UnrecognizedClientException'
  | 'UnsupportedOperationException'
  | 'ValidationException';

export class KmsError extends Error {
  constructor(
    readonly type: KmsErrorType,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export function kmsError(type: KmsErrorType, message: string, status = 400): KmsError {
  return new KmsError(type, message, status);
}

/** AWS's wording for a request-shape violation, so messages read like the real service's. */
export function validationError(field: string, constraint: string): KmsError {
  return new KmsError(
    'ValidationException',
    `1 validation error detected: Value at '${lowerFirst(field)}' failed to satisfy constraint: ${constraint}`,
  );
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
