import { ValidationError } from './errors.js';

/** Worktree (and clone) directory names: one path component the daemon picks the parent of. */
export const WORKTREE_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;

const MAX_REF_BYTES = 255;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function describeChar(c: string): string {
  const code = c.codePointAt(0)!;
  if (c === ' ') return 'a space';
  if (code < 0x20 || code === 0x7f) return `a control character (0x${code.toString(16).padStart(2, '0')})`;
  return `"${c}"`;
}

/**
 * Throws a ValidationError unless `name` is a directory name a worktree may have: 1-64 letters,
 * digits, ".", "_" or "-", starting with a letter or digit, and without "..". The check leaves
 * no way to reach another directory (no "/", no leading "-" for option smuggling, no "..").
 */
export function validateWorktreeName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new ValidationError('Invalid worktree name: it is empty');
  if (!WORKTREE_NAME_PATTERN.test(name)) {
    const first = name[0]!;
    let why: string;
    if (name.length > 64) why = 'it is longer than 64 characters';
    else if (!/[a-zA-Z0-9]/.test(first)) why = `it starts with ${describeChar(first)}; it must start with a letter or digit`;
    else {
      const bad = [...name].find((c) => !/[a-zA-Z0-9._-]/.test(c))!;
      why = `it contains ${describeChar(bad)}; only letters, digits, ".", "_" and "-" are allowed`;
    }
    throw new ValidationError(`Invalid worktree name ${JSON.stringify(name)}: ${why}`);
  }
  if (name.includes('..')) throw new ValidationError(`Invalid worktree name ${JSON.stringify(name)}: it contains ".."`);
}

/**
 * Throws a ValidationError unless `name` is a branch name `git check-ref-format --branch` accepts
 * (the rules of git-check-ref-format(1) for refs/heads/<name>), and additionally: it does not
 * start with "-" (it must never read as an option), is at most 255 bytes, and is well-formed
 * Unicode. Checked in-process so a bad name never reaches a git command line.
 */
export function validateRefName(name: string, what = 'branch name'): void {
  const fail = (why: string): never => {
    throw new ValidationError(`Invalid ${what} ${JSON.stringify(name)}: ${why}`);
  };
  if (typeof name !== 'string' || name.length === 0) throw new ValidationError(`Invalid ${what}: it is empty`);
  if (LONE_SURROGATE.test(name)) fail('it is not valid Unicode');
  if (Buffer.byteLength(name, 'utf8') > MAX_REF_BYTES) fail(`it is longer than ${MAX_REF_BYTES} bytes`);
  if (name.startsWith('-')) fail('it starts with "-"');
  if (name === '@') fail('it is "@", which git reserves for HEAD');
  if (name === 'HEAD') fail('"HEAD" is reserved by git');
  const bad = /[\x00-\x20\x7f~^:?*[\\]/.exec(name);
  if (bad) fail(`it contains ${describeChar(bad[0])}`);
  if (name.includes('..')) fail('it contains ".."');
  if (name.includes('@{')) fail('it contains "@{"');
  if (name.startsWith('/')) fail('it starts with "/"');
  if (name.endsWith('/')) fail('it ends with "/"');
  if (name.includes('//')) fail('it contains "//"');
  if (name.endsWith('.')) fail('it ends with "."');
  for (const component of name.split('/')) {
    if (component.startsWith('.')) fail(`its part ${JSON.stringify(component)} starts with "."`);
    if (component.endsWith('.lock')) fail(`its part ${JSON.stringify(component)} ends with ".lock"`);
  }
}
