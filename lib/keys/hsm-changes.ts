import { describeError } from '../core/errors.ts';

/** Where the keys service reports what an operator must look at (a KMS change it could not undo). */
export type Warn = (message: string, details: Record<string, unknown>) => void;

/**
 * One change to the KMS keys of a key's HSM versions, made before the store change it belongs with.
 * KMS goes first so that a failure leaves the key as it was and a retry finds it unchanged; if the
 * store change then fails, the KMS change is undone for the KMS keys the stored state does not need.
 */
export interface HsmChange<T> {
  what: string;
  arns: string[];
  apply: (arn: string) => Promise<unknown>;
  write: () => Promise<T>;
  /** After a failed write: which of the changed KMS keys to undo, judged from the store as it is now. */
  toUndo: (changed: string[]) => Promise<string[]>;
  undo: (arn: string) => Promise<unknown>;
}

/**
 * An HSM key is two records, its versions in the store and their KMS keys, and no transaction spans
 * both: KMS first, then the store, undone on failure (docs/architecture.md, "Keys").
 */
export class HsmChanges {
  constructor(private readonly warn: Warn) {}

  async changeHsmThenStore<T>(change: HsmChange<T>): Promise<T> {
    const changed: string[] = [];
    try {
      for (const arn of change.arns) {
        await change.apply(arn);
        changed.push(arn);
      }
      return await change.write();
    } catch (error) {
      if (changed.length > 0) {
        // Judge from the store as it is now: a concurrent request may have made the KMS change right.
        const toUndo = await change.toUndo(changed).catch((checkError: unknown) => {
          this.warn(`could not ${change.what}: the store could not be read, so the KMS keys were left as they are`, {
            kmsKeys: changed,
            error: describeError(checkError),
          });
          return [];
        });
        await this.undoHsm(change.what, toUndo, change.undo);
      }
      throw error;
    }
  }

  /** Best effort: a failed undo is reported for the operator; the caller gets the original error. */
  async undoHsm(what: string, arns: string[], undo: (arn: string) => Promise<unknown>): Promise<void> {
    for (const arn of [...arns].reverse()) {
      await undo(arn).catch((error: unknown) => this.warn(`could not ${what}`, { kmsKey: arn, error: describeError(error) }));
    }
  }
}
