// The unix suites' private mount namespace. An installation's fixed paths (/etc/agor,
// /usr/local/libexec/agor, /etc/sudoers.d) are shared by the whole machine, so a suite never writes
// the real ones: it runs the installer and everything that uses the installation inside a mount
// namespace (unshare -m) where those directories are bind mounts of fresh directories of its own.
// Commands enter it with nsenter (inNs); the test process itself reads and changes the private
// files through /proc/<holder>/root (hostPath).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const NS_DIRS = ['/etc/agor', '/usr/local/libexec/agor', '/etc/sudoers.d'] as const;

export class PrivateMounts {
  private holder: ChildProcess | null = null;
  private madeMountPoints: string[] = [];

  get pid(): number {
    if (!this.holder?.pid) throw new Error('the namespace is not set up');
    return this.holder.pid;
  }

  /** argv prefix that runs a command inside the namespace (as root; nsenter -m does not fork). */
  inNs(argv: readonly string[]): string[] {
    return ['/usr/bin/nsenter', '-t', String(this.pid), '-m', '--', ...argv];
  }

  /** Where the test process reaches `p` as the namespace sees it. */
  hostPath(p: string): string {
    return NS_DIRS.some((d) => p === d || p.startsWith(`${d}/`)) ? `/proc/${this.pid}/root${p}` : p;
  }

  /** Makes the namespace; its private directories live in `nsRoot` (created, 0755). */
  async setup(nsRoot: string): Promise<void> {
    fs.mkdirSync(nsRoot, { mode: 0o755 });
    fs.chmodSync(nsRoot, 0o755);
    const binds: string[] = [];
    for (const dir of NS_DIRS) {
      // A mount point must exist; missing ones (and missing parents) are made and removed afterwards.
      const missing: string[] = [];
      for (let d: string = dir; !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
      for (const d of missing) {
        fs.mkdirSync(d, { mode: 0o755 });
        this.madeMountPoints.unshift(d);
      }
      const priv = path.join(nsRoot, dir.replace(/\//g, '_'));
      fs.mkdirSync(priv, { mode: 0o755 });
      fs.chmodSync(priv, dir === '/etc/sudoers.d' ? 0o750 : 0o755);
      // sudo's own README (and nothing else) in the private sudoers.d.
      if (dir === '/etc/sudoers.d' && fs.existsSync('/etc/sudoers.d/README')) fs.copyFileSync('/etc/sudoers.d/README', path.join(priv, 'README'));
      binds.push(`mount --bind ${priv} ${dir}`);
    }
    const script = `${binds.join(' && ')} && echo ready && exec sleep 86400`;
    this.holder = spawn('/usr/bin/unshare', ['-m', '--propagation', 'private', '/bin/bash', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const holder = this.holder;
    await new Promise<void>((resolve, reject) => {
      let err = '';
      holder.stderr!.on('data', (d) => (err += d));
      holder.stdout!.once('data', () => resolve());
      holder.once('exit', (code) => reject(new Error(`cannot make a private mount namespace (unshare exit ${code}): ${err.trim()}`)));
    });
  }

  get active(): boolean {
    return Boolean(this.holder?.pid);
  }

  /** Ends the namespace (its mounts go with it) and removes the mount points it had to make. */
  teardown(): void {
    if (this.holder?.pid) {
      try {
        process.kill(this.holder.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      this.holder = null;
    }
    for (const dir of this.madeMountPoints.splice(0)) {
      try {
        fs.rmdirSync(dir);
      } catch {
        /* not empty: not ours to remove */
      }
    }
  }
}
