import { BadParameter } from '../core/errors.ts';
import type { RotationPolicyInput } from './schemas.ts';

/**
 * Key rotation policies (reference §3): at most one Rotate and one Notify action, ISO-8601 durations,
 * and the Notify action the service adds when a PUT leaves it out.
 */
export interface LifetimeAction {
  trigger: { timeAfterCreate?: string; timeBeforeExpiry?: string };
  action: { type: 'Rotate' | 'Notify' };
}

export interface RotationPolicy {
  id?: string;
  lifetimeActions: LifetimeAction[];
  attributes: { expiryTime?: string; created?: number; updated?: number };
}

const DAY = 86_400;
const DEFAULT_NOTIFY: LifetimeAction = { trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } };

export function defaultRotationPolicy(): RotationPolicy {
  return { lifetimeActions: [DEFAULT_NOTIFY], attributes: {} };
}

/**
 * Seconds in an ISO-8601 duration (`P1Y2M10DT2H30M`, `P4W`). Calendar units are taken as Azure's
 * documentation counts them for rotation (a year 365 days, a month 30 days).
 */
function durationSeconds(duration: string): number {
  const match = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?!$)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(duration);
  if (!match) throw new BadParameter(`'${duration.slice(0, 40)}' is not an ISO-8601 duration such as P90D or P1Y.`);
  const [, y, mo, w, d, h, mi, s] = match.map((part) => Number(part ?? 0));
  return (y! * 365 + mo! * 30 + w! * 7 + d!) * DAY + h! * 3600 + mi! * 60 + s!;
}

export function validateRotationPolicy(input: RotationPolicyInput, times: { created: number; updated: number }): RotationPolicy {
  const expiryTime = input.attributes?.expiryTime ?? undefined;
  const expirySeconds = expiryTime !== undefined ? durationSeconds(expiryTime) : undefined;
  if (expirySeconds !== undefined && expirySeconds < 28 * DAY) throw new BadParameter("The policy's expiryTime must be at least 28 days (P28D).");
  const actions: LifetimeAction[] = [];
  for (const raw of input.lifetimeActions ?? []) {
    const type = (raw.action?.type ?? '').toLowerCase();
    if (type !== 'rotate' && type !== 'notify') throw new BadParameter("A lifetime action's type must be Rotate or Notify.");
    const after = raw.trigger?.timeAfterCreate ?? undefined;
    const before = raw.trigger?.timeBeforeExpiry ?? undefined;
    if ((after === undefined) === (before === undefined)) {
      throw new BadParameter('A lifetime action trigger has exactly one of timeAfterCreate and timeBeforeExpiry.');
    }
    if (type === 'notify' && after !== undefined) throw new BadParameter('A Notify action is triggered by timeBeforeExpiry only.');
    if (after !== undefined && durationSeconds(after) < 7 * DAY) throw new BadParameter('timeAfterCreate must be at least 7 days (P7D).');
    if (before !== undefined) {
      const seconds = durationSeconds(before);
      if (expirySeconds === undefined) throw new BadParameter('timeBeforeExpiry needs the policy attribute expiryTime.');
      if (seconds < 7 * DAY || seconds > expirySeconds - 7 * DAY) {
        throw new BadParameter('timeBeforeExpiry must be at least 7 days, and at least 7 days less than expiryTime.');
      }
    }
    if (after !== undefined && expirySeconds !== undefined && durationSeconds(after) > expirySeconds - 7 * DAY) {
      throw new BadParameter('timeAfterCreate must be at least 7 days less than expiryTime.');
    }
    const action: LifetimeAction = {
      trigger: after !== undefined ? { timeAfterCreate: after } : { timeBeforeExpiry: before! },
      action: { type: type === 'rotate' ? 'Rotate' : 'Notify' },
    };
    if (actions.some((a) => a.action.type === action.action.type)) {
      throw new BadParameter(`A policy holds at most one ${action.action.type} action.`);
    }
    actions.push(action);
  }
  if (!actions.some((a) => a.action.type === 'Notify')) actions.push(DEFAULT_NOTIFY);
  return {
    lifetimeActions: actions,
    attributes: { ...(expiryTime !== undefined ? { expiryTime } : {}), created: times.created, updated: times.updated },
  };
}

/** The exp a version made by rotation gets: now + the policy's expiryTime, if it has one. */
export function expiryFromPolicy(policy: RotationPolicy | undefined, now: number): number | undefined {
  const expiryTime = policy?.attributes.expiryTime;
  return expiryTime ? now + durationSeconds(expiryTime) : undefined;
}
