import { chmod, rename, writeFile } from 'node:fs/promises';
import { BadParameter, MethodNotAllowed, NotFound, VaultError } from '#lib/core/errors';
import type { Principal } from '#lib/auth/principal';
import type { Authenticator } from '#lib/http/services';
import { ALL_VAULTS, type OffsetsDocument, offsetOf, readOffsetsFile } from '#lib/runtime/clock-offsets';
import { poolObjectsPrefix } from '#lib/hsm/pools';
import { VAULT_NAME } from '#lib/vaults/vault';

/**
 * The local stack's time shift (`/_coffer/time` on the local gateway): moves a vault's clock, or
 * every vault's (`*`), forward so that object dates, expiry, rotation, events and purge happen as if
 * that much time had passed there, then runs the scheduled work at once. Token lifetimes keep real
 * time. The offsets go to the file the services read their clock from (lib/runtime/clock-offsets.ts),
 * so the handlers in this process see them at their next reading and a restart keeps them. Only the
 * local administrator may use it, with a management-plane token verified as the functions verify
 * tokens. It exists only where the configuration names the offsets file, which no deployment does.
 */
const TIME_SHIFT_PATH = '/_coffer/time';
/** Everything under it is the local gateway's own; nothing here is a route of the route table. */
const LOCAL_PREFIX = '/_coffer';

/** One advance moves a clock at most this far: ten years of 365 days. */
const MAX_ADVANCE_SECONDS = 10 * 365 * 86_400;
/** A clock never goes further than a century ahead, far inside the dates Key Vault accepts. */
const MAX_OFFSET_SECONDS = 10 * MAX_ADVANCE_SECONDS;

export interface TimeShiftSettings {
  /** config.ts `clockOffsetsFile`: without it there is no time shift. */
  offsetsFile: string | undefined;
  authenticator: Authenticator;
  /** The local administrator (config.ts `tenantAdministrators`): the only principals it answers. */
  administrators: readonly { tenantId: string; objectId: string }[];
  /** Whether the stack has the vault, live or deleted (a deleted vault's clock moves towards its purge). */
  vaultExists: (name: string) => Promise<boolean>;
  /** Whether the stack has the managed HSM pool, live or deleted (its clock is its keys' clock, `mhsm#<pool>`: docs/adr/0020). */
  poolExists?: (name: string) => Promise<boolean>;
  /**
   * Runs the scheduler once and resolves when its work is done (dev/scheduler-timer.ts): called after
   * every advance, so the work the advance made due is done when the answer comes. Absent, an advance
   * only moves the clocks, and its answer says so (`scheduledWorkRan: false`).
   */
  runScheduledWork?: () => Promise<void>;
  now?: () => number;
}

export interface TimeShiftRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: Buffer;
}

/** What a request turned out to be about, as far as it got: for its audit record, refused or not. */
export interface TimeShiftSeen {
  operation?: 'TimeShiftAdvance' | 'TimeShiftList';
  principal?: Principal;
  /** The vault (lower case) or `*` an advance named. */
  vault?: string;
}

/** Whether the path is the local gateway's own (`/_coffer...`), which it answers itself. */
export function isLocalControlPath(path: string): boolean {
  return path === LOCAL_PREFIX || path.startsWith(`${LOCAL_PREFIX}/`);
}

/** The answer to a `/_coffer...` request: a JSON body, or a VaultError in Azure's shape. */
export async function answerTimeShift(
  settings: TimeShiftSettings & { offsetsFile: string },
  request: TimeShiftRequest,
  seen: TimeShiftSeen = {},
): Promise<unknown> {
  if (request.path !== TIME_SHIFT_PATH) throw new NotFound('NotFound', 'The requested resource was not found.');
  if (request.method !== 'GET' && request.method !== 'POST') throw new MethodNotAllowed(request.method);
  seen.operation = request.method === 'GET' ? 'TimeShiftList' : 'TimeShiftAdvance';
  const principal = await settings.authenticator.authenticate(request.authorization, undefined, 'management');
  seen.principal = principal;
  const administrator = settings.administrators.some(
    (admin) => admin.tenantId.toLowerCase() === principal.tenantId.toLowerCase() && admin.objectId.toLowerCase() === principal.objectId.toLowerCase(),
  );
  if (!administrator) {
    throw new VaultError(
      403,
      'AuthorizationFailed',
      `The client with object id '${principal.objectId}' is not the local administrator, the only caller the time shift accepts.`,
    );
  }
  const now = settings.now ?? (() => Math.floor(Date.now() / 1000));
  if (request.method === 'GET') return listing(readOffsetsFile(settings.offsetsFile), now());
  const { vault, pool, advanceSeconds } = parseAdvance(request.body);
  seen.vault = vault;
  if (pool !== undefined) {
    if (!(await settings.poolExists?.(pool))) throw new NotFound('ManagedHsmNotFound', `The managed HSM pool '${pool}' was not found.`);
  } else if (vault !== ALL_VAULTS && !(await settings.vaultExists(vault))) {
    throw new NotFound('VaultNotFound', `The vault '${vault}' was not found.`);
  }
  const offsets = await advance(settings.offsetsFile, vault, advanceSeconds);
  let scheduledWorkRan = false;
  if (settings.runScheduledWork) {
    try {
      await settings.runScheduledWork();
      scheduledWorkRan = true;
    } catch (error) {
      console.error('time shift: the scheduled work failed', error instanceof Error ? error.message : String(error));
      throw new VaultError(500, 'InternalError', 'The clock moved, but the scheduled work it made due failed; the gateway log says why.');
    }
  }
  return { ...entry(offsets, vault, now()), scheduledWorkRan };
}

/**
 * `{"vault": "<name or *>", "advanceSeconds": N}`, or `{"managedHsm": "<pool>", ...}` for a pool, whose
 * clock is the one its keys read (their partition prefix `MHSM#<pool>`, lower-cased as every offset's
 * name: `vault` is then that name). Nothing else; each refusal says what is wrong.
 */
function parseAdvance(body: Buffer): { vault: string; pool?: string; advanceSeconds: number } {
  const shape =
    'The request body must be a JSON object {"vault": "<vault name or *>", "advanceSeconds": <whole seconds>} or {"managedHsm": "<pool name>", "advanceSeconds": <whole seconds>}.';
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadParameter(`${shape} It is not valid JSON.`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadParameter(shape);
  const fields = parsed as Record<string, unknown>;
  const unknown = Object.keys(fields).find((name) => name !== 'vault' && name !== 'managedHsm' && name !== 'advanceSeconds');
  if (unknown !== undefined) throw new BadParameter(`The property '${unknown.slice(0, 64)}' is not accepted. ${shape}`);
  const { managedHsm, advanceSeconds } = fields;
  if (managedHsm !== undefined && fields.vault !== undefined) throw new BadParameter(`Name either 'vault' or 'managedHsm', not both. ${shape}`);
  if (managedHsm !== undefined && (typeof managedHsm !== 'string' || !VAULT_NAME.test(managedHsm))) {
    throw new BadParameter(`The value '${String(managedHsm).slice(0, 64)}' of 'managedHsm' is not a managed HSM pool name.`);
  }
  const pool = typeof managedHsm === 'string' ? managedHsm.toLowerCase() : undefined;
  const vault = pool !== undefined ? poolObjectsPrefix(pool).toLowerCase() : fields.vault;
  if (typeof vault !== 'string') throw new BadParameter(`The property 'vault' is required: a vault name, or * for every vault.`);
  if (pool === undefined && vault !== ALL_VAULTS && !VAULT_NAME.test(vault))
    throw new BadParameter(`The value '${vault.slice(0, 64)}' of 'vault' is not a vault name, nor *.`);
  if (advanceSeconds === undefined) throw new BadParameter(`The property 'advanceSeconds' is required: the whole seconds to move the clock forward.`);
  if (typeof advanceSeconds !== 'number' || !Number.isInteger(advanceSeconds)) {
    throw new BadParameter(`The property 'advanceSeconds' must be a whole number of seconds.`);
  }
  if (advanceSeconds <= 0) throw new BadParameter(`The property 'advanceSeconds' must be positive: a clock only moves forward.`);
  if (advanceSeconds > MAX_ADVANCE_SECONDS) {
    throw new BadParameter(`The property 'advanceSeconds' must be at most ${MAX_ADVANCE_SECONDS} (ten years).`);
  }
  return { vault: vault.toLowerCase(), ...(pool !== undefined ? { pool } : {}), advanceSeconds };
}

/** One advance at a time: each reads the file the one before wrote. */
let writing: Promise<unknown> = Promise.resolve();

/** Adds the seconds to the vault's offset and writes the file anew (a rename, which every reader notices). */
function advance(file: string, vault: string, seconds: number): Promise<Record<string, number>> {
  const step = writing.then(async () => {
    const offsets = { ...readOffsetsFile(file) };
    offsets[vault] = (offsets[vault] ?? 0) + seconds;
    const furthest = Math.max(0, ...Object.entries(offsets).map(([name, offset]) => (name === ALL_VAULTS ? 0 : offset))) + (offsets[ALL_VAULTS] ?? 0);
    if (furthest > MAX_OFFSET_SECONDS) {
      throw new BadParameter(`A vault's clock may be at most ${MAX_OFFSET_SECONDS} seconds (a century) ahead; this advance would move one further.`);
    }
    const document: OffsetsDocument = { offsets };
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, file);
    return offsets;
  });
  writing = step.catch(() => undefined);
  return step;
}

function entry(offsets: Record<string, number>, vault: string, now: number) {
  const offsetSeconds = vault === ALL_VAULTS ? (offsets[ALL_VAULTS] ?? 0) : offsetOf(offsets, vault);
  return { vault, offsetSeconds, time: new Date((now + offsetSeconds) * 1000).toISOString() };
}

/** Every vault with an offset of its own, and `*`: each with its whole offset (its own plus `*`) and its current time. */
function listing(offsets: Record<string, number>, now: number) {
  const names = Object.keys(offsets)
    .filter((name) => name !== ALL_VAULTS)
    .sort();
  return {
    realTime: new Date(now * 1000).toISOString(),
    value: [entry(offsets, ALL_VAULTS, now), ...names.map((name) => entry(offsets, name, now))],
  };
}
