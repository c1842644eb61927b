// A real agor daemon, run AS the daemon user by the unix suite (runuser), plus a control channel
// on stdin/stdout (JSON lines) through which the suite asks the daemon to start processes via THE
// spawn path — as the runner and terminals will. Each request names the acting creator and the
// worktree, and the daemon resolves the identity from its own database, exactly as for a session.
//
//   {"op":"init","email","password"}                         -> {"ok":true,"url"}
//   {"op":"run","id","user_id","worktree_id","input","timeout_ms","git_env"}  runs the login shell
//        with `input` on stdin (then EOF); with git_env, the worktree's pinned git locations go to
//        agor-priv (--git-dir ...), as for a terminal  -> {"id","ok","code","signal","stdout","stderr"}
//   {"op":"start","id","user_id","worktree_id","input","git_env"}  starts it, stdin kept open
//                                                            -> {"id","ok","pid"} after the first output line
//   {"op":"stop","id","handle","grace_ms"}                   -> {"id","ok","code","signal","ms"}
// A refusal to run (strict without a Unix account...) answers {"ok":false,"refused":true,"error"}.
import readline from 'node:readline';
import { loadRuntime } from '../../daemon/config/load.js';
import { initHome } from '../../daemon/bootstrap/init.js';
import { startDaemon, type RunningDaemon } from '../../daemon/main.js';
import { ExecutionRefused, loadExecutionIdentity } from '../../daemon/unix/identity.js';
import { spawnAsIdentity, spawnSettingsOf, type SpawnedProcess } from '../../daemon/unix/spawn.js';
import { terminalGitEnvironment } from '../../daemon/unix/git-access.js';

const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: daemon-harness <config.yaml>\n');
  process.exit(64);
}
const runtime = loadRuntime({ configFlag: configPath });
let daemon: RunningDaemon | undefined;
const running = new Map<string, SpawnedProcess>();
/** stdout of each started process (the last 64 KiB), handed back by 'stop'. */
const outputs = new Map<string, string>();

function reply(message: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(message) + '\n');
}

async function spawnFor(request: { user_id: string; worktree_id: string; git_env?: boolean }): Promise<SpawnedProcess> {
  const db = daemon!.app.get('db');
  const identity = await loadExecutionIdentity(db, runtime.config.execution, request.user_id, request.worktree_id);
  const worktree = await db('worktrees').where('id', request.worktree_id).first('path');
  // With git_env, the worktree's pinned git locations exactly as a terminal gets them (agor-priv --git-dir ...).
  const git = request.git_env ? await terminalGitEnvironment(db, request.worktree_id, runtime.dataDir) : undefined;
  if (request.git_env && !git) throw new Error(`no pinned git locations for worktree ${request.worktree_id} inside worktrees_root`);
  return spawnAsIdentity(identity, { program: 'shell', cwd: worktree.path, worktreeId: request.worktree_id, ...(git && { git }) }, spawnSettingsOf(runtime));
}

async function handle(msg: Record<string, any>): Promise<void> {
  const id = msg.id;
  try {
    switch (msg.op) {
      case 'init': {
        await initHome(runtime, { email: msg.email, password: msg.password });
        daemon = await startDaemon(runtime, { log: (line) => process.stderr.write(line + '\n') });
        reply({ id, ok: true, url: daemon.url, pid: process.pid });
        return;
      }
      case 'run': {
        const proc = await spawnFor(msg as never);
        let stdout = '';
        let stderr = '';
        proc.child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        proc.child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        proc.child.stdin!.on('error', () => undefined);
        proc.child.stdin!.end(msg.input ?? '');
        const timer = setTimeout(() => void proc.stop(500), msg.timeout_ms ?? 30_000);
        const status = await proc.exited;
        clearTimeout(timer);
        // Let the pipes drain.
        await new Promise((r) => setTimeout(r, 20));
        reply({ id, ok: true, ...status, stdout, stderr });
        return;
      }
      case 'start': {
        const proc = await spawnFor(msg as never);
        running.set(String(id), proc);
        proc.child.stdin!.on('error', () => undefined);
        if (msg.input) proc.child.stdin!.write(msg.input);
        let out = '';
        let answered = false;
        const answer = () => {
          if (answered) return;
          answered = true;
          reply({ id, ok: true, pid: proc.child.pid, first: out });
        };
        proc.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          outputs.set(String(id), out.slice(-65536)); // what it printed since, for 'stop' (bounded)
          if (out.includes('\n')) answer();
        });
        proc.child.stderr!.resume();
        void proc.exited.then((s) => {
          if (!answered) {
            answered = true;
            reply({ id, ok: false, error: `exited before answering (${JSON.stringify(s)})`, out });
          }
        });
        return;
      }
      case 'stop': {
        const proc = running.get(String(msg.handle));
        if (!proc) throw new Error(`no running process ${msg.handle}`);
        const t0 = Date.now();
        const status = await proc.stop(msg.grace_ms);
        running.delete(String(msg.handle));
        const out = outputs.get(String(msg.handle)) ?? '';
        outputs.delete(String(msg.handle));
        reply({ id, ok: true, ...status, ms: Date.now() - t0, out });
        return;
      }
      default:
        throw new Error(`unknown op ${msg.op}`);
    }
  } catch (error) {
    reply({ id, ok: false, refused: error instanceof ExecutionRefused, error: (error as Error).message });
  }
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim()) void handle(JSON.parse(line));
});
process.stdin.on('end', () => {
  void daemon?.close().finally(() => process.exit(0));
  if (!daemon) process.exit(0);
});
