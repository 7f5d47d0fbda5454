import * as z from 'zod/mini';
import { BadParameter } from '../core/errors.ts';

/**
 * zod validation with Azure-style 400s. The message names the offending field and what was expected,
 * never the value it received: a wrong-typed field may still hold a secret.
 */
export function validate<T>(schema: z.core.$ZodType<T>, input: unknown): T {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw new BadParameter(`Invalid value for '${path}': ${describeIssue(issue)}`);
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'the value is invalid.';
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}.`;
    case 'too_big':
      return `the value is too large (maximum ${String(issue.maximum)}).`;
    case 'too_small':
      return `the value is too small (minimum ${String(issue.minimum)}).`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}.`;
    case 'unrecognized_keys':
      return `unknown properties ${issue.keys.join(', ')}.`;
    default:
      return 'the value is invalid.';
  }
}
