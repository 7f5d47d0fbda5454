/**
 * PKCS#11 return values (CKR_*) in the domain's errors (lib/core/errors.ts, lib/hsm/hsm-keys.ts). The
 * input reaching the HSM has been checked already (lib/hsm/hsm-key-rules.ts), so what the HSM still
 * refuses is one of three things: a mechanism, parameter or key type it does not implement (400, "not
 * supported", saying which); data only the HSM can judge (a ciphertext or wrapped key that is not this
 * key's: 400); or the HSM, its library or the session failing (503, retryable, the CKR name kept as the
 * cause for the operator's log). Nothing here answers a raw 500 or carries a PIN.
 */
import { BadParameter, ServiceUnavailable, VaultError } from '../core/errors.ts';
import { HsmDecryptionFailed, HsmKeyNotFound, HsmOperationNotSupported } from '../hsm/hsm-keys.ts';

/** What the HSM was asked to do, so the same CKR value can mean different things (a refused mechanism at Init, a bad tag at Decrypt). */
export type Pkcs11Step = 'init' | 'decrypt' | 'unwrap' | 'other';

/** The CKR values that mean "this HSM does not implement it" when returned by an *Init or a key generation. */
const NOT_IMPLEMENTED = new Set([
  'CKR_MECHANISM_INVALID',
  'CKR_MECHANISM_PARAM_INVALID',
  'CKR_ARGUMENTS_BAD',
  'CKR_KEY_TYPE_INCONSISTENT',
  'CKR_KEY_SIZE_RANGE',
  'CKR_CURVE_NOT_SUPPORTED',
  'CKR_DOMAIN_PARAMS_INVALID',
  'CKR_TEMPLATE_INCONSISTENT',
  'CKR_ATTRIBUTE_VALUE_INVALID',
  'CKR_FUNCTION_NOT_SUPPORTED',
]);

/** Data only the HSM can judge. */
const BAD_DATA = new Set([
  'CKR_DATA_INVALID',
  'CKR_DATA_LEN_RANGE',
  'CKR_ENCRYPTED_DATA_INVALID',
  'CKR_ENCRYPTED_DATA_LEN_RANGE',
  'CKR_WRAPPED_KEY_INVALID',
  'CKR_WRAPPED_KEY_LEN_RANGE',
  'CKR_SIGNATURE_LEN_RANGE',
]);

/** The key's object is gone (deleted, or the handle cached for a session that was reset). */
const NO_SUCH_OBJECT = new Set(['CKR_OBJECT_HANDLE_INVALID', 'CKR_KEY_HANDLE_INVALID']);

/** The session or the login is no longer valid: the adapter drops it and opens a new one on the next call. */
export const SESSION_LOST = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_DEVICE_REMOVED',
  'CKR_DEVICE_ERROR',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_SLOT_ID_INVALID',
]);

/** The CKR name of a pkcs11js error ('CKR_PIN_INCORRECT'), or undefined for anything else. */
export function ckrName(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = /^(CKR_[A-Z0-9_]+)/.exec(error.message);
  return match?.[1];
}

export function hsmUnavailable(what: string, cause: unknown): ServiceUnavailable {
  return new ServiceUnavailable(`The pool's HSM is unavailable: ${what}.`, { cause });
}

/**
 * The domain's error for what a PKCS#11 call threw. `operation` names the operation for a "not
 * supported" answer (e.g. "RSA-OAEP-256 decryption"), `handle` the key for a "not found".
 */
export function domainError(error: unknown, step: Pkcs11Step, operation: string, handle?: string): VaultError {
  if (error instanceof VaultError) return error;
  const name = ckrName(error);
  if (name === undefined) return hsmUnavailable(`${operation} failed in the PKCS#11 library`, error);
  if (NO_SUCH_OBJECT.has(name) && handle !== undefined) return new HsmKeyNotFound(handle);
  if (step === 'init' && NOT_IMPLEMENTED.has(name)) {
    return new HsmOperationNotSupported(`The pool's HSM does not support ${operation} (${name}).`);
  }
  if (step === 'decrypt' || step === 'unwrap') {
    // SoftHSM2 reports a wrong AES-GCM tag as CKR_GENERAL_ERROR from C_Decrypt; the input was checked, so
    // after a successful Init nothing but the data can be wrong.
    if (BAD_DATA.has(name) || name === 'CKR_GENERAL_ERROR') return new HsmDecryptionFailed();
  }
  if (BAD_DATA.has(name)) return new BadParameter(`The pool's HSM refused the data of ${operation} (${name}).`);
  return hsmUnavailable(`${operation} failed with ${name}`, error);
}
