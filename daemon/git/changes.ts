// "Has this worktree uncommitted changes?" without running anything its identities planted. The
// worktree's own git directory is theirs: its config can name filters, an fsmonitor, hooks paths,
// and a nested repository's config is read when git recurses into it. So git never runs with that
// directory as GIT_DIR. The daemon builds a private git directory of its own (0700, daemon-made
// config: no filters, no fsmonitor, submodules ignored) and copies into it, as data, only what
// `git status` needs: the index, HEAD's commit id and info/exclude. Objects are borrowed read-only
// through alternates. Attributes then only come from the work tree's .gitattributes, and none of
// them can run a program when no filter or diff driver is configured. Anything that cannot be read
// plainly (HEAD unresolvable, a split index, a symlinked index) fails closed: the caller treats the
// worktree as changed, so only a forced delete removes it.
import fs from 'node:fs';
import path from 'node:path';
import { GitError } from './errors.js';
import { gitPrivateDirs } from './exec.js';
import { readSmallFile, type WorktreeLayout } from './worktree-layout.js';
import { runGit } from './runner.js';

const MAX_INDEX_BYTES = 512 * 1024 * 1024;
const MAX_PACKED_REFS_BYTES = 64 * 1024 * 1024;
const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const REF = /^refs\/[A-Za-z0-9._\/-]{1,240}$/;

/** The changes could not be determined from the worktree's metadata read as data. */
export class ChangesUnknownError extends Error {
  override name = 'ChangesUnknownError';
}

/** The daemon's private git directory config for status: every program git could run is off. */
const SHADOW_CONFIG = `[core]
\trepositoryformatversion = 0
\tbare = false
\tfilemode = true
\tfsmonitor = false
\tuntrackedCache = false
\tsplitIndex = false
\tsparseCheckout = false
\thooksPath = /dev/null
\tattributesFile = /dev/null
[diff]
\tignoreSubmodules = all
[status]
\tsubmoduleSummary = false
[submodule]
\trecurse = false
[index]
\tsparse = false
`;

/** Copies a regular file (not through a symlink) into `to`; false when it does not exist. */
function copyPlainFile(from: string, to: string, max: number): boolean {
  let fd: number;
  try {
    fd = fs.openSync(from, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    throw new ChangesUnknownError(`${from} cannot be read (${code})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new ChangesUnknownError(`${from} is not a regular file`);
    if (st.size > max) throw new ChangesUnknownError(`${from} is larger than ${max} bytes`);
    const out = fs.openSync(to, 'wx', 0o600);
    try {
      const buf = Buffer.alloc(1024 * 1024);
      let total = 0;
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        total += n;
        if (total > max) throw new ChangesUnknownError(`${from} grew beyond ${max} bytes`);
        fs.writeSync(out, buf, 0, n);
      }
    } finally {
      fs.closeSync(out);
    }
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

function findPackedRef(file: string, ref: string): string | null {
  const copy = path.join(gitPrivateDirs().home, `packed-refs-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  try {
    if (!copyPlainFile(file, copy, MAX_PACKED_REFS_BYTES)) return null;
    for (const line of fs.readFileSync(copy, 'utf8').split('\n')) {
      const [id, name] = line.split(' ');
      if (name === ref && id && OBJECT_ID.test(id)) return id;
    }
    return null;
  } finally {
    fs.rmSync(copy, { force: true });
  }
}

/** HEAD's commit id, read as data: a detached id, or a branch's loose or packed ref. */
function headCommit(gitDir: string, refsDir: string): string {
  const head = (readSmallFile(path.join(gitDir, 'HEAD')) ?? '').trim();
  if (OBJECT_ID.test(head)) return head;
  const ref = /^ref: (.+)$/.exec(head)?.[1];
  if (!ref || !REF.test(ref) || ref.split('/').some((p) => p === '' || p === '.' || p === '..' || p.endsWith('.lock'))) {
    throw new ChangesUnknownError(`its HEAD (${JSON.stringify(head.slice(0, 80))}) does not name a branch`);
  }
  const loose = (readSmallFile(path.join(refsDir, ref)) ?? '').trim();
  if (OBJECT_ID.test(loose)) return loose;
  const packed = findPackedRef(path.join(refsDir, 'packed-refs'), ref);
  if (packed) return packed;
  throw new ChangesUnknownError(`its branch ${ref} has no commit`);
}

/**
 * Paths `git status` reports as changed, staged or untracked (ignored files excluded), for the
 * worktree of `layout`, computed in a private git directory (see the file comment). Throws
 * ChangesUnknownError when the worktree's metadata cannot be read plainly.
 */
export async function changesOf(layout: WorktreeLayout, mirrorObjects: string): Promise<string[]> {
  const metadata = layout.kind === 'clone' ? layout.gitDir : layout.adminDir;
  const refsDir = layout.kind === 'clone' ? layout.gitDir : layout.commonDir;
  const objects = layout.kind === 'clone' ? path.join(layout.gitDir, 'objects') : path.join(layout.commonDir, 'objects');
  const shadow = fs.mkdtempSync(path.join(gitPrivateDirs().home, 'status-'));
  try {
    const commit = headCommit(metadata, refsDir);
    fs.mkdirSync(path.join(shadow, 'objects', 'info'), { recursive: true, mode: 0o700 });
    fs.mkdirSync(path.join(shadow, 'refs'), { mode: 0o700 });
    fs.mkdirSync(path.join(shadow, 'info'), { mode: 0o700 });
    // Objects are data: a worktree's own (its alternates lead on to the mirror's), then the mirror's.
    fs.writeFileSync(path.join(shadow, 'objects', 'info', 'alternates'), `${objects}\n${mirrorObjects}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(shadow, 'HEAD'), `${commit}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(shadow, 'config'), SHADOW_CONFIG, { mode: 0o600 });
    if (!copyPlainFile(path.join(metadata, 'index'), path.join(shadow, 'index'), MAX_INDEX_BYTES)) {
      throw new ChangesUnknownError('it has no index');
    }
    copyPlainFile(path.join(refsDir, 'info', 'exclude'), path.join(shadow, 'info', 'exclude'), 1024 * 1024);
    let stdout: string;
    try {
      ({ stdout } = await runGit(['status', '--porcelain=v1', '-z', '--ignore-submodules=all', '--untracked-files=normal', '--no-renames'], {
        cwd: layout.workTree,
        repo: { gitDir: shadow, commonDir: shadow, workTree: layout.workTree },
      }));
    } catch (error) {
      if (error instanceof GitError) throw new ChangesUnknownError(`git status failed on it (${error.stderrLine})`);
      throw error;
    }
    return stdout
      .split('\0')
      .filter(Boolean)
      .map((f) => f.slice(3));
  } finally {
    fs.rmSync(shadow, { recursive: true, force: true });
  }
}
