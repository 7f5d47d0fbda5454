/**
 * The PKCS#11 library and one logged-in session per token (docs/adr/0019-pkcs11-adapter.md, "Sessions").
 *
 * A library is loaded and initialised once per process and path (C_Initialize may run only once, and
 * with CKF_OS_LOCKING_OK because pkcs11js runs the *Async calls on libuv's threads). Each pool's token
 * gets one read/write session, logged in as the normal user once and reused by every call. PKCS#11
 * keeps an operation's state (C_SignInit then C_Sign) in the session, so the calls on one session run
 * one at a time, in order: `run` queues them. A session the library reports lost (closed, logged out,
 * token removed) is dropped, the call fails as a 503, and the next call opens and logs in a new one.
 * Login state belongs to the application and token, not to a session, so two adapters for the same
 * token share one TokenSession.
 */
import pkcs11js from 'pkcs11js';
import { hsmUnavailable, SESSION_LOST, ckrName } from './errors.ts';

export type Pkcs11Module = pkcs11js.PKCS11;
export type ObjectHandle = Buffer;

/** Where a pool's keys live: configuration only (the PIN from the environment or the deployment's secrets, never logged). */
export interface Pkcs11TokenConfig {
  /** The vendor's PKCS#11 library: CloudHSM's in AWS, /usr/lib/softhsm/libsofthsm2.so locally. */
  libraryPath: string;
  /** The token (slot) label of the pool's partition. */
  tokenLabel: string;
  /** The normal user's PIN (CloudHSM: crypto user `name:password`). */
  pin: string;
  /** The security officer's PIN, needed only to create the pool's trusted domain key. */
  soPin?: string;
}

/** A logged-in session, handed to one queued call at a time. */
export interface Pkcs11Session {
  module: Pkcs11Module;
  session: Buffer;
}

const libraries = new Map<string, Pkcs11Module>();
const tokens = new Map<string, TokenSession>();

/** The one TokenSession of this process for a library, token label and credentials. */
export function tokenSession(config: Pkcs11TokenConfig): TokenSession {
  const key = [config.libraryPath, config.tokenLabel, config.pin, config.soPin ?? ''].join('\0');
  let token = tokens.get(key);
  if (!token) {
    token = new TokenSession(config);
    tokens.set(key, token);
  }
  return token;
}

/** The library at `path`, loaded and initialised once for the process (its sessions and logins are shared by everything that uses it). */
export function pkcs11Library(path: string): Pkcs11Module {
  const loaded = libraries.get(path);
  if (loaded) return loaded;
  const module = new pkcs11js.PKCS11();
  try {
    module.load(path);
  } catch (error) {
    throw hsmUnavailable('the PKCS#11 library could not be loaded', error);
  }
  try {
    module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (ckrName(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw hsmUnavailable('the PKCS#11 library could not be initialised', error);
  }
  libraries.set(path, module);
  return module;
}

export class TokenSession {
  private current: Pkcs11Session | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Object handles are valid for as long as the session that found them: cleared with it. */
  readonly objects = new Map<string, unknown>();

  constructor(private readonly config: Pkcs11TokenConfig) {}

  /** Runs `work` on the logged-in session after every call queued before it. */
  run<T>(work: (session: Pkcs11Session) => Promise<T> | T): Promise<T> {
    const result = this.queue.then(async () => {
      const session = this.open();
      try {
        return await work(session);
      } catch (error) {
        // The adapter may have mapped the library's error already: its CKR value is then the cause.
        const name = ckrName(error) ?? ckrName((error as Error | undefined)?.cause);
        if (SESSION_LOST.has(name ?? '')) this.drop();
        throw error;
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Runs `work` logged in as the security officer instead of the user (the only way to create a
   * trusted key), then logs the user in again for the calls after it.
   */
  runAsSecurityOfficer<T>(work: (session: Pkcs11Session) => Promise<T> | T): Promise<T> {
    return this.run(async (session) => {
      const { soPin } = this.config;
      if (!soPin) throw hsmUnavailable("the pool's security officer PIN is not configured", undefined);
      const { module } = session;
      module.C_Logout(session.session);
      try {
        module.C_Login(session.session, pkcs11js.CKU_SO, soPin);
      } catch (error) {
        this.drop();
        throw hsmUnavailable('the security officer could not log in', new Error(ckrName(error) ?? 'login failed'));
      }
      try {
        return await work(session);
      } finally {
        this.drop();
      }
    });
  }

  private open(): Pkcs11Session {
    if (this.current) return this.current;
    const module = pkcs11Library(this.config.libraryPath);
    const slot = this.findSlot(module);
    let session: Buffer;
    try {
      session = module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    } catch (error) {
      throw hsmUnavailable(`no session could be opened on token '${this.config.tokenLabel}'`, error);
    }
    try {
      module.C_Login(session, pkcs11js.CKU_USER, this.config.pin);
    } catch (error) {
      const name = ckrName(error);
      if (name !== 'CKR_USER_ALREADY_LOGGED_IN') {
        module.C_CloseSession(session);
        // The cause is the CKR name alone: the library's message could echo more than we want in a log.
        throw hsmUnavailable(`the user could not log in to token '${this.config.tokenLabel}'`, new Error(name ?? 'login failed'));
      }
    }
    this.current = { module, session };
    return this.current;
  }

  private findSlot(module: Pkcs11Module): Buffer {
    let slots: Buffer[];
    try {
      slots = module.C_GetSlotList(true);
    } catch (error) {
      throw hsmUnavailable('the slot list could not be read', error);
    }
    for (const slot of slots) {
      if (module.C_GetTokenInfo(slot).label.trim() === this.config.tokenLabel) return slot;
    }
    throw hsmUnavailable(`no token is labelled '${this.config.tokenLabel}'`, undefined);
  }

  /** Forgets the session (closing it if it still exists) and every object handle found through it. */
  private drop(): void {
    const current = this.current;
    this.current = undefined;
    this.objects.clear();
    if (!current) return;
    try {
      current.module.C_CloseSession(current.session);
    } catch {
      // Already closed or the token is gone: nothing left to release.
    }
  }
}
