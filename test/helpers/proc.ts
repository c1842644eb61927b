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

/**
 * The pid, as this process sees it, of the process that calls itself `nsPid` inside a sandbox (its
 * own PID namespace: what it prints as its pid) and descends from `ancestor` (e.g. the sandbox's
 * bwrap, or the daemon). From /proc/<pid>/status NSpid (outermost first, the innermost last).
 */
export function hostPidOf(nsPid: number, ancestor: number): number | undefined {
  const parentOf = (pid: number): number | undefined => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return undefined;
    }
  };
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const m = /^NSpid:\s+([\d\s]+)$/m.exec(fs.readFileSync(`/proc/${entry}/status`, 'utf8'));
      const ids = m ? m[1]!.trim().split(/\s+/).map(Number) : [];
      if (ids.length < 2 || ids.at(-1) !== nsPid) continue;
      for (let p: number | undefined = Number(entry), hops = 0; p !== undefined && p > 1 && hops < 64; p = parentOf(p), hops += 1) {
        if (p === ancestor) return Number(entry);
      }
    } catch {
      /* gone */
    }
  }
  return undefined;
}

/**
 * Real and effective ids and the supplementary groups of `pid` as the host sees them (inside a
 * sandbox's user namespace a group it does not map shows as the overflow gid 65534).
 */
export function hostCredentials(pid: number): { uid: number; gid: number; groups: number[] } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const ids = (name: string) => (new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  return { uid: ids('Uid')[0]!, gid: ids('Gid')[0]!, groups: ids('Groups').sort((a, b) => a - b) };
}
