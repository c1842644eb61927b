import fs from 'node:fs';

/** Shared by adapters that manage CLI process trees themselves. Linux /proc only. */

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** ppid and process group of a process, or null when it is gone (a zombie counts as gone). */
export function procStat(pid: number | 'self'): { ppid: number; pgrp: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' ? null : { ppid: Number(ppid), pgrp: Number(pgrp) };
  } catch {
    return null;
  }
}
