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
