// Git metadata for worktrees run by other Unix identities (insulated/strict). A linked worktree's
// `.git` points into the repository: its admin dir (<common>/worktrees/<id>: index, HEAD) and the
// shared object store and refs. For `git status/add/commit` to work as a worktree's identity, the
// daemon — which owns the repository, so no root is needed — opens exactly this much, with ACLs:
//
//   <common> (.git)               mode o-rwx; ACL group:<agor_wt_X>:--x per worktree of the repo.
//                                 This is the GATE: only the daemon and the repo's worktree groups
//                                 get past it. Its mask never gains w, so config-audit's rule (the
//                                 config's directory chain writable by nobody else) keeps holding.
//   config HEAD packed-refs info/ other-readable behind the gate; still daemon-owned, never writable
//                                 by anyone else, so nothing an identity writes is run by git.
//   objects/ refs/ logs/          other rwx behind the gate, default ACL other rwx (umask-proof), so
//                                 every identity of the repo can add objects and move its branch.
//   hooks/                        untouched (private): no hook of the repository runs as an identity.
//   worktrees/                    o+x; worktrees/<id> (the admin dir) is private to ITS group:
//                                 group:<G>:rwx plus default ACLs for G and the daemon user.
//
// Consequence, documented: identities of different worktrees of ONE repository share its object
// store and refs (a commit is visible to the repo's other worktree groups, and a branch ref can be
// moved by them). Nothing there is ever executed; config, hooks and the per-worktree admin dir stay
// per-identity-set. Worktrees of other repositories are unreachable.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { locateRepository, locateWorktree } from '../git/index.js';
import { WORKTREE_GROUP_PATTERN } from './names.js';
import { readPrivConfig } from './os-state.js';

const TOOL_ENV = Object.freeze({ PATH: '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' });
const SHARED_TREES = ['objects', 'refs', 'logs'] as const;
const READABLE_FILES = ['config', 'HEAD', 'packed-refs', 'shallow', 'commondir'] as const;

export class GitAccessError extends Error {
  override name = 'GitAccessError';
}

function tool(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: TOOL_ENV, timeout: 120_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new GitAccessError(`${file} ${args.slice(0, 3).join(' ')} ...: ${String(stderr).trim().split('\n').pop() || error.message}`));
      else resolve(String(stdout));
    });
  });
}

async function setfacl(args: string[], targets: string[]): Promise<void> {
  for (let i = 0; i < targets.length; i += 200) await tool('setfacl', [...args, '--', ...targets.slice(i, i + 200)]);
}

const myUid = () => process.geteuid?.() ?? -1;

function lstat(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch {
    return null;
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Makes `target` reachable (every ancestor traversable) by the members of `group` and, for the data
 * dir's own directories, by others (a worktree's others_fs_access needs that). Daemon-owned ancestors
 * inside `dataDir` get o+x (traverse only, no listing); other daemon-owned ancestors get a
 * group:<group>:--x ACL entry; anything else must already be traversable, or this says what to fix.
 */
export async function ensureReachable(target: string, group: string, dataDir: string): Promise<void> {
  const ancestors: string[] = [];
  for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
    ancestors.push(dir);
    if (dir === path.dirname(dir)) break;
  }
  for (const dir of ancestors) {
    const st = lstat(dir);
    if (!st || !st.isDirectory()) throw new GitAccessError(`${dir} (above ${target}) is not a plain directory`);
    if (st.mode & 0o001) continue;
    if (st.uid === myUid() && isInside(dir, dataDir)) fs.chmodSync(dir, (st.mode & 0o7777) | 0o001);
    else if (st.uid === myUid()) await setfacl(['-m', `g:${group}:x`], [dir]);
    else {
      throw new GitAccessError(
        `${dir} cannot be traversed by the worktree's Unix identities (mode ${(st.mode & 0o777).toString(8)}, not owned by the daemon user): chmod o+x ${dir}, or move the data dir/repository elsewhere`,
      );
    }
  }
}

/** Every entry under `root` owned by the daemon user, not following symlinks. */
function ownedEntries(root: string): { dirs: string[]; files: string[] } {
  const dirs: string[] = [];
  const files: string[] = [];
  const walk = (p: string) => {
    const st = lstat(p);
    if (!st || st.isSymbolicLink()) return;
    const mine = st.uid === myUid();
    if (st.isDirectory()) {
      if (mine) dirs.push(p);
      let names: string[] = [];
      try {
        names = fs.readdirSync(p);
      } catch {
        return;
      }
      for (const n of names) walk(path.join(p, n));
    } else if (st.isFile() && mine) files.push(p);
  };
  walk(root);
  return { dirs, files };
}

async function hasOpenDefaultAcl(dir: string): Promise<boolean> {
  try {
    return /^default:other::rwx$/m.test(await tool('getfacl', ['-p', '-d', '--', dir]));
  } catch {
    return false;
  }
}

/** Opens objects/, refs/ and logs/ behind the gate (once per repository; idempotent). */
async function openSharedTrees(commonDir: string): Promise<void> {
  fs.mkdirSync(path.join(commonDir, 'logs', 'refs', 'heads'), { recursive: true });
  for (const name of SHARED_TREES) {
    const root = path.join(commonDir, name);
    const st = lstat(root);
    if (!st || !st.isDirectory()) continue;
    if (await hasOpenDefaultAcl(root)) continue;
    const { dirs, files } = ownedEntries(root);
    for (const d of dirs) fs.chmodSync(d, (fs.lstatSync(d).mode & 0o7777) | 0o077);
    for (const f of files) fs.chmodSync(f, (fs.lstatSync(f).mode & 0o7777) | (name === 'objects' ? 0o044 : 0o066));
    await setfacl(['-d', '-m', 'u::rwx,g::rwx,o::rwx'], dirs);
  }
  for (const name of READABLE_FILES) {
    const p = path.join(commonDir, name);
    const st = lstat(p);
    if (st?.isFile() && st.uid === myUid()) fs.chmodSync(p, (st.mode & 0o7777 & ~0o022) | 0o044);
  }
  const info = path.join(commonDir, 'info');
  const infoSt = lstat(info);
  if (infoSt?.isDirectory() && infoSt.uid === myUid()) {
    fs.chmodSync(info, (infoSt.mode & 0o7777 & ~0o022) | 0o005);
    for (const f of ownedEntries(info).files) fs.chmodSync(f, (fs.lstatSync(f).mode & 0o7777 & ~0o022) | 0o004);
  }
  const worktrees = path.join(commonDir, 'worktrees');
  const wtSt = lstat(worktrees);
  if (wtSt?.isDirectory() && wtSt.uid === myUid()) fs.chmodSync(worktrees, (wtSt.mode & 0o7777 & ~0o022) | 0o001);
}

export interface WorktreeGitAccess {
  repoPath: string;
  worktreePath: string;
  group: string;
  /** The daemon's data dir (daemon.data_dir): directories inside it may be made traversable. */
  dataDir: string;
  /** The daemon user's name (for the default ACL that keeps identity-made files readable by it). */
  daemonUser: string;
}

/** Lets `group` run git in its worktree (see the file comment). Idempotent. */
export async function grantWorktreeGitAccess(access: WorktreeGitAccess): Promise<void> {
  const { group } = access;
  if (!WORKTREE_GROUP_PATTERN.test(group)) throw new GitAccessError(`Invalid worktree group ${JSON.stringify(group)}`);
  const repo = await locateRepository(access.repoPath);
  const worktree = locateWorktree(repo, access.worktreePath);
  const common = repo.commonDir;
  const commonSt = fs.lstatSync(common);
  if (commonSt.uid !== myUid()) throw new GitAccessError(`${common} is not owned by the daemon user; clone the repository through the daemon, or chown it`);
  await ensureReachable(common, group, access.dataDir);
  await ensureReachable(worktree.workTree!, group, access.dataDir);
  // The gate: nobody but the daemon and the repo's worktree groups enters the repository's metadata.
  fs.chmodSync(common, commonSt.mode & 0o7770);
  await setfacl(['-m', `g:${group}:x`], [common]);
  await openSharedTrees(common);
  // The worktree's own admin dir: its group and the daemon only.
  const admin = worktree.gitDir;
  const { dirs, files } = ownedEntries(admin);
  await setfacl(['-m', `g:${group}:rwX,o::-`], [...dirs, ...files]);
  await setfacl(['-d', '-m', `u::rwx,u:${access.daemonUser}:rwx,g::rwx,g:${group}:rwx,o::-`], dirs);
}

/** Removes `group`'s entries from the repository's gate and the ancestors it was let through. */
export async function revokeWorktreeGitAccess(repoPath: string, group: string): Promise<void> {
  if (!WORKTREE_GROUP_PATTERN.test(group)) throw new GitAccessError(`Invalid worktree group ${JSON.stringify(group)}`);
  const repo = await locateRepository(repoPath);
  const targets: string[] = [];
  for (let dir = repo.commonDir; ; dir = path.dirname(dir)) {
    const st = lstat(dir);
    if (st?.isDirectory() && st.uid === myUid()) targets.push(dir);
    if (dir === path.dirname(dir)) break;
  }
  const withEntry: string[] = [];
  for (const dir of targets) {
    const acl = await tool('getfacl', ['-p', '--', dir]).catch(() => '');
    if (new RegExp(`^group:${group}:`, 'm').test(acl)) withEntry.push(dir);
  }
  if (withEntry.length) await setfacl(['-x', `g:${group}`], withEntry);
}

/**
 * The git environment a process of another identity must run with in its worktree: GIT_DIR,
 * GIT_COMMON_DIR and GIT_WORK_TREE, found from the repository's own records (never from the
 * worktree's `.git` file or the admin dir's `commondir`, which the worktree's identities can rewrite
 * to point git at configuration of their making — which another identity's git would then run).
 * With GIT_DIR explicit, git also skips its safe.directory ownership check, which would otherwise
 * refuse a worktree owned by the daemon user. The executor sets these for the agent it runs
 * (they travel in run_task); the daemon computes them here.
 */
export interface GitEnvironment {
  GIT_DIR: string;
  GIT_COMMON_DIR: string;
  GIT_WORK_TREE: string;
}

export async function worktreeGitEnvironment(repoPath: string, worktreePath: string): Promise<GitEnvironment> {
  const repo = await locateRepository(repoPath);
  const worktree = locateWorktree(repo, worktreePath);
  return { GIT_DIR: worktree.gitDir, GIT_COMMON_DIR: repo.commonDir, GIT_WORK_TREE: worktree.workTree! };
}

/** worktreeGitEnvironment() of a worktree known to the database (its repository's path from `repos`). */
export async function worktreeGitEnvironmentOf(db: Knex, worktreeId: string): Promise<GitEnvironment> {
  const row = await db('worktrees as w').join('repos as r', 'r.id', 'w.repo_id').where('w.id', worktreeId).first('w.path as path', 'r.path as repo_path');
  if (!row) throw new GitAccessError(`no worktree ${worktreeId} (or its repository) in the database`);
  return worktreeGitEnvironment(String(row.repo_path), String(row.path));
}

/**
 * For a terminal's shell: the pinned locations when every one lies inside agor-priv's worktrees_root
 * (/etc/agor/priv.yaml; the daemon's data dir when that is unreadable), the only place agor-priv
 * accepts them; undefined otherwise (e.g. a repository registered from a path elsewhere), so the
 * terminal still opens and git there falls back to the worktree's own `.git` file.
 */
export async function terminalGitEnvironment(db: Knex, worktreeId: string, dataDir: string): Promise<GitEnvironment | undefined> {
  try {
    const env = await worktreeGitEnvironmentOf(db, worktreeId);
    const configured = readPrivConfig().config?.worktrees_root ?? dataDir;
    const roots = [configured, fs.realpathSync(configured)];
    const inside = (p: string) => roots.some((root) => p !== root && isInside(p, root));
    return [env.GIT_DIR, env.GIT_COMMON_DIR, env.GIT_WORK_TREE].every(inside) ? env : undefined;
  } catch {
    return undefined;
  }
}
