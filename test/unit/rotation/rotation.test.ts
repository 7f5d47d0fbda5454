import { describe, expect, it } from 'vitest';
import { parseCredential } from '../../../lib/rotation/credential.ts';
import {
  type PasswordSession,
  PostgresPasswordRotator,
  type RoleDatabase,
  RotationFailed,
  type RotationFailure,
  type RotationLogEntry,
  type RotationSecretStore,
  type StoredSecret,
} from '../../../lib/rotation/rotation.ts';
import type { PostgresCredential } from '../../../lib/rotation/credential.ts';
import { ROTATION_FAILED_EVENT_TYPE, rotationFailedEvent } from '../../../lib/rotation/failure-event.ts';

const NOW = 1_800_000_000;

class FakeStore implements RotationSecretStore {
  versions = new Map<string, StoredSecret[]>();
  failAdd = false;
  loseAddAnswer = false;
  private counter = 0;

  put(name: string, value: string, tags: Record<string, string> = {}): StoredSecret {
    const secret: StoredSecret = { name, version: `v${++this.counter}`, value, tags, contentType: 'application/json' };
    this.versions.set(name, [...(this.versions.get(name) ?? []), secret]);
    return secret;
  }
  async current(name: string): Promise<StoredSecret> {
    const latest = this.versions.get(name)?.at(-1);
    if (!latest) throw new Error(`no secret ${name}`);
    return latest;
  }
  async addVersion(name: string, value: string, properties: { contentType?: string; expiresOn: Date; tags: Record<string, string> }) {
    if (this.failAdd) throw new Error('vault unavailable');
    const secret = { ...this.put(name, value, properties.tags), expiresOn: properties.expiresOn };
    this.versions.get(name)?.splice(-1, 1, secret);
    if (this.loseAddAnswer) throw new Error('socket hang up');
    return secret;
  }
}

class FakeDatabase implements RoleDatabase {
  passwords = new Map<string, string>();
  failSetPassword = false;
  /** The new password is set but logging in with it fails (a pg_hba rule, a replica lag). */
  refuseNewPasswords = false;
  changes = 0;
  private original = new Map<string, string>();
  private locks = new Map<string, Promise<void>>();

  addRole(role: string, password: string) {
    this.passwords.set(role, password);
    this.original.set(role, password);
  }
  async authenticates(credential: PostgresCredential): Promise<boolean> {
    const ok = this.passwords.get(credential.username) === credential.password;
    if (ok && this.refuseNewPasswords && this.original.get(credential.username) !== credential.password) return false;
    return ok;
  }
  async openSession(credential: PostgresCredential): Promise<PasswordSession> {
    if (!(await this.authenticates(credential))) throw Object.assign(new Error('password authentication failed'), { code: '28P01' });
    let held: { key: string; release: () => void } | undefined;
    return {
      lock: async (key) => {
        while (this.locks.has(key)) await this.locks.get(key);
        let release = () => {};
        this.locks.set(key, new Promise<void>((resolve) => (release = resolve)));
        held = { key, release };
      },
      setPassword: async (role, password) => {
        if (this.failSetPassword) throw new Error('permission denied to alter role');
        this.passwords.set(role, password);
        this.changes++;
      },
      close: async () => {
        if (!held) return;
        this.locks.delete(held.key);
        held.release();
      },
    };
  }
}

const credential = (password: string) => JSON.stringify({ host: '127.0.0.1', port: 5432, database: 'app', username: 'app_user', password });

interface Setup {
  store: FakeStore;
  database: FakeDatabase;
  rotator: PostgresPasswordRotator;
  first: StoredSecret;
  log: RotationLogEntry[];
}

function setup(tags: Record<string, string> = {}): Setup {
  const store = new FakeStore();
  const database = new FakeDatabase();
  database.addRole('app_user', 'first');
  const first = store.put('app-db', credential('first'), tags);
  const log: RotationLogEntry[] = [];
  let n = 0;
  const rotator = new PostgresPasswordRotator({
    store,
    database,
    now: () => NOW,
    generatePassword: () => `generated-${++n}`,
    log: (e) => log.push(e),
  });
  return { store, database, rotator, first, log };
}

describe('the PostgreSQL password rotator', () => {
  it('sets a new password, tests it, and writes it as the current version with the next expiry', async () => {
    const { store, database, rotator, first, log } = setup({ 'rotation-period': 'P60D', owner: 'orders' });
    const result = await rotator.rotate({ secretName: 'app-db', expectedVersion: first.version });
    expect(result).toMatchObject({ outcome: 'rotated', previousVersion: first.version, version: 'v2' });
    const current = await store.current('app-db');
    expect(parseCredential(current.value)).toEqual({ host: '127.0.0.1', port: 5432, database: 'app', username: 'app_user', password: 'generated-1' });
    expect(current.expiresOn?.getTime()).toBe((NOW + 60 * 86_400) * 1000);
    expect(current.tags).toEqual({ 'rotation-period': 'P60D', owner: 'orders' });
    expect(current.contentType).toBe('application/json');
    expect(database.passwords.get('app_user')).toBe('generated-1');
    expect(log).toEqual([
      { rotation: 'rotated', secret: 'app-db', previousVersion: 'v1', version: 'v2', expiresOn: new Date((NOW + 60 * 86_400) * 1000).toISOString() },
    ]);
    expect(JSON.stringify(log)).not.toContain('generated-1');
  });

  it('counts the expiry from the trigger time when the vault runs ahead of real time', async () => {
    const { store, rotator } = setup();
    await rotator.rotate({ secretName: 'app-db', at: NOW + 11 * 86_400 });
    expect((await store.current('app-db')).expiresOn?.getTime()).toBe((NOW + 101 * 86_400) * 1000);
  });

  it('refuses a rotation period that would make each new version near its expiry at once', async () => {
    const { store, database, rotator } = setup({ 'rotation-period': 'P30D' });
    await expect(rotator.rotate({ secretName: 'app-db' })).rejects.toMatchObject({ step: 'createSecret' });
    expect(database.changes).toBe(0);
    expect(store.versions.get('app-db')).toHaveLength(1);
  });

  it('gives each new version 90 days without a rotation-period tag', async () => {
    const { store, rotator } = setup();
    await rotator.rotate({ secretName: 'app-db' });
    expect((await store.current('app-db')).expiresOn?.getTime()).toBe((NOW + 90 * 86_400) * 1000);
  });

  it('rotates once for the same event delivered twice, and twice in a row at once', async () => {
    const { store, database, rotator, first } = setup();
    const [a, b] = await Promise.all([
      rotator.rotate({ secretName: 'app-db', expectedVersion: first.version }),
      rotator.rotate({ secretName: 'app-db', expectedVersion: first.version }),
    ]);
    expect([a.outcome, b.outcome].sort()).toEqual(['rotated', 'skipped']);
    const again = await rotator.rotate({ secretName: 'app-db', expectedVersion: first.version });
    expect(again).toMatchObject({ outcome: 'skipped', currentVersion: 'v2' });
    expect(store.versions.get('app-db')).toHaveLength(2);
    expect(database.changes).toBe(1);
  });

  it.each([
    [
      'setSecret',
      (s: Setup): void => {
        s.database.failSetPassword = true;
      },
    ],
    [
      'testSecret',
      (s: Setup): void => {
        s.database.refuseNewPasswords = true;
      },
    ],
    [
      'finishSecret',
      (s: Setup): void => {
        s.store.failAdd = true;
      },
    ],
  ] as const)('a failure at %s leaves the previous version current and the database accepting it', async (step, inject) => {
    const s = setup();
    inject(s);
    const failure = await s.rotator.rotate({ secretName: 'app-db', expectedVersion: s.first.version }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RotationFailed);
    expect(failure).toMatchObject({ step, restored: true });
    expect((await s.store.current('app-db')).version).toBe(s.first.version);
    expect(s.database.passwords.get('app_user')).toBe('first');
    expect(s.log).toEqual([expect.objectContaining({ rotation: 'failed', secret: 'app-db', step, restored: true })]);
  });

  it('a failure at createSecret changes nothing', async () => {
    const s = setup();
    s.store.put('app-db', 'not json');
    await expect(s.rotator.rotate({ secretName: 'app-db' })).rejects.toMatchObject({ step: 'createSecret' });
    expect(s.database.changes).toBe(0);
    expect(s.store.versions.get('app-db')).toHaveLength(2);
  });

  it('takes a write whose answer was lost as done when the vault has it', async () => {
    const s = setup();
    s.store.loseAddAnswer = true;
    const result = await s.rotator.rotate({ secretName: 'app-db' });
    expect(result.outcome).toBe('rotated');
    expect(s.database.passwords.get('app_user')).toBe('generated-1');
  });

  it('changes the password with the admin credential the rotation-admin-secret tag names', async () => {
    const s = setup({ 'rotation-admin-secret': 'db-admin' });
    s.database.addRole('postgres_admin', 'admin-pass');
    s.store.put('db-admin', JSON.stringify({ host: '127.0.0.1', port: 5432, database: 'app', username: 'postgres_admin', password: 'admin-pass' }));
    await s.rotator.rotate({ secretName: 'app-db' });
    expect(s.database.passwords.get('app_user')).toBe('generated-1');
    expect(s.database.passwords.get('postgres_admin')).toBe('admin-pass');
  });

  it('refuses to rotate when the current version does not log in', async () => {
    const s = setup();
    s.database.passwords.set('app_user', 'changed-elsewhere');
    await expect(s.rotator.rotate({ secretName: 'app-db' })).rejects.toMatchObject({ step: 'createSecret' });
    expect(s.store.versions.get('app-db')).toHaveLength(1);
  });
});

describe('a failed rotation’s event', () => {
  function failing(announceFailure: (failure: RotationFailure) => Promise<void>) {
    const store = new FakeStore();
    const database = new FakeDatabase();
    database.addRole('app_user', 'first');
    database.refuseNewPasswords = true;
    const first = store.put('app-db', credential('first'));
    const log: RotationLogEntry[] = [];
    const rotator = new PostgresPasswordRotator({
      store,
      database,
      now: () => NOW,
      generatePassword: () => 'generated',
      log: (e) => log.push(e),
      announceFailure,
    });
    return { rotator, first, log };
  }

  it('is announced once per failed attempt, after the previous password was restored, naming the step and the version that stays current', async () => {
    const announced: RotationFailure[] = [];
    const { rotator, first } = failing(async (failure) => {
      announced.push(failure);
    });
    await expect(rotator.rotate({ secretName: 'app-db' })).rejects.toBeInstanceOf(RotationFailed);
    expect(announced).toEqual([
      { secretName: 'app-db', step: 'testSecret', restored: true, error: 'the new password does not log in', currentVersion: first.version },
    ]);
    expect(JSON.stringify(announced)).not.toMatch(/generated|first"/);
  });

  it('that cannot be announced is logged, and the rotation’s own failure is what the caller gets', async () => {
    const { rotator, log } = failing(async () => {
      throw new Error('the bus is unavailable');
    });
    await expect(rotator.rotate({ secretName: 'app-db' })).rejects.toMatchObject({ name: 'RotationFailed', step: 'testSecret' });
    expect(log.map((e) => e.rotation)).toEqual(['failed', 'failure-not-announced']);
  });

  it('is in the Event Grid schema under the rotator’s own type, and carries no value', () => {
    const event = rotationFailedEvent(
      'https://vault.example',
      { secretName: 'app-db', step: 'setSecret', restored: true, error: 'permission denied', currentVersion: 'v1' },
      new Date(NOW * 1000),
    );
    expect(event).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      topic: 'https://vault.example',
      subject: 'app-db',
      eventType: ROTATION_FAILED_EVENT_TYPE,
      eventTime: new Date(NOW * 1000).toISOString(),
      data: { VaultUrl: 'https://vault.example', ObjectName: 'app-db', Version: 'v1', Step: 'setSecret', Restored: true, Error: 'permission denied' },
      dataVersion: '1',
      metadataVersion: '1',
    });
    expect(ROTATION_FAILED_EVENT_TYPE).toBe('Coffer.Rotation.SecretRotationFailed');
  });
});
