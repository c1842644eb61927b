import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { ChildProcesses } from './processes.js';
import { alive } from '../../test/helpers/proc.js';

async function until(check: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; !check(); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ChildProcesses (agor-priv exec)', { skip: !fs.existsSync('/proc/self/stat') || !fs.existsSync('/usr/bin/setsid') ? 'needs Linux /proc and setsid' : false }, () => {
  it('finds a background job and a descendant that started its own session, even after their parent is gone', async () => {
    // The "child": its own session, a plain background job, and one in a session of its own.
    const child = spawn('/bin/sh', ['-c', 'sleep 300 & echo $!; /usr/bin/setsid sleep 301 & echo $!; read x'], { detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    await until(() => out.trim().split('\n').length === 2, 'the two pids');
    const [job, own] = out.trim().split('\n').map(Number) as [number, number];
    let gone = false;
    const tracked = new ChildProcesses(process.getuid!(), child.pid!, () => (gone ? undefined : child.pid));
    try {
      await until(() => tracked.scan().includes(own), 'the setsid descendant to be found while its parent lives');
      assert.ok(tracked.scan().includes(job));
      assert.ok(!tracked.scan().includes(process.pid), 'never the caller itself');
      // The parent exits: both are orphans now, one in a session nobody pinned.
      child.stdin!.end('\n');
      await new Promise((r) => child.once('exit', r));
      gone = true;
      const left = tracked.scan();
      assert.ok(left.includes(job) && left.includes(own), `still found after the parent died: ${left}`);
      assert.equal(tracked.signal('SIGKILL'), 2);
      await until(() => !alive(job) && !alive(own), 'both to end');
      assert.deepEqual(tracked.scan(), []);
    } finally {
      for (const pid of [job, own]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  });

  it('never reports processes of another uid', () => {
    const tracked = new ChildProcesses(2 ** 31 - 2, process.pid, () => undefined);
    assert.deepEqual(tracked.scan(), []);
  });
});
