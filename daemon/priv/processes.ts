// exec's view of "the child's processes" (README.md, exec): found in /proc by session and parentage,
// only ever processes of the identity's uid.
import fs from 'node:fs';
import tty from 'node:tty';

/** session id and controlling terminal (tty_nr) of a process, from /proc/<pid>/stat. */
function sessionOf(pid: number | 'self'): { session: number; tty: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "(comm)": state ppid pgrp session tty_nr ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { session: Number(fields[3]), tty: Number(fields[4]) };
  } catch {
    return null;
  }
}

/**
 * The child's processes, found by scanning /proc: every process running as the identity's uid that
 * is in a tracked session or whose parent is one of them. The first tracked session is the child's
 * own (or its terminal's); the session of every descendant found is tracked from then on, so a
 * background process keeps being found after its parent died (it keeps its session), and so do the
 * processes of agents that start their children in sessions of their own (Node's `detached`).
 * Nothing else can enter those sessions. A tracked session is forgotten once no process of it is
 * left (its number could then be reused by an unrelated process); only a process that starts its
 * own session AND loses its parent between two scans (PARENT_POLL_MS) escapes.
 */
export class ChildProcesses {
  private readonly sessions = new Set<number>();

  constructor(
    private readonly uid: number,
    /** Never forgotten: the child's own session, or its terminal's. */
    private readonly pinned: number,
    /** The child while it runs (it is still root's for a moment, before setpriv drops privileges). */
    private readonly childPid: () => number | undefined,
  ) {
    this.sessions.add(pinned);
  }

  scan(): number[] {
    const procs = new Map<number, { ppid: number; session: number }>();
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (pid === process.pid) continue;
      try {
        // /proc/<pid> belongs to the process's (effective) uid; setpriv sets real and effective alike.
        if (fs.lstatSync(`/proc/${entry}`).uid !== this.uid) continue;
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // A zombie runs nothing and holds nothing (its reaper may be slow: it is not waited for).
        if (fields[0] === 'Z' || fields[0] === 'X') continue;
        procs.set(pid, { ppid: Number(fields[1]), session: Number(fields[3]) });
      } catch {
        /* gone */
      }
    }
    const child = this.childPid();
    const members = new Set<number>();
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, p] of procs) {
        if (members.has(pid) || !(this.sessions.has(p.session) || members.has(p.ppid) || p.ppid === child)) continue;
        members.add(pid);
        this.sessions.add(p.session);
        grew = true;
      }
    }
    const live = new Set([...members].map((pid) => procs.get(pid)!.session));
    for (const session of this.sessions) if (session !== this.pinned && !live.has(session)) this.sessions.delete(session);
    return [...members];
  }

  signal(signal: NodeJS.Signals): number {
    const pids = this.scan();
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        /* already gone */
      }
    }
    return pids.length;
  }
}

/**
 * Whether stdin is agor-priv's controlling terminal (a web terminal's PTY: the session node-pty made
 * for sudo). The shell must then stay in this session to keep job control, and the session is the
 * terminal's own; otherwise the child gets a session of its own.
 */
export function stdinIsControllingTerminal(): { session: number } | null {
  try {
    if (!tty.isatty(0)) return null;
    const self = sessionOf('self');
    if (!self || self.tty === 0 || fs.fstatSync(0).rdev !== self.tty) return null;
    return { session: self.session };
  } catch {
    return null;
  }
}
