// Process checks for the suites under test/ and the daemon's unit tests, on the daemon's own
// process-table reader (daemon/executor/proc.ts) plus what only tests ask (uids).
import fs from 'node:fs';
import { allPids, allProcesses, procStat } from '../../daemon/executor/proc.js';

export { cmdline, processesWith } from '../../daemon/executor/proc.js';

/** Running: it exists and is not a zombie (a zombie runs nothing; this sandbox's init never reaps). */
export function alive(pid: number | undefined): boolean {
  return !!pid && procStat(pid) !== null;
}

/** Pids of live processes whose parent is `ppid`. */
export function childrenOf(ppid: number): number[] {
  return allProcesses()
    .filter((p) => p.ppid === ppid)
    .map((p) => p.pid);
}

/** Pids of live (non-zombie) processes whose real or effective uid is `uid` (or one of `uid`). */
export function processesOf(uid: number | ReadonlySet<number>): number[] {
  const wanted = typeof uid === 'number' ? new Set([uid]) : uid;
  return allPids().filter((pid) => {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
      return !!m && (wanted.has(Number(m[1])) || wanted.has(Number(m[2]))) && !/^State:\s+Z/m.test(status);
    } catch {
      return false; // gone
    }
  });
}

/** Supplementary groups of a live process, or [] when it is gone. */
export function groupsOf(pid: number): number[] {
  try {
    const line = /^Groups:(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
    return line.trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
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
