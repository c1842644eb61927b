// exec: run the installed executor or a login shell as a validated identity.
//
//   setpriv --reuid U --regid G (--clear-groups | --init-groups) --no-new-privs --inh-caps=-all
//           --pdeathsig SIGKILL -- /usr/bin/env -i -C <cwd> HOME=... USER=... ... <program> [-l]
//
// setpriv drops to the identity (no new privileges ever: setuid binaries such as sudo cannot raise it
// again); env, already running as the identity, clears the environment, sets the allow-listed
// variables and changes to <cwd> — so the identity can only start in a directory it may enter.
// agor-priv stays as a small root parent: Node cannot replace its own process image. It forwards the
// signals sudo relays, exits with the child's status (128+n when the child is killed by signal n),
// and kills the child if its own parent (sudo) disappears; the child dies with SIGKILL if agor-priv
// itself is killed (parent-death signal). When the child ends, whatever of the identity is left in
// agor-priv's session (a nohup'ed job of a terminal's shell) is killed too (sweepSession).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import type { PrivConfig } from './config.js';
import { configError, EXIT_CODES, quote, refused, unavailable } from './errors.js';
import { executorAccount, personAccount, strictGroups, worktreeGroup } from './accounts.js';
import { checkTerm } from './names.js';
import { toolPath, type PasswdEntry } from './system.js';
import { checkDirBelowRoot } from './tree.js';
import { assertTrustedFile } from './trust.js';

export const CHILD_PATH = '/usr/local/bin:/usr/bin:/bin';
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
const PARENT_POLL_MS = 250;

export interface ExecRequest {
  mode: string;
  user: string | undefined;
  group: string | undefined;
  cwd: string;
  program: string;
  term: string | undefined;
}

export interface Identity {
  account: PasswdEntry;
  uid: number;
  gid: number;
  groups: 'clear' | 'init';
}

/** The identity of the request: insulated → executor user + the worktree group only; strict → the person. */
export function resolveIdentity(request: ExecRequest, config: PrivConfig): Identity {
  if (request.mode === 'insulated') {
    if (request.user !== undefined) throw refused('exec --mode insulated takes --group, not --user (it always runs as the executor user)');
    if (request.group === undefined) throw refused('exec --mode insulated needs --group agor_wt_<hex>');
    const group = worktreeGroup(request.group, config);
    const account = executorAccount(config);
    return { account, uid: account.uid, gid: group.gid, groups: 'clear' };
  }
  if (request.mode === 'strict') {
    if (request.group !== undefined) throw refused('exec --mode strict takes --user, not --group (the user runs with its own groups)');
    if (request.user === undefined) throw refused('exec --mode strict needs --user agor_<name>');
    const account = personAccount(request.user, config);
    strictGroups(account, config);
    return { account, uid: account.uid, gid: account.gid, groups: 'init' };
  }
  throw refused(`exec --mode must be insulated or strict (got ${quote(request.mode)})`);
}

/** Login shells listed in /etc/shells (a root-owned file). */
function listedShells(): Set<string> {
  assertTrustedFile('/etc/shells', 'shell list');
  return new Set(
    fs
      .readFileSync('/etc/shells', 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('/')),
  );
}

/** argv of the program: the installed executor under node_path, or the account's login shell. */
export function programArgv(program: string, account: PasswdEntry, config: PrivConfig): string[] {
  if (program === 'executor') {
    const node = assertTrustedFile(config.node_path, 'node_path', { onMissing: unavailable });
    const executor = assertTrustedFile(config.executor_path, 'executor_path', { onMissing: unavailable });
    return [node, executor];
  }
  if (program === 'shell') {
    const shell = account.shell;
    if (!listedShells().has(shell)) throw refused(`${account.name}'s login shell ${quote(shell)} is not listed in /etc/shells`);
    const real = assertTrustedFile(shell, 'login shell', { onMissing: unavailable });
    return [real, '-l'];
  }
  throw refused(`exec --program must be executor or shell (got ${quote(program)})`);
}

/** The whole environment of the child: an allow-list, nothing from agor-priv's own. */
export function childEnvironment(account: PasswdEntry, term: string | undefined): string[] {
  const env = [`HOME=${account.home}`, `USER=${account.name}`, `LOGNAME=${account.name}`, `SHELL=${account.shell}`, `PATH=${CHILD_PATH}`, 'LANG=C.UTF-8'];
  if (term !== undefined) env.push(`TERM=${term}`);
  return env;
}

export interface ExecPlan {
  file: string;
  args: string[];
  /** The identity's uid: what is left of it in agor-priv's session when the child ends is killed. */
  uid: number;
}

export function planExec(request: ExecRequest, config: PrivConfig): ExecPlan {
  if (request.term !== undefined) checkTerm(request.term);
  const identity = resolveIdentity(request, config);
  const cwd = checkDirBelowRoot(request.cwd, config, 'cwd');
  const program = programArgv(request.program, identity.account, config);
  // env treats an operand containing "=" as an assignment, not the command.
  if (program[0]!.includes('=')) throw configError(`program path ${quote(program[0]!)} contains "="`);
  if (!hasUsableHome(identity.account)) throw refused(`${identity.account.name} has an unusable home ${quote(identity.account.home)}`);
  const setpriv = toolPath('setpriv');
  const env = toolPath('env');
  return {
    uid: identity.uid,
    file: setpriv,
    args: [
      '--reuid', String(identity.uid),
      '--regid', String(identity.gid),
      identity.groups === 'clear' ? '--clear-groups' : '--init-groups',
      '--no-new-privs',
      '--inh-caps=-all',
      '--pdeathsig', 'SIGKILL',
      '--',
      env,
      '-i',
      '-C', cwd,
      ...childEnvironment(identity.account, request.term),
      ...program,
    ],
  };
}

/** Session id (field 6 of /proc/<pid>/stat) of a process, or undefined if it is gone. */
function sessionOf(pid: number | 'self'): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
  } catch {
    return undefined;
  }
}

function runsAs(pid: number, uid: number): boolean {
  try {
    const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m !== null && [m[1], m[2], m[3]].some((u) => Number(u) === uid);
  } catch {
    return false;
  }
}

/**
 * Kills what the child left behind: every process of `uid` still in agor-priv's session (a
 * `nohup`ed or disowned job of a terminal's shell, a daemon an agent forked). The session belongs to
 * this one spawn (sudo's use_pty monitor, or the session the daemon started sudo in), so nothing
 * else of the identity is touched. A process that left the session (setsid) is out of reach.
 */
export function sweepSession(uid: number): void {
  const sid = sessionOf('self');
  if (sid === undefined || uid === 0) return;
  for (let round = 0; round < 5; round += 1) {
    const left = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => pid !== process.pid && sessionOf(pid) === sid && runsAs(pid, uid));
    if (left.length === 0) return;
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
  }
}

function hasUsableHome(account: PasswdEntry): boolean {
  return account.home.startsWith('/') && !/[\u0000-\u001f\u007f]/.test(account.home);
}

/**
 * Starts the plan with stdio inherited and resolves with agor-priv's exit code once the child ends.
 * Signals are forwarded; if agor-priv's parent (sudo) goes away, the child is killed.
 */
export function runExec(plan: ExecPlan): Promise<number> {
  return new Promise((resolve) => {
    const parent = process.ppid;
    const child = spawn(plan.file, plan.args, { stdio: 'inherit', env: {}, cwd: '/' });
    const forward = (signal: NodeJS.Signals) => () => {
      child.kill(signal);
    };
    const handlers = FORWARDED_SIGNALS.map((signal) => [signal, forward(signal)] as const);
    for (const [signal, handler] of handlers) process.on(signal, handler);
    const watch = setInterval(() => {
      if (process.ppid !== parent) child.kill('SIGKILL');
    }, PARENT_POLL_MS);
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      clearInterval(watch);
      for (const [signal, handler] of handlers) process.off(signal, handler);
      resolve(code);
    };
    child.once('error', (error) => {
      process.stderr.write(`agor-priv: unavailable: cannot start setpriv: ${error.message}\n`);
      finish(EXIT_CODES.unavailable);
    });
    child.once('exit', (code, signal) => {
      sweepSession(plan.uid);
      if (code !== null) finish(code);
      else finish(128 + (signal ? (os.constants.signals[signal] ?? 0) : 0));
    });
  });
}
