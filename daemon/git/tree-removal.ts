// Deleting a worktree's directory in simple mode (insulated/strict use agor-priv's remove-tree,
// which runs the same walk as root). Never `rm -rf` by path: the walk in daemon/priv/remove-tree.ts
// goes through directory descriptors without following any symlink, so an agent swapping one of its
// directories for a symlink while the daemon deletes cannot make it delete anything outside the tree.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BadRequest, GeneralError } from '@feathersjs/errors';

/**
 * Removes the directory `dir` and everything in it. `dir`'s parent is trusted (the daemon's own
 * directory of a repository's worktrees); from there on nothing is followed.
 */
export function removeTreeNoFollow(dir: string): Promise<void> {
  if (typeof dir !== 'string' || !path.isAbsolute(dir) || path.normalize(dir) !== dir || dir === '/') {
    return Promise.reject(new BadRequest(`Refusing to remove ${JSON.stringify(dir)}: not a normalised absolute path`));
  }
  const parent = path.dirname(dir);
  const name = path.basename(dir);
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./tree-removal-worker.js', import.meta.url), { workerData: { parent, name } });
    let answered = false;
    worker.once('message', (m: { ok: boolean; message?: string; refused?: boolean }) => {
      answered = true;
      if (m.ok) resolve();
      else reject(m.refused ? new BadRequest(`Removing ${dir} was refused: ${m.message}`) : new GeneralError(`Removing ${dir} failed: ${m.message}`));
    });
    worker.once('error', (error) => {
      answered = true;
      reject(new GeneralError(`Removing ${dir} failed: ${error.message}`));
    });
    worker.once('exit', (code) => {
      if (!answered) reject(new GeneralError(`Removing ${dir} failed: its worker exited with code ${code}`));
    });
  });
}
