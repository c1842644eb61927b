// Git metadata for worktrees run by other Unix identities (insulated/strict).
//
// A worktree made now is its own repository (`<worktree>/.git`, prepared with the rest of the tree
// by agor-priv, so it is its group's and nobody else's) that borrows the mirror's objects through
// objects/info/alternates. Its identities must READ the mirror's objects and nothing more:
//
//   <common> (.git)    mode o-rwx; ACL group:<agor_wt_X>:--x per worktree of the repo. This is the
//                      GATE: only the daemon and the repo's worktree groups get past it. Its mask never
//                      gains w, so config-audit's rule (config's directory chain writable by nobody
//                      else) keeps holding.
//   objects/           behind the gate: directories o+rx, files o+r, never w for group or others;
//                      default ACL other r-x so objects the daemon adds later stay readable. Refs, logs,
//                      config, hooks stay private: identities never learn the mirror's branches.
//
// Worktrees made by `git worktree add` before (the linked layout, worktree-layout.ts) still need the
// old shared access to work: while a repository has any, objects/, refs/ and logs/ stay open to its
// worktree groups for writing (documented in README; delete and re-create those worktrees to end it).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { locateRepository, worktreeLayout } from '../git/index.js';
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

/** Whether the mirror still has worktrees of the old linked layout (admin dirs under <common>/worktrees). */
function hasLinkedWorktrees(commonDir: string): boolean {
  try {
    return fs.readdirSync(path.join(commonDir, 'worktrees')).length > 0;
  } catch {
    return false;
  }
}

/**
 * Behind the gate, identities may read objects/ and nothing else: objects/ readable, never writable
 * (this also closes a formerly shared store), every other entry of the git dir closed to others, and
 * a default ACL so entries the daemon's git adds later (FETCH_HEAD, packed-refs) are closed too.
 * Idempotent; a repository done before is recognised by its default ACLs and not walked again.
 */
async function openObjectsReadOnly(commonDir: string): Promise<void> {
  const root = path.join(commonDir, 'objects');
  const st = lstat(root);
  if (!st || !st.isDirectory()) return;
  const done = async (dir: string, entry: RegExp) => entry.test(await tool('getfacl', ['-p', '-d', '--', dir]).catch(() => ''));
  if (!(await done(commonDir, /^default:other::---$/m))) {
    for (const name of fs.readdirSync(commonDir)) {
      if (name === 'objects') continue;
      const p = path.join(commonDir, name);
      const entry = lstat(p);
      if (entry && !entry.isSymbolicLink() && entry.uid === myUid()) fs.chmodSync(p, entry.mode & 0o7770);
    }
    await setfacl(['-d', '-m', 'u::rwx,g::r-x,o::---'], [commonDir]);
  }
  if ((st.mode & 0o022) === 0 && (await done(root, /^default:other::r-x$/m))) return;
  const { dirs, files } = ownedEntries(root);
  for (const d of dirs) fs.chmodSync(d, ((fs.lstatSync(d).mode & 0o7777) & ~0o022) | 0o055);
  for (const f of files) fs.chmodSync(f, ((fs.lstatSync(f).mode & 0o7777) & ~0o022) | 0o044);
  // Replaces a former default ACL of other::rwx: new objects are readable, not writable, by others.
  if (dirs.length) await setfacl(['-d', '-m', 'u::rwx,g::r-x,o::r-x'], dirs);
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
  const layout = worktreeLayout(repo, access.worktreePath);
  const common = repo.commonDir;
  const commonSt = fs.lstatSync(common);
  if (commonSt.uid !== myUid()) throw new GitAccessError(`${common} is not owned by the daemon user; clone the repository through the daemon, or chown it`);
  await ensureReachable(common, group, access.dataDir);
  await ensureReachable(layout.workTree, group, access.dataDir);
  // The gate: nobody but the daemon and the repo's worktree groups enters the repository's metadata.
  fs.chmodSync(common, commonSt.mode & 0o7770);
  await setfacl(['-m', `g:${group}:x`], [common]);
  if (layout.kind === 'clone') {
    // Read-only objects, unless old linked worktrees of the repository still write into the store.
    if (hasLinkedWorktrees(common)) await openSharedTrees(common);
    else await openObjectsReadOnly(common);
    return;
  }
  await openSharedTrees(common);
  // An old linked worktree's admin dir: its group and the daemon only.
  const { dirs, files } = ownedEntries(layout.adminDir);
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
 * The git environment a process of another identity must run with in its worktree. GIT_DIR made
 * explicit keeps git from its safe.directory ownership check, which would refuse a worktree whose
 * top directory the daemon user made. A worktree that is its own repository gets its `.git` as both
 * GIT_DIR and GIT_COMMON_DIR; an old linked worktree its admin dir, found by name (worktree-layout.ts),
 * never from the worktree's `.git` file or the admin dir's `commondir`, which its identities can
 * rewrite. The executor sets these for the agent it runs (they travel in run_task).
 */
export interface GitEnvironment {
  GIT_DIR: string;
  GIT_COMMON_DIR: string;
  GIT_WORK_TREE: string;
  /**
   * A worktree that is its own repository borrows the mirror's objects (objects/info/alternates):
   * that directory, which the sandbox must show read-only (it lies in the hidden data dir). Not an
   * environment variable of the child: git finds it through the alternates file.
   */
  mirrorObjects?: string;
}

/** The three variables a child's git is pinned with (GitEnvironment without what only the sandbox needs). */
export function gitVariables(git: GitEnvironment): { GIT_DIR: string; GIT_COMMON_DIR: string; GIT_WORK_TREE: string } {
  return { GIT_DIR: git.GIT_DIR, GIT_COMMON_DIR: git.GIT_COMMON_DIR, GIT_WORK_TREE: git.GIT_WORK_TREE };
}

export async function worktreeGitEnvironment(repoPath: string, worktreePath: string): Promise<GitEnvironment> {
  const repo = await locateRepository(repoPath);
  const layout = worktreeLayout(repo, worktreePath);
  if (layout.kind === 'clone') return { GIT_DIR: layout.gitDir, GIT_COMMON_DIR: layout.gitDir, GIT_WORK_TREE: layout.workTree, mirrorObjects: path.join(repo.commonDir, 'objects') };
  return { GIT_DIR: layout.adminDir, GIT_COMMON_DIR: layout.commonDir, GIT_WORK_TREE: layout.workTree };
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
