import fs from 'node:fs';
import Sqlite from 'better-sqlite3';
import type { Command } from 'commander';
import { runtimeOf, type GlobalOptions } from '../context.js';
import type { Runtime } from '../../daemon/config/load.js';
import { readRunning } from '../../daemon/pidfile.js';
import { pendingRestartOfRunning } from '../../daemon/config/reload-keys.js';
import { loadMasterSecret, MASTER_SECRET_ENV, MASTER_SECRET_FILE_ENV } from '../../daemon/crypto/master-secret.js';
import { isolationChecks, realProbes, sandboxCheck, type Check, type Probes } from '../../daemon/unix/checks.js';
import { readUsers } from '../../daemon/unix/os-state.js';

interface DbFacts {
  users: number;
  /** Enabled users without a Unix account (strict cannot run their sessions). */
  unlinked: number;
  linked: string[];
}

/** Reads counts straight from the database, read-only (the daemon may be running). */
function dbFacts(runtime: Runtime): DbFacts | string {
  if (!fs.existsSync(runtime.databaseFile)) return `no database at ${runtime.databaseFile} (run \`agor init\`)`;
  let db: Sqlite.Database | undefined;
  try {
    db = new Sqlite(runtime.databaseFile, { readonly: true, fileMustExist: true });
    const users = (db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
    const unlinked = (db.prepare('SELECT COUNT(*) AS n FROM users WHERE unix_username IS NULL AND disabled = 0').get() as { n: number }).n;
    const linked = (db.prepare('SELECT unix_username FROM users WHERE unix_username IS NOT NULL').all() as { unix_username: string }[]).map((r) => r.unix_username);
    return { users, unlinked, linked };
  } catch (error) {
    return `cannot read ${runtime.databaseFile}: ${(error as Error).message} (run doctor as the daemon user)`;
  } finally {
    db?.close();
  }
}

/** Uid of the running daemon (from its pidfile and /proc), or null. */
function daemonUid(runtime: Runtime): number | null {
  const running = readRunning(runtime.paths.pidFile);
  if (!running) return null;
  try {
    const status = fs.readFileSync(`/proc/${running.pid}/status`, 'utf8');
    const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
    return m ? Number(m[2]) : null;
  } catch {
    return null;
  }
}

/** Every prerequisite of the configured mode, one check each, with its fix. */
export function doctorChecks(runtime: Runtime, probes: Probes = realProbes(), env: NodeJS.ProcessEnv = process.env): Check[] {
  const { execution, security } = runtime.config;
  const mode = execution.unix_user_mode;
  const isolated = mode !== 'simple';
  const checks: Check[] = [];
  const label = !isolated ? (execution.worktree_rbac ? 'Local Team' : 'Dev / Solo') : mode === 'insulated' ? 'Insulated' : 'Strict';
  checks.push({ name: 'mode', status: 'ok', message: `${label}: unix_user_mode ${mode}, worktree_rbac ${execution.worktree_rbac}` });

  if (isolated && !execution.worktree_rbac) {
    checks.push({ name: 'rbac', status: 'FAIL', message: `${mode} mode needs worktree RBAC; the daemon refuses to start`, fix: 'set execution.worktree_rbac: true' });
  } else {
    checks.push({ name: 'rbac', status: 'ok', message: execution.worktree_rbac ? 'per-worktree owners and tiers enforced' : 'off: every member acts as "all" on every worktree' });
  }

  if (isolated) {
    const uid = daemonUid(runtime);
    if (uid === 0) checks.push({ name: 'daemon user', status: 'FAIL', message: 'the running daemon runs as root', fix: 'stop it and start it as the daemon user (runuser -u <daemon user> -- agor daemon start)' });
    else if (probes.uid === 0) checks.push({ name: 'daemon user', status: 'WARN', message: 'doctor runs as root; the daemon must not', fix: 'run `agor doctor` as the daemon user to see what it sees' });
    else checks.push({ name: 'daemon user', status: 'ok', message: `${probes.username} (uid ${probes.uid}), not root` });
  }

  checks.push(sandboxCheck(probes));
  checks.push(...isolationChecks(runtime, probes));

  // The master secret comes from the daemon's environment: run doctor with the same one.
  try {
    const loaded = loadMasterSecret(env);
    if (loaded) checks.push({ name: 'master secret', status: 'ok', message: `from ${loaded.source === 'env' ? MASTER_SECRET_ENV : MASTER_SECRET_FILE_ENV}` });
    else {
      const refused = execution.worktree_rbac && !security.allow_plaintext_secrets;
      checks.push({
        name: 'master secret',
        status: refused ? 'FAIL' : 'WARN',
        message: `neither ${MASTER_SECRET_ENV} nor ${MASTER_SECRET_FILE_ENV} is set: secrets would be stored as plaintext${refused ? ' (refused with worktree_rbac)' : ''}`,
        fix: `openssl rand -hex 32 > /etc/agor/master.key (0600, owned by the daemon user) and start the daemon with ${MASTER_SECRET_FILE_ENV}=/etc/agor/master.key`,
      });
    }
  } catch (error) {
    checks.push({ name: 'master secret', status: 'FAIL', message: (error as Error).message, fix: 'fix the variable as the message says' });
  }

  const pending = pendingRestartOfRunning(readRunning(runtime.paths.pidFile), runtime.config);
  if (pending.length) {
    checks.push({
      name: 'config',
      status: 'WARN',
      message: `pending restart: ${pending.join(', ')} changed in ${runtime.paths.configPath} but the running daemon uses the old values (and the checks above read the file)`,
      fix: 'agor daemon stop && agor daemon start (running tasks and terminals end)',
    });
  }

  const facts = dbFacts(runtime);
  if (typeof facts === 'string') {
    checks.push({ name: 'database', status: 'WARN', message: facts });
  } else {
    if (!isolated && execution.allow_web_terminal && (facts.users > 1 || execution.worktree_rbac)) {
      checks.push({
        name: 'web terminal',
        status: 'WARN',
        message: `enabled in simple mode with ${facts.users} users: terminals run as the daemon user and can read its database and keys`,
        fix: 'use unix_user_mode insulated/strict, or set execution.allow_web_terminal: false',
      });
    } else {
      checks.push({ name: 'web terminal', status: 'ok', message: !execution.allow_web_terminal ? 'disabled' : isolated ? `runs as the ${mode} identity` : 'one user' });
    }
    if (mode === 'strict') {
      if (facts.unlinked > 0) {
        checks.push({ name: 'unix accounts', status: 'WARN', message: `${facts.unlinked} enabled user(s) have no Unix account: strict mode refuses to run their sessions`, fix: 'agor user link-unix <user> agor_<name>' });
      }
      let accounts: Set<string> = new Set();
      try {
        accounts = new Set(readUsers().keys());
      } catch {
        /* reported below as missing */
      }
      const missing = facts.linked.filter((u) => !accounts.has(u));
      if (missing.length) checks.push({ name: 'unix accounts', status: 'WARN', message: `linked account(s) missing on this machine: ${missing.join(', ')}`, fix: 'agor admin sync-unix' });
      else if (facts.unlinked === 0) checks.push({ name: 'unix accounts', status: 'ok', message: `${facts.linked.length} linked, all present` });
    }
  }
  return checks;
}

export function formatCheck(c: Check): string {
  return `${c.status.padEnd(4)}  ${c.name}: ${c.message}${c.status !== 'ok' && c.fix ? ` — fix: ${c.fix}` : ''}`;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description("check every prerequisite of the configured mode and say how to fix each (run it as the daemon user, with the daemon's environment)")
    .action((_opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const checks = doctorChecks(runtimeOf(globals, { allowMissingConfig: true }));
      if (globals.json) console.log(JSON.stringify(checks, null, 2));
      else for (const c of checks) console.log(formatCheck(c));
      if (checks.some((c) => c.status === 'FAIL')) process.exitCode = 1;
    });
}
