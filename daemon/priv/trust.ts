// "Only root could have written this": the check agor-priv makes on its own files, its config, the
// programs it runs as root and the programs it starts as another identity. A file passes when it and
// every directory above it are owned by root and writable by nobody else — otherwise whoever can
// write one of them can change what root (or a user's identity) executes.
import fs from 'node:fs';
import path from 'node:path';
import { configError, quote, unavailable, type PrivError } from './errors.js';

export interface OwnerMode {
  uid: number;
  mode: number;
}

/** Why a file/dir with this owner and mode cannot be trusted, or null. */
export function whyUntrusted(st: OwnerMode): string | null {
  if (st.uid !== 0) return `owned by uid ${st.uid}, not root`;
  if ((st.mode & 0o022) !== 0) return `writable by group or others (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
  return null;
}

export type TrustFailure = (message: string) => PrivError;

/**
 * Checks `file` (resolved with realpath) and all its ancestors. A missing file is reported with
 * `onMissing` (default: config), an untrusted one with `onUntrusted` (default: config).
 * Returns the real path.
 */
export function assertTrustedFile(
  file: string,
  what: string,
  options: { kind?: 'file' | 'dir'; onMissing?: TrustFailure; onUntrusted?: TrustFailure } = {},
): string {
  const onMissing = options.onMissing ?? configError;
  const onUntrusted = options.onUntrusted ?? configError;
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw onMissing(`${what} ${quote(file)} is not available (${code ?? 'error'})`);
  }
  const st = fs.lstatSync(real);
  const kind = options.kind ?? 'file';
  if (kind === 'file' && !st.isFile()) throw onUntrusted(`${what} ${quote(real)} is not a regular file`);
  if (kind === 'dir' && !st.isDirectory()) throw onUntrusted(`${what} ${quote(real)} is not a directory`);
  for (let p = real; ; p = path.dirname(p)) {
    const why = whyUntrusted(fs.lstatSync(p));
    if (why) throw onUntrusted(`${what} ${quote(real)} is not safe: ${p === real ? 'it is' : quote(p) + ' is'} ${why}`);
    if (p === '/') break;
  }
  return real;
}

/** A system tool agor-priv runs as root: missing → unavailable (69), untrusted → config (66). */
export function assertTrustedTool(file: string): string {
  return assertTrustedFile(file, 'system tool', { onMissing: unavailable, onUntrusted: configError });
}
