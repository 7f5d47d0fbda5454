import { randomBytes } from 'node:crypto';
import { durationSeconds } from '../core/durations.ts';
import { NEAR_EXPIRY_SECONDS } from '../events/events.ts';
import { type PostgresCredential, parseCredential, serializeCredential } from './credential.ts';

/**
 * The rotation contract (docs/rotation.md): a random-password rotator for one PostgreSQL role whose
 * credential is a secret in a Key Vault. Four steps, named after Secrets Manager's, in the order Key
 * Vault's semantics need: a version written is current at once (GetSecret answers the latest version,
 * and a disabled latest version answers 403 to every application), so the new password is set and
 * tested in the database before it is written to the vault, and every failure before that write puts
 * the database back on the previous password.
 *
 *   1. createSecret: read the current version (skip if it is not the version the event is about) and
 *      generate the new password; nothing changes.
 *   2. setSecret: ALTER ROLE ... PASSWORD on a session opened with the admin (or the role's own)
 *      credential, holding an advisory lock so two rotations of one secret never interleave.
 *   3. testSecret: a new connection as the role with the new password.
 *   4. finishSecret: the new version in the vault with the next expiry, then read back as
 *      applications read it (GetSecret without a version): it must be the version just written.
 *
 * Steps 2 to 4 failing restore the previous password, so the previous version stays current and the
 * database keeps accepting it.
 */

/** One version of a secret as the rotator sees it. */
export interface StoredSecret {
  name: string;
  version: string;
  value: string;
  contentType?: string;
  expiresOn?: Date;
  tags: Record<string, string>;
}

/** The vault, as the rotator uses it: the official SecretClient in production (key-vault-store.ts). */
export interface RotationSecretStore {
  /** The current version: what GetSecret without a version answers applications. */
  current(name: string): Promise<StoredSecret>;
  addVersion(name: string, value: string, properties: { contentType?: string; expiresOn: Date; tags: Record<string, string> }): Promise<StoredSecret>;
}

/** A session that changes passwords: opened with an admin credential, or with the role's own. */
export interface PasswordSession {
  /** Waits for the rotation lock of `key` (held until close): two rotations of one secret run one after the other. */
  lock(key: string): Promise<void>;
  setPassword(role: string, password: string): Promise<void>;
  close(): Promise<void>;
}

export interface RoleDatabase {
  /** Whether the credential logs in: false when the server refuses the password, an error when it cannot be asked. */
  authenticates(credential: PostgresCredential): Promise<boolean>;
  openSession(credential: PostgresCredential): Promise<PasswordSession>;
}

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

export interface RotationRequest {
  secretName: string;
  /**
   * The version the trigger is about (an event's data.Version): when the secret's current version is
   * another one, it was rotated (or replaced) already and nothing happens. On demand: none.
   */
  expectedVersion?: string;
  /**
   * When the trigger happened in the vault's time (an event's eventTime, Unix seconds): the new
   * version's expiry counts from the later of it and now, so a vault whose clock runs ahead (the local
   * time shift) gets a version that expires after its own now, not in its past.
   */
  at?: number;
}

export type RotationResult =
  | { outcome: 'rotated'; secretName: string; previousVersion: string; version: string; expiresOn: Date }
  | { outcome: 'skipped'; secretName: string; currentVersion: string; reason: string };

/** A rotation that failed at `step`; the previous version is still current and accepted (`restored`), unless `restored` is false. */
export class RotationFailed extends Error {
  constructor(
    readonly step: RotationStep,
    readonly secretName: string,
    readonly restored: boolean,
    options: { cause: unknown },
  ) {
    super(
      `rotation of ${secretName} failed at ${step}${restored ? '; the previous version is still current' : '; restoring the previous password failed'}`,
      options,
    );
    this.name = 'RotationFailed';
  }
}

/** A failed rotation as its failure event tells it (lib/rotation/failure-event.ts). */
export interface RotationFailure {
  secretName: string;
  step: RotationStep;
  restored: boolean;
  error: string;
  /** The version that stays current, when the rotation read it. */
  currentVersion?: string;
}

/** What the rotator reports: one line per outcome, never a value. */
export type RotationLogEntry =
  | { rotation: 'rotated'; secret: string; previousVersion: string; version: string; expiresOn: string }
  | { rotation: 'skipped'; secret: string; currentVersion: string; reason: string }
  | { rotation: 'failed'; secret: string; step: RotationStep; restored: boolean; error: string }
  | { rotation: 'failure-not-announced'; secret: string; error: string };

/** Tag on the secret: the ISO 8601 lifetime of each new version (default P90D). */
const ROTATION_PERIOD_TAG = 'rotation-period';
/** Tag on the secret: the name of a secret in the same vault holding the credential that changes the password (default: the role's own). */
const ROTATION_ADMIN_TAG = 'rotation-admin-secret';
const DEFAULT_ROTATION_PERIOD_SECONDS = 90 * 86_400;
/** A day longer than the 30 days before exp that SecretNearExpiry comes. */
const MINIMUM_ROTATION_PERIOD_SECONDS = NEAR_EXPIRY_SECONDS + 86_400;

export interface RotatorDependencies {
  store: RotationSecretStore;
  database: RoleDatabase;
  /** Unix seconds. */
  now?: () => number;
  generatePassword?: () => string;
  log?: (entry: RotationLogEntry) => void;
  /**
   * Emits the failure event (lib/rotation/failure-event.ts) of a rotation that failed, after the
   * previous password was restored. Its own failure is logged, never in place of the rotation's.
   */
  announceFailure?: (failure: RotationFailure) => Promise<void>;
}

/** 32 random bytes, base64url: 43 characters that need no quoting anywhere a password travels. */
function randomPassword(): string {
  return randomBytes(32).toString('base64url');
}

export class PostgresPasswordRotator {
  private readonly now: () => number;
  private readonly generatePassword: () => string;
  private readonly log: (entry: RotationLogEntry) => void;

  constructor(private readonly deps: RotatorDependencies) {
    this.now = deps.now ?? (() => Math.floor(Date.now() / 1000));
    this.generatePassword = deps.generatePassword ?? randomPassword;
    this.log = deps.log ?? ((entry) => console.log(JSON.stringify(entry)));
  }

  async rotate(request: RotationRequest): Promise<RotationResult> {
    const { store, database } = this.deps;
    const name = request.secretName;
    let step: RotationStep = 'createSecret';
    let session: PasswordSession | undefined;
    let passwordChanged = false;
    let previous: StoredSecret | undefined;
    let credential: PostgresCredential | undefined;
    try {
      // 1. createSecret
      previous = await store.current(name);
      credential = parseCredential(previous.value);
      const adminName = previous.tags[ROTATION_ADMIN_TAG];
      const admin = adminName ? parseCredential((await store.current(adminName)).value) : credential;
      session = await database.openSession(admin);
      await session.lock(`coffer-rotation:${name.toLowerCase()}`);
      // Read again under the lock: a rotation that held it before us has made a new version.
      previous = await store.current(name);
      credential = parseCredential(previous.value);
      const skipped = this.skipReason(request, previous);
      if (skipped) {
        this.log({ rotation: 'skipped', secret: name, currentVersion: previous.version, reason: skipped });
        return { outcome: 'skipped', secretName: name, currentVersion: previous.version, reason: skipped };
      }
      if (!(await database.authenticates(credential))) throw new Error('the current version does not log in: the database and the vault disagree');
      const next: PostgresCredential = { ...credential, password: this.generatePassword() };
      const period = rotationPeriod(previous.tags);
      const from = Math.max(this.now(), request.at ?? 0);

      // 2. setSecret
      step = 'setSecret';
      passwordChanged = true;
      await session.setPassword(credential.username, next.password);

      // 3. testSecret
      step = 'testSecret';
      if (!(await database.authenticates(next))) throw new Error('the new password does not log in');

      // 4. finishSecret
      step = 'finishSecret';
      const value = serializeCredential(next);
      const written = await store
        .addVersion(name, value, {
          ...(previous.contentType !== undefined ? { contentType: previous.contentType } : {}),
          expiresOn: new Date((from + period) * 1000),
          tags: previous.tags,
        })
        .catch(async (error: unknown) => {
          // A write whose answer was lost may have committed: then it is done, and restoring the
          // previous password would leave applications a version the database refuses.
          const after = await store.current(name).catch(() => undefined);
          if (after && after.version !== previous?.version && after.value === value) return after;
          throw error;
        });
      const current = await store.current(name);
      if (current.version !== written.version) throw new Error(`the vault answers version ${current.version}, not the one written`);
      passwordChanged = false;
      const expiresOn = written.expiresOn ?? new Date((from + period) * 1000);
      this.log({
        rotation: 'rotated',
        secret: name,
        previousVersion: previous.version,
        version: written.version,
        expiresOn: expiresOn.toISOString(),
      });
      return { outcome: 'rotated', secretName: name, previousVersion: previous.version, version: written.version, expiresOn };
    } catch (error) {
      let restored = true;
      if (passwordChanged && session && credential) {
        const previousPassword = credential;
        await session.setPassword(previousPassword.username, previousPassword.password).catch(() => {});
        // Restored means what applications see: the database accepts the previous version again.
        restored = await database.authenticates(previousPassword).catch(() => false);
      }
      this.log({ rotation: 'failed', secret: name, step, restored, error: describe(error) });
      await this.deps
        .announceFailure?.({ secretName: name, step, restored, error: describe(error), ...(previous ? { currentVersion: previous.version } : {}) })
        .catch((announcing: unknown) => this.log({ rotation: 'failure-not-announced', secret: name, error: describe(announcing) }));
      throw new RotationFailed(step, name, restored, { cause: error });
    } finally {
      await session?.close().catch(() => {});
    }
  }

  private skipReason(request: RotationRequest, current: StoredSecret): string | undefined {
    if (request.expectedVersion === undefined) return undefined;
    if (current.version.toLowerCase() === request.expectedVersion.toLowerCase()) return undefined;
    return `the event is about version ${request.expectedVersion}, the current version is another: rotated already`;
  }
}

function rotationPeriod(tags: Record<string, string>): number {
  const tag = tags[ROTATION_PERIOD_TAG];
  if (tag === undefined) return DEFAULT_ROTATION_PERIOD_SECONDS;
  const seconds = durationSeconds(tag);
  if (!seconds) throw new Error(`tag ${ROTATION_PERIOD_TAG} is not an ISO 8601 duration`);
  // SecretNearExpiry comes 30 days before exp: a version that lived no longer would be near its expiry
  // when made, and each rotation would trigger the next at once.
  if (seconds < MINIMUM_ROTATION_PERIOD_SECONDS)
    throw new Error(`tag ${ROTATION_PERIOD_TAG} is shorter than ${MINIMUM_ROTATION_PERIOD_SECONDS / 86_400} days`);
  return seconds;
}

/** An error's message for the log: it never carries a value (the rotator's own messages name none; pg's name the role at most). */
function describe(error: unknown): string {
  if (error instanceof Error) return error.message.slice(0, 300);
  return 'unknown error';
}
