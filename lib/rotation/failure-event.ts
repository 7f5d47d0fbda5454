import { randomUUID } from 'node:crypto';
import type { RotationFailure, RotationStep } from './rotation.ts';

/**
 * The event a failed rotation emits (docs/rotation.md): Key Vault has no event type for it, so it is
 * Coffer's own, in the Event Grid schema like Key Vault's, on the deployment's bus under its own
 * source. Subscribe to it with an EventBridge rule on `source` `coffer.rotation` (in AWS the
 * RotationFailures queue also keeps what failed for good). It never carries a value: the secret's
 * name, the version that stays current, the step, whether the previous password was restored, and the
 * error's message, which names no value either.
 */
export const ROTATION_EVENT_SOURCE = 'coffer.rotation';
export const ROTATION_FAILED_EVENT_TYPE = 'Coffer.Rotation.SecretRotationFailed';

export interface RotationFailedEvent {
  id: string;
  /** The vault's URL: the rotator knows its vault by URL, not by its ARM id. */
  topic: string;
  subject: string;
  eventType: typeof ROTATION_FAILED_EVENT_TYPE;
  eventTime: string;
  data: { VaultUrl: string; ObjectName: string; Version?: string; Step: RotationStep; Restored: boolean; Error: string };
  dataVersion: '1';
  metadataVersion: '1';
}

/** One event per failed attempt: each is its own occurrence, so each has its own id. */
export function rotationFailedEvent(vaultUrl: string, failure: RotationFailure, now = new Date()): RotationFailedEvent {
  return {
    id: randomUUID(),
    topic: vaultUrl,
    subject: failure.secretName,
    eventType: ROTATION_FAILED_EVENT_TYPE,
    eventTime: now.toISOString(),
    data: {
      VaultUrl: vaultUrl,
      ObjectName: failure.secretName,
      ...(failure.currentVersion !== undefined ? { Version: failure.currentVersion } : {}),
      Step: failure.step,
      Restored: failure.restored,
      Error: failure.error,
    },
    dataVersion: '1',
    metadataVersion: '1',
  };
}
