// Every process an adapter starts is registered here, so the executor can end them all: after a
// stop's grace period, when its stdin closes (the daemon went away), and when it exits for any reason.
// A process started `detached` leads a session of its own (Node calls setsid), and "its group" means
// that whole session: a background job with job control on (`set -m`) sits in a process group of
// its own but cannot leave the session, and keeps it after its parent died.
import type { ChildProcess } from 'node:child_process';
import { sessionMembers } from './proc.js';

interface Tracked {
  child: ChildProcess;
  /** Started with `detached: true`: it leads its own session, and the whole session is signalled. */
  group: boolean;
}

const tracked = new Set<Tracked>();

/** Registers a started process; it is forgotten once it has exited. */
export function trackChild(child: ChildProcess, { group }: { group: boolean }): void {
  const entry: Tracked = { child, group };
  tracked.add(entry);
  child.once('exit', () => {
    // Its group may outlive it (background grandchildren): keep group entries until killAll.
    if (!group) tracked.delete(entry);
  });
}

/** Signals one tracked process (its whole session if it leads one). Never throws. */
export function signalChild(child: ChildProcess, signal: NodeJS.Signals, group: boolean): void {
  if (child.pid === undefined) return;
  const kill = (pid: number) => {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone, or not ours
    }
  };
  if (!group) {
    if (child.exitCode === null && child.signalCode === null) kill(child.pid);
    return;
  }
  kill(-child.pid);
  for (const pid of sessionMembers(child.pid)) kill(pid);
}

/** Signals every tracked process (and group). Synchronous, so it also works in an 'exit' handler. */
export function killAllChildren(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const entry of tracked) signalChild(entry.child, signal, entry.group);
  if (signal === 'SIGKILL') tracked.clear();
}

export function trackedCount(): number {
  return tracked.size;
}
