export const terminalsPath = 'terminals';
/** create opens, remove closes; input and resize are custom methods. No find/get: ids are never listed. */
export const terminalsMethods = ['create', 'remove', 'input', 'resize'] as const;
/**
 * Events of a terminal, emitted ONLY on the socket that opened it (never through a channel):
 * `terminals output` {id, data} and `terminals exit` {id, code, signal}.
 */
export const terminalEvents = ['output', 'exit'] as const;

export interface TerminalOpened {
  id: string;
  /** The Unix identity the shell runs as, in words (the daemon user in simple mode). */
  runs_as: string;
}
