import { type Rotation, rotateForInvocation, rotationFromEnvironment } from '#lib/runtime/rotation';

/**
 * The reference rotator (docs/rotation.md): a random new password for a PostgreSQL role whose
 * credential is a Key Vault secret, on SecretNearExpiry (an EventBridge rule on the deployment's bus
 * targets this function) or on demand (`{"secretName": "..."}`).
 */
let rotation: Promise<Rotation> | undefined;

export const handler = async (event: unknown): Promise<{ results: Record<string, string>[] }> => {
  rotation ??= rotationFromEnvironment();
  return { results: await rotateForInvocation(await rotation, event) };
};
