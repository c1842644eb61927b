// exec: run the installed executor or a login shell as a validated identity, in its sandbox.
//
//   setpriv --reuid U --regid G --groups <worktree gid> | --clear-groups  --no-new-privs --inh-caps=-all
//           --pdeathsig SIGKILL -- /usr/bin/env -i -C <cwd> HOME=... USER=... ...
//           /usr/bin/bwrap <sandbox (sandbox.ts)> -- <program> [-l]
//
// setpriv drops to the identity (no new privileges ever: setuid binaries such as sudo cannot raise it
// again) with ONLY the session's worktree group besides its primary group; env, already running as
// the identity, clears the environment, sets the allow-listed variables and changes to <cwd> — so
// the identity can only start in a directory it may enter; bwrap, still as the identity (an
// unprivileged user namespace: nothing in the sandbox is root), builds the sandbox. The private HOME
// and TMPDIR are made by root first (sandbox-dirs.ts).
//
// Nothing of agor-priv stays: it prints this plan (printPlan) and its launcher exec's it, so the
// processes of a running executor are sudo (root, relaying signals) and bwrap (the identity). The
// sandbox's PID namespace is what ends everything the child started: SIGTERM/SIGHUP/SIGINT relayed
// by sudo end bwrap, and with it (--die-with-parent) the sandbox's init; the kernel then kills every
// process in the namespace, `setsid -f` included. A shell may get its worktree's pinned git
// locations (--git-dir/--git-common-dir/--work-tree → GIT_DIR/GIT_COMMON_DIR/GIT_WORK_TREE).
import fs from 'node:fs';
import type { PrivConfig } from './config.js';
import { configError, quote, refused, unavailable } from './errors.js';
import { executorAccount, personAccount, worktreeGroup } from './accounts.js';
import { checkTerm } from './names.js';
import { toolPath, type PasswdEntry } from './system.js';
import { checkGitLocations, checkObjectsDir, type GitLocations } from './git-locations.js';
import { stdinIsControllingTerminal } from './processes.js';
import { checkDirBelowRoot } from './tree.js';
import { assertTrustedFile } from './trust.js';
import { BWRAP_PATH, bwrapArgs, gitPinEnvironment } from './sandbox.js';
import { ensurePrivateDirs } from './sandbox-dirs.js';

export const CHILD_PATH = '/usr/local/bin:/usr/bin:/bin';

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
  /** --objects-dir: the mirror's object store a worktree borrows (shown read-only); only with git locations. */
  objectsDir?: string | undefined;
  /** --network on|off (default on): off gives the sandbox a network namespace of its own. */
  network?: string | undefined;
}

export interface Identity {
  account: PasswdEntry;
  uid: number;
  gid: number;
  /** The worktree group: insulated → the only group; strict → the one supplementary group. */
  worktree: { name: string; gid: number };
}

/**
 * The identity of the request: insulated → the executor user with the worktree group as its only
 * group; strict → the person with its own primary group plus the worktree group, and no other group
 * of the account (a terminal in worktree A never carries the group of worktree B). A strict person
 * must be a member of the worktree group (set-group-members keeps that in step with their tier).
 */
export function resolveIdentity(request: ExecRequest, config: PrivConfig): Identity {
  if (request.mode === 'insulated') {
    if (request.user !== undefined) throw refused('exec --mode insulated takes --group, not --user (it always runs as the executor user)');
    if (request.group === undefined) throw refused('exec --mode insulated needs --group agor_wt_<hex>');
    const group = worktreeGroup(request.group, config);
    const account = executorAccount(config);
    return { account, uid: account.uid, gid: group.gid, worktree: { name: group.name, gid: group.gid } };
  }
  if (request.mode === 'strict') {
    if (request.user === undefined) throw refused('exec --mode strict needs --user agor_<name>');
    if (request.group === undefined) throw refused('exec --mode strict needs --group agor_wt_<hex> (the session\'s worktree: its only supplementary group)');
    // personAccount refuses an account agor-priv did not create or with any group but agor's.
    const account = personAccount(request.user, config);
    const group = worktreeGroup(request.group, config);
    if (!group.members.includes(account.name)) throw refused(`${account.name} is not a member of ${group.name}: no session of theirs may run in that worktree`);
    return { account, uid: account.uid, gid: account.gid, worktree: { name: group.name, gid: group.gid } };
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
  const env = [`HOME=${account.home}`, `USER=${account.name}`, `LOGNAME=${account.name}`, `SHELL=${account.shell}`, `PATH=${CHILD_PATH}`, 'LANG=C.UTF-8', 'TMPDIR=/tmp', ...gitPinEnvironment()];
  if (term !== undefined) env.push(`TERM=${term}`);
  if (git) env.push(`GIT_DIR=${git.GIT_DIR}`, `GIT_COMMON_DIR=${git.GIT_COMMON_DIR}`, `GIT_WORK_TREE=${git.GIT_WORK_TREE}`);
  return env;
}

export interface ExecPlan {
  file: string;
  args: string[];
}

/** Those of `paths` that are directories (a tmpfs can only hide what exists). */
function existingDirs(paths: string[]): string[] {
  return paths.filter((p) => {
    try {
      return p.startsWith('/') && p !== '/' && fs.lstatSync(p).isDirectory();
    } catch {
      return false;
    }
  });
}

export function planExec(request: ExecRequest, config: PrivConfig): ExecPlan {
  if (request.term !== undefined) checkTerm(request.term);
  const network = request.network ?? 'on';
  if (network !== 'on' && network !== 'off') throw refused(`exec --network must be on or off (got ${quote(network)})`);
  const identity = resolveIdentity(request, config);
  const cwd = checkDirBelowRoot(request.cwd, config, 'cwd');
  const git = checkGitLocations(request, cwd, config);
  const objects = checkObjectsDir(request.objectsDir, git, config);
  const program = programArgv(request.program, identity.account, config);
  // env treats an operand containing "=" as an assignment, not the command.
  if (program[0]!.includes('=')) throw configError(`program path ${quote(program[0]!)} contains "="`);
  const home = identity.account.home;
  if (!hasUsableHome(identity.account)) throw refused(`${identity.account.name} has an unusable home ${quote(home)}`);
  if (existingDirs([home]).length === 0) throw unavailable(`the home ${quote(home)} of ${identity.account.name} is not a directory (the sandbox shows its private HOME there)`);
  const dirs = ensurePrivateDirs(config, identity.account, identity.worktree);
  const bwrap = assertTrustedFile(BWRAP_PATH, 'bubblewrap', { onMissing: unavailable });
  const daemonHome = lookupDaemonHome(config);
  const sandbox = bwrapArgs({
    writable: git ? [git.GIT_WORK_TREE, git.GIT_COMMON_DIR] : [cwd],
    readOnly: objects ? [objects] : [],
    hide: existingDirs([config.worktrees_root, config.sandboxes_root, ...(daemonHome ? [daemonHome] : [])]),
    home: { source: dirs.home, target: home },
    tmp: dirs.tmp,
    cwd,
    network: network === 'on',
    // A web terminal's shell keeps its PTY as controlling terminal (job control); see sandbox.ts.
    newSession: !(request.program === 'shell' && stdinIsControllingTerminal() !== null),
  });
  const setpriv = toolPath('setpriv');
  const env = toolPath('env');
  const groups = identity.gid === identity.worktree.gid ? ['--clear-groups'] : ['--groups', String(identity.worktree.gid)];
  return {
    file: setpriv,
    args: [
      '--reuid', String(identity.uid),
      '--regid', String(identity.gid),
      ...groups,
      '--no-new-privs',
      '--inh-caps=-all',
      '--pdeathsig', 'SIGKILL',
      '--',
      env,
      '-i',
      '-C', cwd,
      ...childEnvironment(identity.account, request.term, request.program === 'shell' ? git : null),
      bwrap,
      ...sandbox,
      ...program,
    ],
  };
}

/**
 * The daemon user's home, to hide it too (it is 0700 already: this is belt and braces). Read from
 * the root-owned /etc/passwd rather than through another getent (each costs a process start on
 * every exec); an account only NSS knows is simply not hidden twice.
 */
function lookupDaemonHome(config: PrivConfig): string | null {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields[0] === config.daemon_user && fields.length === 7 && fields[5]!.startsWith('/')) return fields[5]!;
    }
  } catch {
    /* no local passwd: nothing extra to hide */
  }
  return null;
}

function hasUsableHome(account: PasswdEntry): boolean {
  return account.home.startsWith('/') && account.home !== '/' && !/[\u0000-\u001f\u007f]/.test(account.home);
}

/**
 * The plan as the launcher reads it: one argument per line, every byte outside a safe set written
 * as \xHH (bash's `printf %b` turns it back), so no argument can split or join lines.
 */
export function encodePlan(plan: ExecPlan): string {
  const encode = (arg: string) => [...Buffer.from(arg, 'utf8')].map((b) => (/[A-Za-z0-9/._=:,+@-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
  return [plan.file, ...plan.args].map(encode).join('\n') + '\n';
}
