import { eventBridgeError } from './errors.ts';

/**
 * What a target receives of an event: the whole event, `Input` (fixed JSON text), `InputPath` (a
 * part of the event) or `InputTransformer` (InputPathsMap's values substituted into InputTemplate),
 * as EventBridge defines them. A placeholder inside a JSON string gets the value's text (escaped for
 * JSON); outside one it gets the value as JSON, so `{"id": <id>}` yields `{"id": "abc"}` and
 * `[<detail>]` an array holding the detail object. A path that is not in the event yields null
 * (or nothing inside a string). The predefined `<aws.events.*>` variables are supported.
 */
export interface InputTransformer {
  InputPathsMap?: Record<string, string>;
  InputTemplate: string;
}

export interface TargetInput {
  Input?: string;
  InputPath?: string;
  InputTransformer?: InputTransformer;
}

const PATH = /^\$(?:\.[A-Za-z0-9_@-]+|\[\d+\])*$/;
const PLACEHOLDER = /<([A-Za-z0-9_.-]+)>/g;
const VARIABLE_NAME = /^[A-Za-z0-9_-]+$/;
const PREDEFINED = new Set([
  'aws.events.rule-arn',
  'aws.events.rule-name',
  'aws.events.event.ingestion-time',
  'aws.events.event',
  'aws.events.event.json',
]);

/** Checks a target's input settings as PutTargets does; throws ValidationException. */
export function checkTargetInput(input: TargetInput, targetId: string): void {
  const given = [input.Input, input.InputPath, input.InputTransformer].filter((value) => value !== undefined).length;
  if (given > 1) throw eventBridgeError('ValidationException', `Target ${targetId}: only one of Input, InputPath and InputTransformer may be set.`);
  if (input.Input !== undefined) {
    try {
      JSON.parse(input.Input);
    } catch {
      throw eventBridgeError('ValidationException', `Target ${targetId}: Input is not valid JSON.`);
    }
  }
  if (input.InputPath !== undefined && !PATH.test(input.InputPath)) {
    throw eventBridgeError('ValidationException', `Target ${targetId}: InputPath ${input.InputPath} is not a valid JSON path.`);
  }
  const transformer = input.InputTransformer;
  if (transformer === undefined) return;
  if (typeof transformer.InputTemplate !== 'string' || transformer.InputTemplate.length === 0) {
    throw eventBridgeError('ValidationException', `Target ${targetId}: InputTransformer requires an InputTemplate.`);
  }
  const paths = transformer.InputPathsMap ?? {};
  if (Object.keys(paths).length > 100) throw eventBridgeError('ValidationException', `Target ${targetId}: InputPathsMap has more than 100 entries.`);
  for (const [name, path] of Object.entries(paths)) {
    if (!VARIABLE_NAME.test(name) || name.startsWith('aws.')) {
      throw eventBridgeError('ValidationException', `Target ${targetId}: InputPathsMap key ${name} is not a valid variable name.`);
    }
    if (typeof path !== 'string' || !PATH.test(path))
      throw eventBridgeError('ValidationException', `Target ${targetId}: ${path} is not a valid JSON path.`);
  }
  for (const [, name] of transformer.InputTemplate.matchAll(PLACEHOLDER)) {
    if (!(name! in paths) && !PREDEFINED.has(name!)) {
      throw eventBridgeError('ValidationException', `Target ${targetId}: InputTemplate uses <${name}>, which InputPathsMap does not define.`);
    }
  }
}

export interface EventContext {
  event: Record<string, unknown>;
  ruleArn: string;
  ruleName: string;
}

/** The body a target is sent for `context.event`. */
export function targetBody(input: TargetInput, context: EventContext): string {
  if (input.Input !== undefined) return input.Input;
  if (input.InputPath !== undefined) return JSON.stringify(select(context.event, input.InputPath) ?? null);
  if (input.InputTransformer === undefined) return JSON.stringify(context.event);
  const values: Record<string, unknown> = {
    'aws.events.rule-arn': context.ruleArn,
    'aws.events.rule-name': context.ruleName,
    'aws.events.event.ingestion-time': context.event.time,
    'aws.events.event': context.event,
    'aws.events.event.json': context.event,
  };
  for (const [name, path] of Object.entries(input.InputTransformer.InputPathsMap ?? {})) values[name] = select(context.event, path);
  return substitute(input.InputTransformer.InputTemplate, values);
}

function substitute(template: string, values: Record<string, unknown>): string {
  let out = '';
  let inString = false;
  // Sticky, and its own: the shared global expression keeps a position between uses.
  const placeholder = new RegExp(PLACEHOLDER.source, 'y');
  for (let i = 0; i < template.length; i++) {
    const char = template[i]!;
    if (char === '<') {
      placeholder.lastIndex = i;
      const match = placeholder.exec(template);
      if (match && Object.hasOwn(values, match[1]!)) {
        const value = values[match[1]!];
        if (inString)
          out += value === undefined || value === null ? '' : JSON.stringify(typeof value === 'string' ? value : JSON.stringify(value)).slice(1, -1);
        else out += JSON.stringify(value ?? null);
        i += match[0].length - 1;
        continue;
      }
    }
    if (char === '"' && !escaped(template, i)) inString = !inString;
    out += char;
  }
  return out;
}

function escaped(text: string, index: number): boolean {
  let backslashes = 0;
  for (let i = index - 1; i >= 0 && text[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}

function select(event: unknown, path: string): unknown {
  let current: unknown = event;
  for (const [, field, index] of path.slice(1).matchAll(/\.([A-Za-z0-9_@-]+)|\[(\d+)\]/g)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = field !== undefined ? (current as Record<string, unknown>)[field] : (current as unknown[])[Number(index)];
  }
  return current;
}
