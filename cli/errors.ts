// What the CLI prints when a command fails: one sentence a person can act on, and an exit code.
// Light on purpose (no Feathers, no config): main.ts loads it on every run.

/** An error to print as one line on stderr, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

interface RemoteError {
  name?: string;
  className?: string;
  message?: string;
  code?: number;
}

/**
 * The daemon's own sentence, without the Feathers class name ("NotAuthenticated:") or the
 * validation wrapper ("Invalid data: \"name\": ..." becomes "name: ...").
 */
function remoteMessage(e: RemoteError): string {
  const message = e.message ?? '';
  // The daemon's own sentences start with a capital; the JWT library's ("jwt expired", "invalid signature") do not.
  if (e.name === 'NotAuthenticated' && (/^[a-z]/.test(message) || message === 'No access token')) return 'Your login has expired or is no longer valid: run `agor login` again (or set AGOR_API_KEY)';
  if (e.name === 'Timeout') return 'The daemon did not answer in time; is it running? (agor daemon status)';
  const unwrapped = message.replace(/^Invalid (data|query): /, '').replace(/(^|; )"([^"]+)": /g, '$1$2: ');
  return unwrapped || e.name || 'The daemon refused the request';
}

/** One line on stderr a person can act on, and a non-zero exit code. */
export function describeError(error: unknown): { message: string; code: number } {
  if (error instanceof CliError) return { message: error.message, code: error.exitCode };
  const e = error as RemoteError & { cause?: { code?: string } };
  if (e?.name === 'ConfigError') return { message: e.message ?? 'Invalid configuration', code: 2 };
  if (e?.className) return { message: remoteMessage(e), code: 1 };
  // undici reports every network failure as "fetch failed", and the Feathers REST client drops its (non-enumerable) cause.
  if (e?.cause?.code === 'ECONNREFUSED' || e?.message === 'fetch failed') return { message: 'Cannot reach the daemon: is it running? (agor daemon start)', code: 1 };
  return { message: e?.message ?? String(error), code: 1 };
}
