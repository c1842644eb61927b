// The daemon's git module: every git command goes through runGit (runner.ts explains the hardening).
export { runGit, discoverRepository, type RunGitOptions, type GitProtocol, type GitRepoLocation, type GitResult } from './runner.js';
export { GitError, UnsafeRepositoryError, ValidationError, WorktreeDirtyError, type GitFailure } from './errors.js';
export { validateRefName, validateWorktreeName, WORKTREE_NAME_PATTERN } from './names.js';
export { locateRepository, listWorktreeRecords, type WorktreeRecord } from './location.js';
export { worktreeLayout, type WorktreeLayout } from './worktree-layout.js';
export { removeTreeNoFollow } from './tree-removal.js';
export { cloneRepo, inspectRepo, listBranches, classifyCloneSource, cloneSourceProtocol, type CloneOptions, type RepoInfo } from './repos.js';
export { addWorktree, removeWorktree, worktreeIsDirty, worktreeChanges, type AddWorktreeOptions, type AddedWorktree, type TreeRemover } from './worktrees.js';
