import * as z from 'zod';
import { attributesInput, tagsInput } from '../objects/schemas.ts';

const keyAttributes = attributesInput.extend({ exportable: z.boolean().nullish() });

export const createKeyBody = z.object({
  kty: z.string(),
  key_size: z.number().int().nullish(),
  public_exponent: z.number().int().nullish(),
  key_ops: z.array(z.string()).nullish(),
  crv: z.string().nullish(),
  attributes: keyAttributes.nullish(),
  tags: tagsInput.nullish(),
  release_policy: z.unknown().optional(),
});

export const importKeyBody = z.object({
  key: z.record(z.string(), z.unknown()),
  Hsm: z.boolean().nullish(),
  attributes: keyAttributes.nullish(),
  tags: tagsInput.nullish(),
  release_policy: z.unknown().optional(),
});

export const updateKeyBody = z.object({
  key_ops: z.array(z.string()).nullish(),
  attributes: attributesInput.nullish(),
  tags: tagsInput.nullish(),
  release_policy: z.unknown().optional(),
});

/** encrypt, decrypt, wrapKey, unwrapKey, sign: `alg` and a base64url `value`. */
export const keyOperationBody = z.object({
  alg: z.string().min(1),
  value: z.string(),
  iv: z.string().nullish(),
  aad: z.string().nullish(),
  tag: z.string().nullish(),
});

export const verifyBody = z.object({ alg: z.string().min(1), digest: z.string(), value: z.string() });

export const restoreKeyBody = z.object({ value: z.string().min(1) });

export const rotationPolicyBody = z.object({
  id: z.string().nullish(),
  lifetimeActions: z
    .array(
      z.object({
        trigger: z.object({ timeAfterCreate: z.string().nullish(), timeBeforeExpiry: z.string().nullish() }).nullish(),
        action: z.object({ type: z.string().nullish() }).nullish(),
      }),
    )
    .nullish(),
  attributes: z.object({ expiryTime: z.string().nullish() }).passthrough().nullish(),
});

export const randomBytesBody = z.object({ count: z.number().int() });

export type CreateKeyInput = z.infer<typeof createKeyBody>;
export type ImportKeyInput = z.infer<typeof importKeyBody>;
export type UpdateKeyInput = z.infer<typeof updateKeyBody>;
export type KeyOperationInput = z.infer<typeof keyOperationBody>;
export type VerifyInput = z.infer<typeof verifyBody>;
export type RotationPolicyInput = z.infer<typeof rotationPolicyBody>;
