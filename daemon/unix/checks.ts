// Prerequisites of insulated/strict mode, as checks that each say how to fix what they find. The
// daemon refuses to start on any FAIL (startup-checks.ts); `agor doctor` prints them all.
// Probes are injectable so the rules are tested without root.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Runtime } from '../config/load.js';
import { readPrivConfig, readUsers, type PrivConfig } from './os-state.js';
import { currentUsername } from './names.js';
import { SUDO_ENV } from './privileged.js';
import { probeSandbox } from './sandbox.js';

export type CheckStatus = 'ok' | 'WARN' | 'FAIL';

export interface Check {
  name: string;
  status: CheckStatus;
  message: string;
  /** What to do about a WARN or FAIL. */
  fix?: string;
}

export interface Probes {
  /** Effective uid of the process the checks are about (the daemon's). */
  uid: number;
  username: string;
  lstat(p: string): fs.Stats | null;
  /** Whether this process could write `p` (access(2) W_OK). */
  writable(p: string): boolean;
  /** `sudo -n -l <priv_path>` as this process (or `sudo -l -U <user>` when run as root for `user`). */
  sudoAllows(sudoPath: string, privPath: string, forUser?: string): { ok: boolean; detail: string };
  privConfig(): { config: PrivConfig | null; error: string | null };
  userExists(name: string): boolean;
  /** Why bubblewrap cannot build a sandbox here, or null (unix/sandbox.ts probeSandbox). */
  sandbox?(): string | null;
}

export const realProbes = (): Probes => ({
  uid: process.geteuid?.() ?? -1,
  username: currentUsername(),
  lstat(p) {
    try {
      return fs.lstatSync(p);
    } catch {
      return null;
    }
  },
  writable(p) {
    try {
      fs.accessSync(p, fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
  sudoAllows(sudoPath, privPath, forUser) {
    const args = forUser ? ['-n', '-l', '-U', forUser, privPath] : ['-n', '-l', privPath];
    const r = spawnSync(sudoPath, args, { env: SUDO_ENV, encoding: 'utf8', timeout: 15_000 });
    if (r.error) return { ok: false, detail: `${sudoPath}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}` };
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').pop() ?? '';
    return { ok: r.status === 0, detail: out || `exit ${r.status}` };
  },
  privConfig: () => readPrivConfig(),
  sandbox: () => probeSandbox(),
  userExists(name) {
    try {
      return readUsers().has(name);
    } catch {
      return false;
    }
  },
});

const INSTALL = 'run scripts/install-unix-isolation.sh as root';

function isInside(child: string, parent: string, strictly = false): boolean {
  const rel = path.relative(parent, child);
  if (rel === '') return !strictly;
  return !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** agor-priv: present, a regular file, root-owned, writable by nobody but root, in root-owned directories. */
export function privBinaryCheck(privPath: string, probes: Probes): Check {
  const name = 'agor-priv';
  const fail = (message: string, fix: string): Check => ({ name, status: 'FAIL', message, fix });
  const st = probes.lstat(privPath);
  if (!st) return fail(`${privPath} is missing`, `${INSTALL} (it installs agor-priv there, root-owned, mode 0755)`);
  if (st.isSymbolicLink()) return fail(`${privPath} is a symbolic link`, `replace it with the real file: ${INSTALL}`);
  if (!st.isFile()) return fail(`${privPath} is not a regular file`, INSTALL);
  if (st.uid !== 0) return fail(`${privPath} is owned by uid ${st.uid}, not root: whoever owns it can become root`, `chown root:root ${privPath} && chmod 0755 ${privPath}, or ${INSTALL}`);
  if (st.mode & 0o022) return fail(`${privPath} is writable by its group or others (mode ${(st.mode & 0o7777).toString(8)})`, `chmod go-w ${privPath}`);
  if (probes.uid !== 0 && probes.writable(privPath)) return fail(`${privPath} is writable by the daemon user ${probes.username} (an ACL?)`, `setfacl -b ${privPath}; chmod 0755 ${privPath}`);
  for (let dir = path.dirname(privPath); ; dir = path.dirname(dir)) {
    const d = probes.lstat(dir);
    if (!d || !d.isDirectory()) return fail(`${dir} (holding agor-priv) is not a directory`, INSTALL);
    if (d.uid !== 0) return fail(`${dir} (holding agor-priv) is owned by uid ${d.uid}, not root: its owner could swap agor-priv`, `chown root:root ${dir}`);
    if (d.mode & 0o022) return fail(`${dir} (holding agor-priv) is writable by its group or others (mode ${(d.mode & 0o7777).toString(8)})`, `chmod go-w ${dir}`);
    if (probes.uid !== 0 && probes.writable(dir)) return fail(`${dir} (holding agor-priv) is writable by the daemon user`, `setfacl -b ${dir}; chmod go-w ${dir}`);
    if (dir === path.dirname(dir)) break;
  }
  return { name, status: 'ok', message: `${privPath} root-owned, mode ${(st.mode & 0o7777).toString(8)}` };
}

/** The one sudo rule: the daemon user may run agor-priv without a password. */
export function sudoRuleCheck(sudoPath: string, privPath: string, probes: Probes, daemonUser?: string): Check {
  const name = 'sudo rule';
  // As root, `sudo -n -l` always succeeds: ask about the daemon user instead.
  const forUser = probes.uid === 0 ? daemonUser : undefined;
  if (probes.uid === 0 && !forUser) {
    return { name, status: 'WARN', message: 'running as root and no daemon user is known (no /etc/agor/priv.yaml)', fix: 'run `agor doctor` as the daemon user' };
  }
  const r = probes.sudoAllows(sudoPath, privPath, forUser);
  if (r.ok) return { name, status: 'ok', message: `${forUser ?? probes.username} may run ${privPath} through sudo -n` };
  return {
    name,
    status: 'FAIL',
    message: `\`sudo -n -l ${privPath}\` fails for ${forUser ?? probes.username}: ${r.detail}`,
    fix: `install the sudoers rule (sudoers/agor.sudoers, via ${INSTALL}); the daemon must run as the daemon user it names`,
  };
}

/** /etc/agor/priv.yaml as agor-priv will read it, compared with this daemon's configuration. */
export function privConfigChecks(runtime: Runtime, probes: Probes): Check[] {
  const { config, error } = probes.privConfig();
  if (!config) {
    return [{ name: 'priv.yaml', status: 'WARN', message: `cannot read agor-priv's configuration (${error})`, fix: `${INSTALL} (it writes /etc/agor/priv.yaml, root-owned, mode 0644)` }];
  }
  const checks: Check[] = [];
  const { execution } = runtime.config;
  const worktreesDir = path.join(runtime.dataDir, 'worktrees');
  if (config.daemon_user && probes.uid !== 0 && config.daemon_user !== probes.username) {
    checks.push({
      name: 'priv.yaml daemon_user',
      status: 'FAIL',
      message: `agor-priv serves the daemon user ${config.daemon_user}, but this daemon runs as ${probes.username}`,
      fix: `run the daemon as ${config.daemon_user} (runuser -u ${config.daemon_user} -- agor daemon start), or re-run the install script with --daemon-user ${probes.username}`,
    });
  }
  if (config.executor_user && config.executor_user !== execution.executor_unix_user) {
    checks.push({
      name: 'priv.yaml executor_user',
      status: 'FAIL',
      message: `agor-priv runs insulated sessions as ${config.executor_user}, but execution.executor_unix_user is ${execution.executor_unix_user}`,
      fix: `set execution.executor_unix_user: ${config.executor_user}, or re-run the install script with --executor-user ${execution.executor_unix_user}`,
    });
  }
  if (config.worktrees_root && !isInside(worktreesDir, path.resolve(config.worktrees_root))) {
    checks.push({
      name: 'priv.yaml worktrees_root',
      status: 'FAIL',
      message: `worktrees are created under ${worktreesDir}, but agor-priv only prepares directories inside ${config.worktrees_root}`,
      fix: `set daemon.data_dir: ${config.worktrees_root}, or re-run the install script with --worktrees-root ${runtime.dataDir}`,
    });
  }
  if (checks.length === 0) checks.push({ name: 'priv.yaml', status: 'ok', message: `daemon ${config.daemon_user ?? '?'}, executor ${config.executor_user ?? '?'}, worktrees under ${config.worktrees_root ?? '?'}` });
  return checks;
}

/** Worktrees must be reachable by other identities: not inside the private AGOR_HOME. */
export function dataDirCheck(runtime: Runtime): Check {
  const name = 'data dir';
  if (isInside(runtime.dataDir, runtime.paths.home)) {
    return {
      name,
      status: 'FAIL',
      message: `worktrees live in ${runtime.dataDir}, inside AGOR_HOME (${runtime.paths.home}, private 0700): the executing identities cannot reach them`,
      fix: 'set daemon.data_dir to the worktrees_root of /etc/agor/priv.yaml (the install script\'s --worktrees-root, default /var/lib/agor/worktrees): a daemon-owned directory outside AGOR_HOME',
    };
  }
  return { name, status: 'ok', message: `${runtime.dataDir} (outside AGOR_HOME)` };
}

/** The SDKs each built-in agent loads, installed beside the executor by the install script. */
export const AGENT_RUNTIME_PACKAGES: Readonly<Record<string, string>> = {
  'claude-code': '@anthropic-ai/claude-agent-sdk',
  codex: '@openai/codex-sdk',
  gemini: '@google/gemini-cli',
};

/**
 * The installed executor's run-time packages (<libexec>/node_modules, next to the executor's
 * folder): without them only command agents run in insulated/strict. A warning, not a refusal.
 */
export function agentRuntimeCheck(executorPath: string, probes: Probes): Check {
  const modules = path.join(path.dirname(path.dirname(executorPath)), 'node_modules');
  const missing = Object.entries(AGENT_RUNTIME_PACKAGES).filter(([, pkg]) => !probes.lstat(path.join(modules, pkg, 'package.json'))?.isFile());
  if (missing.length === 0) return { name: 'agent runtime', status: 'ok', message: `${Object.values(AGENT_RUNTIME_PACKAGES).join(', ')} installed in ${modules}` };
  return {
    name: 'agent runtime',
    status: 'WARN',
    message: `${missing.map(([, pkg]) => pkg).join(', ')} missing from ${modules}: sessions with the ${missing.map(([agent]) => agent).join(', ')} agent will fail (command agents run)`,
    fix: `${INSTALL} after \`npm ci\` (without --omit=optional) and \`npm run build\`: it installs the agent SDKs and their CLIs there`,
  };
}

/**
 * bubblewrap, in every mode: every executor and terminal runs in its sandbox, and none starts
 * without one (fail closed). Probed as this process (the daemon user); agor-priv runs bwrap as the
 * session's identity, which needs the same unprivileged user namespaces.
 */
export function sandboxCheck(probes: Probes): Check {
  const why = probes.sandbox ? probes.sandbox() : null;
  if (why === null) return { name: 'sandbox', status: 'ok', message: 'bubblewrap builds sandboxes (user, PID, IPC and mount namespaces)' };
  return { name: 'sandbox', status: 'FAIL', message: why, fix: 'apt-get install -y bubblewrap, and allow unprivileged user namespaces (no executor or terminal can start without its sandbox)' };
}

/** Everything insulated/strict needs that can be checked before the daemon starts. Empty in simple mode. */
export function isolationChecks(runtime: Runtime, probes: Probes): Check[] {
  const { execution } = runtime.config;
  if (execution.unix_user_mode === 'simple') return [];
  const privConfig = probes.privConfig().config;
  const checks = [privBinaryCheck(execution.priv_path, probes)];
  checks.push(sudoRuleCheck(execution.sudo_path, execution.priv_path, probes, privConfig?.daemon_user));
  checks.push(dataDirCheck(runtime));
  checks.push(...privConfigChecks(runtime, probes));
  if (execution.unix_user_mode === 'insulated' || privConfig) {
    const user = execution.executor_unix_user;
    checks.push(
      probes.userExists(user)
        ? { name: 'executor user', status: 'ok', message: `${user} exists` }
        : { name: 'executor user', status: execution.unix_user_mode === 'insulated' ? 'FAIL' : 'WARN', message: `${user} does not exist`, fix: `${INSTALL} (--executor-user ${user})` },
    );
  }
  if (privConfig?.executor_path) checks.push(agentRuntimeCheck(privConfig.executor_path, probes));
  return checks;
}
