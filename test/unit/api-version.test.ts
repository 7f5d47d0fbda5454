import { describe, expect, it } from 'vitest';
import { BadParameter } from '../../lib/core/errors.ts';
import { assertApiVersion, assertOperationInVersion } from '../../lib/http/api-version.ts';

describe('api-version', () => {
  it('accepts the numeric and dated versions SDKs send', () => {
    for (const v of ['7.0', '7.4', '7.6', '2025-07-01']) expect(assertApiVersion(v)).toBe(v);
  });

  it('requires one and names the latest when it does not know it', () => {
    expect(() => assertApiVersion(undefined)).toThrow(/required/);
    expect(() => assertApiVersion('8.0')).toThrow(BadParameter);
    expect(() => assertApiVersion('8.0')).toThrow(
      'The specified version (8.0) is not recognized. Consider using the latest supported version (7.6).',
    );
  });

  it('accepts the preview versions shipped SDKs send, as they were asked for', () => {
    // 7.4-preview.1 is the default of Debian's python3-azure KeyClient (azure-keyvault-keys 4.8.0b3).
    for (const v of ['7.2-preview', '7.3-preview', '7.4-preview.1', '7.5-preview.1', '7.6-preview.1', '7.6-preview.2']) {
      expect(assertApiVersion(v)).toBe(v);
    }
  });

  it('refuses previews no SDK shipped and names that only exist on a prototype', () => {
    for (const v of ['7.4-preview', '7.4-preview.2', '7.7-preview.1', '8.0-preview.1', '7.4-PREVIEW.1', 'constructor', '__proto__', 'toString']) {
      expect(() => assertApiVersion(v), v).toThrow(BadParameter);
    }
  });
});

describe('operations by api-version', () => {
  it('judges a preview as its GA version against the operation it asks for', () => {
    // RotateKey exists from 7.3: 7.3-preview and 7.4-preview.1 are 7.3 and 7.4, 7.2-preview is 7.2.
    expect(() => assertOperationInVersion('RotateKey', '7.3-preview', '7.3')).not.toThrow();
    expect(() => assertOperationInVersion('RotateKey', '7.4-preview.1', '7.3')).not.toThrow();
    expect(() => assertOperationInVersion('RotateKey', '7.2-preview', '7.3')).toThrow(
      "The operation 'RotateKey' is not supported in api-version 7.2-preview: it requires api-version 7.3 or later.",
    );
    // GetKeyAttestation exists from 7.6: both 7.6 previews have it, 7.5-preview.1 does not.
    expect(() => assertOperationInVersion('GetKeyAttestation', '7.6-preview.1', '7.6')).not.toThrow();
    expect(() => assertOperationInVersion('GetKeyAttestation', '7.6-preview.2', '7.6')).not.toThrow();
    expect(() => assertOperationInVersion('GetKeyAttestation', '7.5-preview.1', '7.6')).toThrow(BadParameter);
  });

  it('still refuses a GA version older than the operation', () => {
    expect(() => assertOperationInVersion('RotateKey', '7.2', '7.3')).toThrow(BadParameter);
    expect(() => assertOperationInVersion('RotateKey', '7.3', '7.3')).not.toThrow();
  });
});
