import { eventBridgeError } from './errors.ts';

/**
 * EventBridge event patterns, the part of their language Coffer's subscriptions use: exact values
 * (strings, numbers, booleans, null), `prefix`, `suffix` and `equals-ignore-case`, and `prefix` or
 * `suffix` with `equals-ignore-case`, on any field (source, detail-type, resources, detail.*). A
 * pattern using anything else (anything-but, numeric, exists, cidr, wildcard, $or) is refused with
 * InvalidEventPatternException rather than matched differently from AWS.
 *
 * Matching as EventBridge defines it: every field the pattern names must match; a field's value
 * matches if it equals one of the listed values, or, for an array in the event, if any element does.
 */
type Matcher =
  | { kind: 'exact'; value: string | number | boolean | null }
  | { kind: 'prefix' | 'suffix'; value: string; ignoreCase: boolean }
  | { kind: 'equals-ignore-case'; value: string };

export type EventPattern = { [field: string]: EventPattern | Matcher[] };

const MAX_PATTERN_LENGTH = 4096;

function invalid(reason: string): Error {
  return eventBridgeError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${reason}`);
}

/** Parses and checks a rule's EventPattern text; throws InvalidEventPatternException as PutRule does. */
export function parseEventPattern(text: string): EventPattern {
  if (text.length > MAX_PATTERN_LENGTH) throw invalid(`the pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('Filter is not valid JSON');
  }
  if (!isObject(parsed)) throw invalid('Filter is not an object');
  const pattern = parseFields(parsed, '');
  if (Object.keys(pattern).length === 0) throw invalid('Empty objects are not allowed');
  return pattern;
}

function parseFields(object: Record<string, unknown>, path: string): EventPattern {
  const pattern: EventPattern = {};
  for (const [field, value] of Object.entries(object)) {
    const where = `${path}${field}`;
    if (field.startsWith('$')) throw invalid(`"${where}": the local EventBridge does not support ${field}`);
    if (Array.isArray(value)) {
      if (value.length === 0) throw invalid(`Empty arrays are not allowed at "${where}"`);
      pattern[field] = value.map((entry) => parseMatcher(entry, where));
    } else if (isObject(value)) {
      const nested = parseFields(value, `${where}.`);
      if (Object.keys(nested).length === 0) throw invalid(`Empty objects are not allowed at "${where}"`);
      pattern[field] = nested;
    } else {
      throw invalid(`"${where}" must be an object or an array`);
    }
  }
  return pattern;
}

function parseMatcher(entry: unknown, where: string): Matcher {
  if (entry === null || typeof entry === 'string' || typeof entry === 'number' || typeof entry === 'boolean') return { kind: 'exact', value: entry };
  if (!isObject(entry)) throw invalid(`Match value at "${where}" must be a string, number, boolean, null or object`);
  const keys = Object.keys(entry);
  if (keys.length !== 1) throw invalid(`Only one key allowed in match expression at "${where}"`);
  const key = keys[0]!;
  const value = entry[key];
  if (key === 'equals-ignore-case') {
    if (typeof value !== 'string') throw invalid(`equals-ignore-case match pattern must be a string at "${where}"`);
    return { kind: key, value };
  }
  if (key === 'prefix' || key === 'suffix') {
    if (typeof value === 'string') return { kind: key, value, ignoreCase: false };
    if (isObject(value) && Object.keys(value).length === 1 && typeof value['equals-ignore-case'] === 'string') {
      return { kind: key, value: value['equals-ignore-case'], ignoreCase: true };
    }
    throw invalid(`${key} match pattern must be a string or an equals-ignore-case object at "${where}"`);
  }
  throw invalid(`Unrecognized match type ${key} at "${where}" (the local EventBridge supports exact values, prefix, suffix and equals-ignore-case)`);
}

/** Whether `event` (the EventBridge event: version, id, detail-type, source, account, time, region, resources, detail) matches. */
export function matchesPattern(pattern: EventPattern, event: Record<string, unknown>): boolean {
  for (const [field, expected] of Object.entries(pattern)) {
    const actual = event[field];
    if (Array.isArray(expected)) {
      if (actual === undefined) return false;
      const values = Array.isArray(actual) ? actual : [actual];
      if (!values.some((value) => expected.some((matcher) => matches(matcher, value)))) return false;
    } else {
      if (Array.isArray(actual)) {
        if (!actual.some((element) => isObject(element) && matchesPattern(expected, element))) return false;
      } else if (!isObject(actual) || !matchesPattern(expected, actual)) return false;
    }
  }
  return true;
}

function matches(matcher: Matcher, value: unknown): boolean {
  switch (matcher.kind) {
    case 'exact':
      return value === matcher.value;
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === matcher.value.toLowerCase();
    case 'prefix':
    case 'suffix': {
      if (typeof value !== 'string') return false;
      const subject = matcher.ignoreCase ? value.toLowerCase() : value;
      const part = matcher.ignoreCase ? matcher.value.toLowerCase() : matcher.value;
      return matcher.kind === 'prefix' ? subject.startsWith(part) : subject.endsWith(part);
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
