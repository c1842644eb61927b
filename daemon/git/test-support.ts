// Helpers for the git module's tests: real repositories in temporary directories, made with a
// plain (unhardened) git that ignores this machine's own git configuration.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];

/** A fresh 0700 temporary directory (real path), removed by cleanupTempDirs(). */
export function tempDir(prefix = 'agor-git-test-'): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  made.push(dir);
  return dir;
}

export function cleanupTempDirs(): void {
  plainHome = null;
  for (const dir of made.splice(0)) {
    // Tests may have chowned/chmodded things; make sure everything can go.
    spawnSync('chmod', ['-R', 'u+rwX', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let plainHome: string | null = null;

// A test file that forgets cleanupTempDirs() still leaves nothing behind.
process.once('exit', cleanupTempDirs);

/** Environment for fixture setup and "control" runs: ordinary git, but not this machine's config. */
export function plainEnv(): NodeJS.ProcessEnv {
  if (!plainHome || !fs.existsSync(plainHome)) plainHome = tempDir('agor-git-test-home-');
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: plainHome,
    LANG: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.invalid',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.invalid',
    GIT_TERMINAL_PROMPT: '0',
  };
}

/** Runs plain git; throws on failure. */
export function plainGit(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: plainEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs plain git and reports the outcome instead of throwing (control runs may fail after the planted program ran). */
export function plainGitTry(cwd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('git', args, { cwd, env: { ...plainEnv(), ...extraEnv }, encoding: 'utf8', input: '', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A non-bare repository on branch main with one commit of `files`. */
export function makeRepo(dir: string, files: Record<string, string> = { 'README.md': 'hello\n' }): string {
  fs.mkdirSync(dir, { recursive: true });
  plainGit(dir, 'init', '-q', '-b', 'main');
  commitFiles(dir, files, 'initial');
  return dir;
}

export function commitFiles(dir: string, files: Record<string, string>, message: string): void {
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  plainGit(dir, 'add', '-A');
  plainGit(dir, 'commit', '-q', '--allow-empty', '-m', message);
}

/**
 * An executable that records each run in <markerDir>/<name> and otherwise behaves as harmlessly
 * as it can for whatever role it was planted in (filter: copies stdin; textconv: prints the file).
 */
export function evilProgram(markerDir: string, name: string, behaviour: 'passthrough' | 'exit' = 'passthrough'): string {
  const file = path.join(markerDir, 'bin', name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const rest = behaviour === 'exit' ? 'exit 1\n' : 'case "$1" in ""|-*) exec cat ;; esac\n[ -f "$1" ] && exec cat "$1"\nexit 0\n';
  fs.writeFileSync(file, `#!/bin/sh\necho "ran $0 $*" >> '${path.join(markerDir, 'ran', name)}'\n${rest}`, { mode: 0o755 });
  fs.mkdirSync(path.join(markerDir, 'ran'), { recursive: true });
  return file;
}

/** Names of the planted programs that ran. */
export function ranPrograms(markerDir: string): string[] {
  const dir = path.join(markerDir, 'ran');
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

export function clearRan(markerDir: string): void {
  fs.rmSync(path.join(markerDir, 'ran'), { recursive: true, force: true });
  fs.mkdirSync(path.join(markerDir, 'ran'), { recursive: true });
}

/** Every hook git knows, planted as an evil program in `hooksDir`. */
export const HOOK_NAMES = [
  'applypatch-msg', 'pre-applypatch', 'post-applypatch', 'pre-commit', 'pre-merge-commit', 'prepare-commit-msg',
  'commit-msg', 'post-commit', 'pre-rebase', 'post-checkout', 'post-merge', 'pre-push', 'pre-receive', 'update',
  'proc-receive', 'post-receive', 'post-update', 'reference-transaction', 'push-to-checkout', 'pre-auto-gc',
  'post-rewrite', 'sendemail-validate', 'fsmonitor-watchman', 'p4-changelist', 'p4-prepare-changelist',
  'p4-post-changelist', 'p4-pre-submit', 'post-index-change',
];

export function plantHooks(hooksDir: string, markerDir: string, tag: string): void {
  fs.mkdirSync(hooksDir, { recursive: true });
  for (const hook of HOOK_NAMES) fs.copyFileSync(evilProgram(markerDir, `${tag}-${hook}`), path.join(hooksDir, hook));
  for (const hook of HOOK_NAMES) fs.chmodSync(path.join(hooksDir, hook), 0o755);
}

export const isRoot = typeof process.geteuid === 'function' && process.geteuid() === 0;
