import * as z from 'zod/mini';
import { attributesInput, tagsInput } from '../objects/schemas.ts';

const keyAttributes = z.extend(attributesInput, { exportable: z.nullish(z.boolean()) });

const integer = () => z.number().check(z.int());
const nonEmpty = () => z.string().check(z.minLength(1));

export const createKeyBody = z.object({
  kty: z.string(),
  key_size: z.nullish(integer()),
  public_exponent: z.nullish(integer()),
  key_ops: z.nullish(z.array(z.string())),
  crv: z.nullish(z.string()),
  attributes: z.nullish(keyAttributes),
  tags: z.nullish(tagsInput),
  release_policy: z.optional(z.unknown()),
});

export const importKeyBody = z.object({
  key: z.record(z.string(), z.unknown()),
  Hsm: z.nullish(z.boolean()),
  attributes: z.nullish(keyAttributes),
  tags: z.nullish(tagsInput),
  release_policy: z.optional(z.unknown()),
});

export const updateKeyBody = z.object({
  key_ops: z.nullish(z.array(z.string())),
  attributes: z.nullish(attributesInput),
  tags: z.nullish(tagsInput),
  release_policy: z.optional(z.unknown()),
});

/** encrypt, decrypt, wrapKey, unwrapKey, sign: `alg` and a base64url `value`. */
export const keyOperationBody = z.object({
  alg: nonEmpty(),
  value: z.string(),
  iv: z.nullish(z.string()),
  aad: z.nullish(z.string()),
  tag: z.nullish(z.string()),
});

export const verifyBody = z.object({ alg: nonEmpty(), digest: z.string(), value: z.string() });

export const restoreKeyBody = z.object({ value: nonEmpty() });

export const rotationPolicyBody = z.object({
  id: z.nullish(z.string()),
  lifetimeActions: z.nullish(
    z.array(
      z.object({
        trigger: z.nullish(z.object({ timeAfterCreate: z.nullish(z.string()), timeBeforeExpiry: z.nullish(z.string()) })),
        action: z.nullish(z.object({ type: z.nullish(z.string()) })),
      }),
    ),
  ),
  attributes: z.nullish(z.looseObject({ expiryTime: z.nullish(z.string()) })),
});

export const randomBytesBody = z.object({ count: integer() });

export type CreateKeyInput = z.infer<typeof createKeyBody>;
export type ImportKeyInput = z.infer<typeof importKeyBody>;
export type UpdateKeyInput = z.infer<typeof updateKeyBody>;
export type KeyOperationInput = z.infer<typeof keyOperationBody>;
export type VerifyInput = z.infer<typeof verifyBody>;
export type RotationPolicyInput = z.infer<typeof rotationPolicyBody>;
