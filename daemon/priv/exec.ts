// exec: run the installed executor or a login shell as a validated identity.
//
//   setpriv --reuid U --regid G (--clear-groups | --init-groups) --no-new-privs --inh-caps=-all
//           --pdeathsig SIGKILL -- /usr/bin/env -i -C <cwd> HOME=... USER=... ... <program> [-l]
//
// setpriv drops to the identity (no new privileges ever: setuid binaries such as sudo cannot raise it
// again); env, already running as the identity, clears the environment, sets the allow-listed
// variables and changes to <cwd> — so the identity can only start in a directory it may enter.
// agor-priv stays as a small root parent: Node cannot replace its own process image. It relays the
// signals sudo relays to the child's processes (its session, see runExec), exits with the child's
// status (128+n when the child is killed by signal n) once nothing the child started is left, and
// kills them all if its own parent (sudo) disappears; the child dies with SIGKILL if agor-priv itself
// is killed (parent-death signal). A shell may get its worktree's pinned git locations
// (--git-dir/--git-common-dir/--work-tree → GIT_DIR/GIT_COMMON_DIR/GIT_WORK_TREE).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import type { PrivConfig } from './config.js';
import { configError, EXIT_CODES, quote, refused, unavailable } from './errors.js';
import { executorAccount, personAccount, strictGroups, worktreeGroup } from './accounts.js';
import { checkTerm } from './names.js';
import { toolPath, type PasswdEntry } from './system.js';
import { checkGitLocations, type GitLocations } from './git-locations.js';
import { ChildProcesses, stdinIsControllingTerminal } from './processes.js';
import { checkDirBelowRoot } from './tree.js';
import { assertTrustedFile } from './trust.js';

export const CHILD_PATH = '/usr/local/bin:/usr/bin:/bin';
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
/** Relayed signals that reach all of the child's processes, not only the child. */
const GROUP_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];
const PARENT_POLL_MS = 250;
/** From SIGTERM (relayed, or to what an exited child left behind) to SIGKILL. */
export const KILL_GRACE_MS = 3000;
const SWEEP_POLL_MS = 50;

export interface ExecRequest {
  mode: string;
  user: string | undefined;
  group: string | undefined;
  cwd: string;
  program: string;
  term: string | undefined;
  /** --git-dir, --git-common-dir, --work-tree: all three or none, shell only. */
  gitDir?: string | undefined;
  gitCommonDir?: string | undefined;
  workTree?: string | undefined;
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
export function childEnvironment(account: PasswdEntry, term: string | undefined, git: GitLocations | null = null): string[] {
  const env = [`HOME=${account.home}`, `USER=${account.name}`, `LOGNAME=${account.name}`, `SHELL=${account.shell}`, `PATH=${CHILD_PATH}`, 'LANG=C.UTF-8'];
  if (term !== undefined) env.push(`TERM=${term}`);
  if (git) env.push(`GIT_DIR=${git.GIT_DIR}`, `GIT_COMMON_DIR=${git.GIT_COMMON_DIR}`, `GIT_WORK_TREE=${git.GIT_WORK_TREE}`);
  return env;
}

export interface ExecPlan {
  file: string;
  args: string[];
  /** The identity's uid: only its processes are ever swept (see runExec). */
  uid: number;
}

export function planExec(request: ExecRequest, config: PrivConfig): ExecPlan {
  if (request.term !== undefined) checkTerm(request.term);
  const identity = resolveIdentity(request, config);
  const cwd = checkDirBelowRoot(request.cwd, config, 'cwd');
  const git = checkGitLocations(request, request.program, cwd, config);
  const program = programArgv(request.program, identity.account, config);
  // env treats an operand containing "=" as an assignment, not the command.
  if (program[0]!.includes('=')) throw configError(`program path ${quote(program[0]!)} contains "="`);
  if (!hasUsableHome(identity.account)) throw refused(`${identity.account.name} has an unusable home ${quote(identity.account.home)}`);
  const setpriv = toolPath('setpriv');
  const env = toolPath('env');
  return {
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
      ...childEnvironment(identity.account, request.term, git),
      ...program,
    ],
    uid: identity.uid,
  };
}

function hasUsableHome(account: PasswdEntry): boolean {
  return account.home.startsWith('/') && !/[\u0000-\u001f\u007f]/.test(account.home);
}

/**
 * Starts the plan with stdio inherited and resolves with agor-priv's exit code once the child ends.
 *
 * The child's processes are one unit (ChildProcesses): the child runs in a session of its own (or,
 * on a web terminal's PTY, in that terminal's session, which it needs for job control), and its
 * processes are those of that session running as the identity's uid plus every descendant found
 * in a session of its own (a background `cmd &`, a job-controlled pipeline, an agent's tool).
 *   - SIGTERM / SIGHUP / SIGINT (sudo relays what the daemon sends) go to all of them; after
 *     SIGTERM or SIGHUP, whatever is left after KILL_GRACE_MS is SIGKILLed;
 *   - SIGQUIT / SIGUSR1 / SIGUSR2 go to the child only;
 *   - when the child exits, what it left behind gets SIGTERM, then SIGKILL after KILL_GRACE_MS, and
 *     only then does agor-priv exit (so the daemon sees the exit once nothing is left);
 *   - if agor-priv's parent (sudo) disappears, all of them are SIGKILLed at once.
 */
export function runExec(plan: ExecPlan): Promise<number> {
  return new Promise((resolve) => {
    const parent = process.ppid;
    const terminal = stdinIsControllingTerminal();
    const child = spawn(plan.file, plan.args, { stdio: 'inherit', env: {}, cwd: '/', detached: terminal === null });
    let childGone = false;
    const session = terminal ? terminal.session : child.pid;
    const processes = session === undefined ? null : new ChildProcesses(plan.uid, session, () => (childGone ? undefined : child.pid));
    const signalAll = (signal: NodeJS.Signals) => {
      if (!childGone) child.kill(signal);
      processes?.signal(signal);
    };
    let escalation: NodeJS.Timeout | undefined;
    const onSignal = (signal: NodeJS.Signals) => () => {
      if (!GROUP_SIGNALS.includes(signal)) {
        if (!childGone) child.kill(signal);
        return;
      }
      signalAll(signal);
      if (signal !== 'SIGINT' && escalation === undefined) escalation = setTimeout(() => signalAll('SIGKILL'), KILL_GRACE_MS);
    };
    const handlers = FORWARDED_SIGNALS.map((signal) => [signal, onSignal(signal)] as const);
    for (const [signal, handler] of handlers) process.on(signal, handler);
    const watch = setInterval(() => {
      if (process.ppid !== parent) signalAll('SIGKILL');
      else processes?.scan(); // keeps track of the sessions descendants start
    }, PARENT_POLL_MS);
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      clearInterval(watch);
      clearTimeout(escalation);
      for (const [signal, handler] of handlers) process.off(signal, handler);
      resolve(code);
    };
    /** After the child: SIGTERM what it left, SIGKILL what is still there after the grace. */
    const sweep = async (code: number) => {
      childGone = true;
      if (processes && processes.signal('SIGTERM') > 0) {
        const deadline = Date.now() + KILL_GRACE_MS;
        while (Date.now() < deadline && processes.scan().length > 0) await new Promise((r) => setTimeout(r, SWEEP_POLL_MS));
        for (let round = 0; round < 3 && processes.signal('SIGKILL') > 0; round += 1) await new Promise((r) => setTimeout(r, SWEEP_POLL_MS));
      }
      finish(code);
    };
    child.once('error', (error) => {
      process.stderr.write(`agor-priv: unavailable: cannot start setpriv: ${error.message}\n`);
      childGone = true;
      finish(EXIT_CODES.unavailable);
    });
    child.once('exit', (code, signal) => {
      void sweep(code !== null ? code : 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0));
    });
  });
}
