export const terminalsPath = 'terminals';
/** create opens, remove closes; input and resize are custom methods. No find/get: ids are never listed. */
export const terminalsMethods = ['create', 'remove', 'input', 'resize'] as const;
/**
 * THE events of a terminal, emitted ONLY on the socket that opened it (never through a channel). A
 * Feathers client hears them as service('terminals').on('output' | 'exit'); on the Socket.IO wire
 * they are `terminals output` and `terminals exit` (terminalWireEvent).
 */
export const terminalEvents = ['output', 'exit'] as const;
export type TerminalEvent = (typeof terminalEvents)[number];

export interface TerminalEventData {
  output: { id: string; data: string };
  /** `signal`: the number of the signal that ended the shell, or null when it exited by itself. */
  exit: { id: string; code: number; signal: number | null };
}

/** The Socket.IO event name of `event` (Feathers' "<service path> <event>"): what the daemon emits. */
export function terminalWireEvent(event: TerminalEvent): string {
  return `${terminalsPath} ${event}`;
}

export interface TerminalOpened {
  id: string;
  /** The Unix identity the shell runs as, in words (the daemon user in simple mode). */
  runs_as: string;
}
