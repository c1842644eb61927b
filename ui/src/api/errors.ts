/**
 * A readable sentence for any error a call can throw: Feathers errors carry the daemon's own
 * message (written for users) and, for validation failures, one message per field.
 */
export function errorMessage(error: unknown): string {
  if (!error) return 'Unknown error';
  if (typeof error === 'string') return error;
  const e = error as { message?: string; name?: string; code?: number; data?: { errors?: Record<string, string> } };
  const fields = e.data?.errors;
  if (fields && typeof fields === 'object' && !e.message?.startsWith('Invalid')) {
    return `${e.message ?? 'Invalid input'}: ${Object.entries(fields).map(([k, v]) => `${k} ${v}`).join('; ')}`;
  }
  if (e.name === 'Timeout' || e.message?.includes('Timeout')) return 'The daemon did not answer in time; is it running?';
  if (e.message === 'xhr poll error' || e.message === 'websocket error') return 'Cannot reach the daemon';
  return e.message || e.name || 'Unknown error';
}
