// remove-tree --path <worktrees_root>/<repo>/<worktree>: deletes one worktree's directory as root,
// by the descriptor walk of remove-tree.ts. The path is reached from worktrees_root one component
// at a time without following a symlink (like every path agor-priv takes), and must be exactly two
// levels below it — the daemon's layout of worktrees — so neither worktrees_root nor a repository's
// whole directory of worktrees can be named.
import fs from 'node:fs';
import type { PrivConfig } from './config.js';
import { quote, refused } from './errors.js';
import { closeOpened, componentsBelowRoot, openBelowRoot, openRoot } from './tree.js';
import { removeTreeAt } from './remove-tree.js';

export function removeWorktreeTree(arg: string, config: PrivConfig): void {
  const root = openRoot(config);
  const components = componentsBelowRoot(arg, config.worktrees_root, root.real, 'path');
  if (components.length < 2) {
    throw refused(`--path ${quote(arg)} is not a worktree directory: worktrees lie at least two levels below worktrees_root (<repository>/<worktree>)`);
  }
  const name = components[components.length - 1]!;
  // Opens the worktree's parent without following a symlink; the worktree itself is opened
  // (no-follow) by the walk, relative to that descriptor.
  const parent = openBelowRoot(root, components.slice(0, -1), root.real);
  try {
    const shown = [root.real, ...components].join('/');
    let st: fs.Stats;
    try {
      st = fs.lstatSync(`/proc/self/fd/${parent.fd}/${name}`);
    } catch {
      return; // already gone: nothing to do
    }
    if (!st.isDirectory()) throw refused(`${quote(shown)} is not a directory (a symlink or a file); nothing was removed`);
    removeTreeAt(parent.fd, name, shown);
  } finally {
    closeOpened(parent);
  }
}
