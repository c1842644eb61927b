// exec's git locations (--git-dir, --git-common-dir, --work-tree): the pinned GIT_DIR,
// GIT_COMMON_DIR and GIT_WORK_TREE of a worktree for a terminal's shell (README.md, exec).
import type { PrivConfig } from './config.js';
import { quote, refused } from './errors.js';
import { checkDirBelowRoot } from './tree.js';

/** The pinned git locations of a worktree, exported to a terminal's shell. */
export interface GitLocations {
  GIT_DIR: string;
  GIT_COMMON_DIR: string;
  GIT_WORK_TREE: string;
}

// One component below <common>/worktrees/ (git names admin dirs after the worktree, plus digits).
const ADMIN_DIR_NAME = /^[A-Za-z0-9._-]{1,255}$/;

/**
 * Checks --git-dir, --git-common-dir and --work-tree: all three or none (a shell gets them as its
 * environment; for the executor, which gets them over its pipe, they only say what the sandbox binds);
 * each an existing directory below worktrees_root reached without
 * any symlink (like --cwd); the admin dir exactly <common>/worktrees/<name>; cwd the work tree or
 * inside it. They only become environment variables of the unprivileged child, so they cannot
 * grant anything its identity could not already reach; the checks keep the daemon from pointing a
 * shell's git anywhere but a worktree's own metadata.
 */
export function checkGitLocations(
  request: { gitDir?: string | undefined; gitCommonDir?: string | undefined; workTree?: string | undefined; cwd: string },
  cwd: string,
  config: PrivConfig,
): GitLocations | null {
  const given = [request.gitDir, request.gitCommonDir, request.workTree].filter((v) => v !== undefined).length;
  if (given === 0) return null;
  if (given !== 3) throw refused('exec: --git-dir, --git-common-dir and --work-tree go together (all three or none)');
  const common = checkDirBelowRoot(request.gitCommonDir!, config, 'git-common-dir');
  const gitDir = checkDirBelowRoot(request.gitDir!, config, 'git-dir');
  const workTree = checkDirBelowRoot(request.workTree!, config, 'work-tree');
  // A worktree that is its own repository: all three name <work-tree>/.git and the work tree.
  const ownRepository = gitDir === common && common === `${workTree}/.git`;
  const adminParent = `${common}/worktrees/`;
  const name = gitDir.startsWith(adminParent) ? gitDir.slice(adminParent.length) : '';
  if (!ownRepository && (!ADMIN_DIR_NAME.test(name) || name === '.' || name === '..')) {
    throw refused(`exec: --git-dir ${quote(request.gitDir!)} is neither <work-tree>/.git nor a worktree's admin dir <git-common-dir>/worktrees/<name>`);
  }
  if (!ownRepository && (workTree === common || workTree.startsWith(`${common}/`))) {
    throw refused(`exec: --work-tree ${quote(request.workTree!)} lies inside the repository's metadata`);
  }
  if (cwd !== workTree && !cwd.startsWith(`${workTree}/`)) throw refused(`exec: --cwd ${quote(request.cwd)} is not inside --work-tree ${quote(request.workTree!)}`);
  return { GIT_DIR: gitDir, GIT_COMMON_DIR: common, GIT_WORK_TREE: workTree };
}

/**
 * Checks --objects-dir: the object store of the repository a worktree borrows from (its
 * objects/info/alternates), which the sandbox shows read-only because it lies in the hidden
 * worktrees root. Only with the git locations of a worktree that is its own repository; an existing
 * directory below worktrees_root reached without any symlink, named `objects`, outside the work
 * tree. Read-only and still subject to the identity's own permissions (the daemon grants worktree
 * groups read access to a mirror's objects and nothing else of it), so it shows nothing the identity
 * could not read anyway.
 */
export function checkObjectsDir(objectsDir: string | undefined, git: GitLocations | null, config: PrivConfig): string | null {
  if (objectsDir === undefined) return null;
  if (!git || git.GIT_DIR !== `${git.GIT_WORK_TREE}/.git`) throw refused('exec: --objects-dir goes with the git locations of a worktree that is its own repository');
  const dir = checkDirBelowRoot(objectsDir, config, 'objects-dir');
  if (!dir.endsWith('/objects')) throw refused(`exec: --objects-dir ${quote(objectsDir)} is not a repository's objects directory`);
  if (dir === git.GIT_WORK_TREE || dir.startsWith(`${git.GIT_WORK_TREE}/`)) throw refused(`exec: --objects-dir ${quote(objectsDir)} lies inside the work tree`);
  return dir;
}
