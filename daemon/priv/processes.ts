// exec's view of its terminal: whether a web terminal's shell is being started (its PTY must stay
// the shell's controlling terminal). Ending the child's processes is the sandbox's PID namespace's
// job (exec.ts), no longer a /proc sweep.
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
