// agor-priv's failures: one stable exit code and one stable code name per kind of failure, so the
// daemon can tell "you asked for something forbidden" from "the installation is broken".
export const EXIT_CODES = {
  usage: 64, // argv is malformed (EX_USAGE)
  refused: 65, // a name, path, identity or file failed validation (EX_DATAERR)
  config: 66, // /etc/agor/priv.yaml or agor-priv's own files are missing, malformed or not root-owned
  unavailable: 69, // a system tool is missing or failed (EX_UNAVAILABLE)
  internal: 70, // a bug (EX_SOFTWARE)
} as const;

export type PrivCode = keyof typeof EXIT_CODES;

export class PrivError extends Error {
  constructor(
    readonly code: PrivCode,
    message: string,
  ) {
    super(message);
    this.name = 'PrivError';
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export const usage = (message: string): PrivError => new PrivError('usage', message);
export const refused = (message: string): PrivError => new PrivError('refused', message);
export const configError = (message: string): PrivError => new PrivError('config', message);
export const unavailable = (message: string): PrivError => new PrivError('unavailable', message);

/** A value quoted for a one-line message: JSON escapes control characters; long values are cut. */
export function quote(value: string, max = 80): string {
  const shown = value.length > max ? `${value.slice(0, max)}...` : value;
  return JSON.stringify(shown);
}

/** The single stderr line for a failure. Never more than one line, whatever the message holds. */
export function failureLine(error: unknown): { line: string; exitCode: number } {
  const e = error instanceof PrivError ? error : new PrivError('internal', error instanceof Error ? error.message : String(error));
  const message = e.message.replace(/[\r\n\t]+/g, ' ').slice(0, 1000);
  return { line: `agor-priv: ${e.code}: ${message}\n`, exitCode: e.exitCode };
}
