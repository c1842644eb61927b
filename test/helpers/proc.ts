// Process checks from /proc, shared by the daemon's unit tests and the suites under test/.
import fs from 'node:fs';

/** Running: it exists and is not a zombie (a zombie runs nothing; this sandbox's init never reaps). */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of live (non-zombie) processes whose real or effective uid is `uid` (or one of `uid`). */
export function processesOf(uid: number | ReadonlySet<number>): number[] {
  const wanted = typeof uid === 'number' ? new Set([uid]) : uid;
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
      if (m && (wanted.has(Number(m[1])) || wanted.has(Number(m[2]))) && !/^State:\s+Z/m.test(status)) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/**
 * Pids (as this process sees them) of live processes whose command line contains `marker`: how a
 * test finds what ran inside a sandbox, whose PID namespace numbers its processes differently.
 */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(marker) && alive(Number(entry))) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}
