// Every process an adapter starts is registered here, so the executor can end them all: after a
// stop's grace period, when its stdin closes (the daemon went away), and when it exits for any reason.
import type { ChildProcess } from 'node:child_process';

interface Tracked {
  child: ChildProcess;
  /** Started with `detached: true`: it leads its own process group, and the whole group is signalled. */
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

/** Signals one tracked process (its whole group if it leads one). Never throws. */
export function signalChild(child: ChildProcess, signal: NodeJS.Signals, group: boolean): void {
  if (child.pid === undefined) return;
  try {
    if (group) process.kill(-child.pid, signal);
    else if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  } catch {
    // already gone
  }
}

/** Signals every tracked process (and group). Synchronous, so it also works in an 'exit' handler. */
export function killAllChildren(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const entry of tracked) signalChild(entry.child, signal, entry.group);
  if (signal === 'SIGKILL') tracked.clear();
}

export function trackedCount(): number {
  return tracked.size;
}
