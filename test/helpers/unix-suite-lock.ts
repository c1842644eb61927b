// Root suites that run scripts/install-unix-isolation.sh change machine-wide paths
// (/usr/local/libexec/agor, /etc/agor/priv.yaml, /etc/sudoers.d/agor), so two of them must never
// overlap — `npm test` runs test files concurrently. Each takes this lock for its whole run.
// The lock is a directory (mkdir is atomic) holding the owner's pid; a lock whose owner is gone is
// taken over.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** In /run (cleared at boot) when the machine has it. */
export const UNIX_SUITE_LOCK = path.join(fs.existsSync('/run') ? '/run' : os.tmpdir(), 'agor-unix-suite.lock');

function ownerAlive(lockDir: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8').trim());
  } catch {
    // Being created right now (mkdir done, pid not yet written) or already gone: give it a moment.
    try {
      return Date.now() - fs.statSync(lockDir).mtimeMs < 5000;
    } catch {
      return false;
    }
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Waits (up to `timeoutMs`) for the lock and returns its release function. Released at the latest
 * when this process exits.
 */
export async function acquireUnixSuiteLock(owner: string, timeoutMs = 20 * 60_000, lockDir = UNIX_SUITE_LOCK): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(lockDir, { mode: 0o700 });
      fs.writeFileSync(path.join(lockDir, 'pid'), `${process.pid}\n`);
      fs.writeFileSync(path.join(lockDir, 'owner'), `${owner}\n`);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!ownerAlive(lockDir)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        let holder = 'unknown';
        try {
          holder = fs.readFileSync(path.join(lockDir, 'owner'), 'utf8').trim();
        } catch {
          /* ignore */
        }
        throw new Error(`timed out waiting for ${lockDir} (held by ${holder})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    try {
      if (fs.readFileSync(path.join(lockDir, 'pid'), 'utf8').trim() === String(process.pid)) fs.rmSync(lockDir, { recursive: true, force: true });
    } catch {
      /* already gone */
    }
  };
  process.on('exit', release);
  return release;
}
