import { BadRequest, Conflict, FeathersError, Unprocessable } from '@feathersjs/errors';

/** A name, path or source given to the git module was refused before git ran (HTTP 400). */
export class ValidationError extends BadRequest {
  constructor(message: string) {
    super(message);
  }
}

/** The worktree has uncommitted or untracked changes and removal was not forced (HTTP 409). */
export class WorktreeDirtyError extends Conflict {
  constructor(
    message: string,
    readonly changedPaths: readonly string[],
  ) {
    super(message);
  }
}

/**
 * The daemon refuses to run git in a repository whose configuration could be changed by someone
 * other than the daemon user, or that pulls configuration in from elsewhere (HTTP 422). Git
 * configuration can name programs to run, so running git there would run their programs.
 */
export class UnsafeRepositoryError extends Unprocessable {
  constructor(message: string) {
    super(message);
  }
}

export interface GitFailure {
  /** `git <args>` as run, without the daemon's hardening flags and with URL credentials masked. */
  command: string;
  exitCode: number | null;
  signal: string | null;
  /** The last meaningful line git wrote to stderr, without its `fatal:`/`error:` prefix. */
  stderrLine: string;
  timedOut: boolean;
  timeoutMs?: number;
}

/** A git command failed, was killed, or timed out. `code` is the HTTP status (default 500). */
export class GitError extends FeathersError implements GitFailure {
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderrLine: string;
  readonly timedOut: boolean;

  constructor(failure: GitFailure, httpCode = 500, context?: string) {
    super(describeFailure(failure, context), 'GitError', httpCode, 'git-error', undefined);
    this.command = failure.command;
    this.exitCode = failure.exitCode;
    this.signal = failure.signal;
    this.stderrLine = failure.stderrLine;
    this.timedOut = failure.timedOut;
  }

  /** The same failure with a different status or leading context, e.g. a clone the user asked for. */
  withContext(context: string, httpCode = this.code): GitError {
    return new GitError(this, httpCode, context);
  }
}

function describeFailure(f: GitFailure, context?: string): string {
  const words = f.command.split(' ');
  const what = context ?? `${words[0]} ${words[1] ?? ''}`.trim();
  let why: string;
  if (f.timedOut) why = `it took longer than ${formatDuration(f.timeoutMs ?? 0)} and was stopped`;
  else if (f.signal) why = `it was killed by ${f.signal}`;
  else why = f.stderrLine || `it exited with code ${f.exitCode}`;
  const exit = f.exitCode !== null && !f.timedOut && f.stderrLine ? ` (exit code ${f.exitCode})` : '';
  return `${what} failed: ${why}${exit}`;
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  return `${Math.round(ms / 60_000)} minutes`;
}
