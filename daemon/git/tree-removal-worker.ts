// Worker thread of removeTreeNoFollow (tree-removal.ts): the descriptor walk is synchronous, and a
// worktree may hold a node_modules of 100k files, so it runs off the daemon's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import fs from 'node:fs';
import { openDirectoryNoFollow, removeTreeAt } from '../priv/remove-tree.js';

const { parent, name } = workerData as { parent: string; name: string };
try {
  const fd = openDirectoryNoFollow(parent);
  try {
    parentPort!.postMessage({ ok: true, report: removeTreeAt(fd, name, `${parent}/${name}`) });
  } finally {
    fs.closeSync(fd);
  }
} catch (error) {
  parentPort!.postMessage({ ok: false, message: (error as Error).message, refused: (error as { code?: string }).code === 'refused' });
}
