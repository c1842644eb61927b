// The one place that reads the process table (Linux /proc; elsewhere every list is empty), shared by
// the executor (agent adapters, children.ts), the daemon (terminal/manager.ts) and the tests
// (test/helpers/proc.ts). It lives in executor/ because the executor bundle may import only
// executor/ and protocol/ files (executor.test.ts, "executor imports"); the daemon may import
// anything. agor-priv keeps its own reader: its bundle imports nothing outside priv/.
import fs from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** Process group. */
  pgrp: number;
  /** Session id (the pid of the session leader). */
  session: number;
}

/** ppid, process group and session of a process, or null when it is gone (a zombie counts as gone). */
export function procStat(pid: number | 'self'): ProcInfo | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses.
    const [state, ppid, pgrp, session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z') return null;
    return { pid: pid === 'self' ? process.pid : pid, ppid: Number(ppid), pgrp: Number(pgrp), session: Number(session) };
  } catch {
    return null;
  }
}

/** Pids in /proc now (some may be gone by the time they are read). */
export function allPids(): number[] {
  try {
    return fs
      .readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number);
  } catch {
    return [];
  }
}

/** Every live (non-zombie) process. */
export function allProcesses(): ProcInfo[] {
  return allPids().flatMap((pid) => procStat(pid) ?? []);
}

/**
 * Every live process below `root`, children before grandchildren. `first` picks which direct
 * children count (all of them by default); their descendants all count.
 */
export function processTree(root: number, first: (p: ProcInfo) => boolean = () => true): ProcInfo[] {
  const children = new Map<number, ProcInfo[]>();
  for (const p of allProcesses()) {
    const siblings = children.get(p.ppid);
    if (siblings) siblings.push(p);
    else children.set(p.ppid, [p]);
  }
  const out = (children.get(root) ?? []).filter(first);
  // `out` grows while it is walked: each process's children are appended after it. The files are
  // read one by one, so a pid reused meanwhile could close a loop: each pid is taken once.
  const seen = new Set([root, ...out.map((p) => p.pid)]);
  for (let i = 0; i < out.length; i++) {
    for (const child of children.get(out[i]!.pid) ?? []) {
      if (!seen.has(child.pid)) out.push(child);
      seen.add(child.pid);
    }
  }
  return out;
}

/** Pids of the live processes in session `sid`, other than this process. */
export function sessionMembers(sid: number): number[] {
  return allProcesses()
    .filter((p) => p.session === sid && p.pid !== process.pid)
    .map((p) => p.pid);
}

/** A process's command line, NUL-separated arguments joined by spaces ('' when it is gone or a zombie). */
export function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** The path of a process's executable ('' when it is gone or not ours to read). */
export function exePath(pid: number): string {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

/** Pids of processes other than this one whose command line contains `needle`. */
export function processesWith(needle: string): number[] {
  return allPids().filter((pid) => pid !== process.pid && cmdline(pid).includes(needle));
}
