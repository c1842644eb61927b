/** Exit codes of commands that wait for a task (`agor prompt --wait`); listed in their --help. */
export const EXIT = {
  completed: 0,
  /** The command itself failed: bad session, not logged in, daemon unreachable or gone. */
  error: 1,
  failed: 3,
  /** Stopped while running, or cancelled while queued. */
  stopped: 4,
  /** You stopped waiting (Ctrl-C, SIGTERM); the task goes on. */
  detached: 130,
} as const;

export const EXIT_CODES_HELP = `
Exit codes with --wait:
  ${EXIT.completed}    the task completed
  ${EXIT.error}    the prompt could not be sent or followed (bad session, not logged in, daemon gone)
  ${EXIT.failed}    the task failed (the agent exited non-zero or reported an error)
  ${EXIT.stopped}    the task was stopped (or cancelled before it ran)
  ${EXIT.detached}  you stopped waiting; the task goes on

Ctrl-C while waiting, on a terminal: asks whether to stop the task, keep waiting, or detach.
Without a terminal (scripts), SIGINT and SIGTERM detach: the task goes on (stop it with agor task stop).`;
