import { BadRequest } from '@feathersjs/errors';
import type { z } from 'zod';

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_value') return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return issue.message;
}

/**
 * Validates external input (service data, queries) with a zod schema. A failure is a 400 that
 * names each offending field, so the caller knows what to fix; nothing has been changed yet.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'data'): z.output<S> {
  // A missing body is refused as such: no service turns it into defaults that act.
  if (input === undefined && what === 'data') throw new BadRequest('This call needs a JSON object as its body (data); none was sent');
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const field = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(',') : what);
    errors[field] = describe(issue);
  }
  const summary = Object.entries(errors)
    .map(([field, message]) => `"${field}": ${message}`)
    .join('; ');
  throw new BadRequest(`Invalid ${what}: ${summary}`, { errors });
}
