export { errorMessage as errorText } from '../api/errors';

/** Field messages of a 400 ("errors": {"password": "must be at least 8 characters"}), for antd forms. */
export function fieldErrors(error: unknown): { name: string; errors: string[] }[] {
  const errors = (error as { data?: { errors?: unknown } } | null)?.data?.errors;
  if (!errors || typeof errors !== 'object') return [];
  return Object.entries(errors as Record<string, unknown>)
    .filter(([, v]) => typeof v === 'string')
    .map(([name, v]) => ({ name, errors: [v as string] }));
}
