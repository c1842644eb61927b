import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { cmdline, exePath, procStat, processesWith, processTree, sessionMembers } from './proc.js';

/** Polls (bounded) until `pick` returns something, then returns it. */
async function until<T>(pick: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 250; i++) {
    const value = pick();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function killTree(child: ChildProcess): void {
  for (const p of processTree(child.pid!)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  child.kill('SIGKILL');
}

describe('process table', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  it('processTree lists children and grandchildren, including ones in their own process group', async () => {
    const child = spawn('/bin/sh', ['-c', 'setsid sleep 30 & sleep 30 & wait'], { stdio: 'ignore' });
    try {
      // Until the forked shell has exec'd setsid, it is still in the shell's group: wait (bounded)
      // for the tree to hold the setsid child, which must be listed for this to end.
      const tree = await until(() => {
        const t = processTree(child.pid!);
        return t.length >= 2 && t.some((p) => p.pgrp === p.pid) ? t : undefined;
      }, 'two children, one of them the leader of its own group (setsid)');
      assert.ok(tree.every((p) => p.pid !== child.pid), 'the root itself is not listed');
      // `first` filters the direct children only: none here is "true", so nothing is listed.
      assert.deepEqual(processTree(child.pid!, (p) => exePath(p.pid) === '/nonexistent'), []);
    } finally {
      killTree(child);
    }
  });

  it('sessionMembers, cmdline and processesWith see a detached job; procStat forgets it once it is gone', async () => {
    const marker = `proc-test-${crypto.randomUUID()}`;
    // A detached child leads a session of its own; the shell it starts (the marker is its $0) stays in it.
    const child = spawn('/bin/sh', ['-c', `/bin/sh -c 'sleep 30; true' ${marker} & wait`], { stdio: 'ignore', detached: true });
    try {
      const [sleeper] = await until(() => {
        // The outer shell's command line holds the marker too (and so does its fork until it execs).
        const found = processesWith(marker).filter((pid) => cmdline(pid) === `/bin/sh -c sleep 30; true ${marker}`);
        return found.length > 0 ? found : undefined;
      }, 'the marked shell');
      assert.ok(processesWith(marker).includes(child.pid!), 'the outer shell is found by its command line too');
      assert.equal(procStat(sleeper!)?.session, child.pid);
      const members = sessionMembers(child.pid!);
      assert.ok(members.includes(child.pid!) && members.includes(sleeper!), `session members ${members}`);
      assert.ok(!sessionMembers(procStat('self')!.session).includes(process.pid), 'this process is never a member');
      assert.equal(procStat('self')?.pid, process.pid);
      process.kill(-child.pid!, 'SIGKILL');
      await until(() => (procStat(sleeper!) === null ? true : undefined), 'the sleep to be gone');
      assert.equal(cmdline(sleeper!), '');
    } finally {
      killTree(child);
    }
  });
});
