import { durationSeconds } from '../core/durations.ts';
import { BadParameter } from '../core/errors.ts';
import { LATEST_INT_DATE } from '../objects/schemas.ts';
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
 * A policy's duration, named by its field in the 400. It must end by the latest date the API carries
 * counted from now, as a date must: `expiryTime` P1000000Y would give rotated versions an `exp` no
 * client can read back, and a digit string long enough to be Infinity would poison every comparison.
 */
function policyDuration(field: string, duration: string, now: number): number {
  const seconds = durationSeconds(duration);
  if (seconds === undefined) throw new BadParameter(`${field} '${duration.slice(0, 40)}' is not an ISO-8601 duration such as P90D or P1Y.`);
  if (!(now + seconds <= LATEST_INT_DATE)) {
    throw new BadParameter(`${field} '${duration.slice(0, 40)}' is too long: counted from now it must end by 9999-12-31T23:59:59Z.`);
  }
  return seconds;
}

export function validateRotationPolicy(input: RotationPolicyInput, times: { created: number; updated: number }): RotationPolicy {
  const expiryTime = input.attributes?.expiryTime ?? undefined;
  const now = times.updated;
  const expirySeconds = expiryTime !== undefined ? policyDuration('expiryTime', expiryTime, now) : undefined;
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
    const afterSeconds = after !== undefined ? policyDuration('timeAfterCreate', after, now) : undefined;
    if (afterSeconds !== undefined && afterSeconds < 7 * DAY) throw new BadParameter('timeAfterCreate must be at least 7 days (P7D).');
    if (before !== undefined) {
      const seconds = policyDuration('timeBeforeExpiry', before, now);
      if (expirySeconds === undefined) throw new BadParameter('timeBeforeExpiry needs the policy attribute expiryTime.');
      if (seconds < 7 * DAY || seconds > expirySeconds - 7 * DAY) {
        throw new BadParameter('timeBeforeExpiry must be at least 7 days, and at least 7 days less than expiryTime.');
      }
    }
    if (afterSeconds !== undefined && expirySeconds !== undefined && afterSeconds > expirySeconds - 7 * DAY) {
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

/**
 * The exp a version made by rotation gets: now + the policy's expiryTime, if it has one. A policy
 * ended by the latest date when it was set, or stored before durations were bounded, is held to it.
 */
export function expiryFromPolicy(policy: RotationPolicy | undefined, now: number): number | undefined {
  const expiryTime = policy?.attributes.expiryTime;
  const seconds = expiryTime ? durationSeconds(expiryTime) : undefined;
  return seconds === undefined ? undefined : Math.min(now + seconds, LATEST_INT_DATE);
}
