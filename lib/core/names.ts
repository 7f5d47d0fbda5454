import { BadParameter } from './errors.ts';

/**
 * Object names (reference §0): the rule the domains apply and the route table's path-parameter
 * schemas check, with one message, so a bad name gets the same 400 wherever it is caught first.
 */
export const OBJECT_NAME = /^[0-9a-zA-Z-]{1,127}$/;

/** `kind` as the message says it: `secret`, `key`, `certificate`. */
export function invalidObjectNameMessage(kind: string, name: string): string {
  return `The ${kind} name '${printable(name)}' is invalid: names are 1 to 127 characters of 0-9, a-z, A-Z and '-'.`;
}

export function assertObjectName(kind: string, name: string): void {
  if (!OBJECT_NAME.test(name)) throw new BadParameter(invalidObjectNameMessage(kind, name));
}

/**
 * Object versions: the 32 hex characters this vault issues, or empty for the latest. Checked by the
 * route table and again by the domain, with one message, so nothing else reaches a store.
 */
export const VERSION_ID = /^[0-9a-fA-F]{32}$/;
export const VERSION_OR_EMPTY = /^(?:[0-9a-fA-F]{32})?$/;

export function invalidVersionMessage(kind: string): string {
  return `The ${kind} version is invalid: a version is 32 hexadecimal characters.`;
}

/** Names echoed in messages are clipped and stripped of control characters. */
export function printable(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 130 ? `${clean.slice(0, 127)}...` : clean;
}
