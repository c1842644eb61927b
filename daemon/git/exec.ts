// The one place a git process is started. See runner.ts for why each setting is here; this file
// only turns those decisions into an argv and an environment and supervises the child.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GitError } from './errors.js';

export type GitProtocol = 'file' | 'https' | 'http';

/** Where git's repository is, pinned so nothing inside a work tree can redirect git elsewhere. */
export interface GitRepoLocation {
  /** GIT_DIR: a main repository's git dir, or a linked worktree's admin dir (a real path). */
  gitDir: string;
  /** GIT_COMMON_DIR: where config, objects and refs live (a real path). */
  commonDir: string;
  /** GIT_WORK_TREE, or null for a bare repository. */
  workTree: string | null;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Directories git and the few programs it may start (sh, cat, false) are looked up in. */
const CHILD_PATH = '/usr/local/bin:/usr/bin:/bin';
const MAX_STDOUT_BYTES = 64 * 1024 * 1024;
const MAX_STDERR_CHARS = 256 * 1024;
export const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Settings given with `-c`, which git reads after every configuration file, so each one wins over
 * anything a repository's config says. Only settings that are single values can be pinned this
 * way; per-name settings (filter.<x>.*, diff.<x>.textconv, ...) are pinned per repository by
 * config-audit.ts, and `diff.external` by `--no-ext-diff` (an empty value would not disable it).
 */
export const HARDENED_CONFIG: ReadonlyArray<readonly [string, string]> = [
  ['core.hooksPath', '/dev/null'], // no hook can exist under /dev/null, so none runs
  ['core.fsmonitor', 'false'],
  ['core.sshCommand', 'false'], // ssh is also refused as a transport; belt and braces
  ['core.askPass', ''],
  ['credential.helper', ''], // an empty value clears every helper configured before it
  ['core.alternateRefsCommand', 'true'],
  ['core.pager', 'cat'],
  ['core.editor', 'false'],
  ['sequence.editor', 'false'],
  ['core.attributesFile', '/dev/null'],
  ['core.excludesFile', '/dev/null'],
  ['protocol.allow', 'never'], // GIT_ALLOW_PROTOCOL below is what actually decides
  ['commit.gpgSign', 'false'],
  ['tag.gpgSign', 'false'],
  ['tag.forceSignAnnotated', 'false'],
  ['push.gpgSign', 'false'],
  ['log.showSignature', 'false'],
  ['merge.verifySignatures', 'false'],
  ['gpg.program', 'false'],
  ['gpg.openpgp.program', 'false'],
  ['gpg.x509.program', 'false'],
  ['gpg.ssh.program', 'false'],
  ['gpg.ssh.defaultKeyCommand', 'false'],
  ['submodule.recurse', 'false'],
  ['fetch.recurseSubmodules', 'false'],
  ['push.recurseSubmodules', 'no'],
  ['gc.auto', '0'],
  ['maintenance.auto', 'false'],
  ['color.ui', 'false'],
];

let gitBinaryPath: string | null = null;

/** The git executable, found in the fixed search path (never the daemon's own PATH). */
export function gitBinary(): string {
  if (gitBinaryPath) return gitBinaryPath;
  for (const dir of CHILD_PATH.split(':')) {
    const candidate = path.join(dir, 'git');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      gitBinaryPath = candidate;
      return candidate;
    } catch {
      // try the next directory
    }
  }
  throw new Error(`git is not installed: no executable "git" in ${CHILD_PATH}. Install git (e.g. apt-get install git).`);
}

let privateRoot: string | null = null;

/**
 * A directory only the daemon user can enter, made once per process: `home` is git's HOME (so
 * ~/.gitconfig, ~/.config/git/*, ~/.netrc and friends are empty by construction) and `empty` is
 * the working directory of commands that have no repository, so no `.git` can be found there.
 */
export function gitPrivateDirs(): { home: string; empty: string } {
  if (!privateRoot || !fs.existsSync(privateRoot)) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agor-git-'));
    fs.mkdirSync(path.join(root, 'home'), { mode: 0o700 });
    fs.mkdirSync(path.join(root, 'empty'), { mode: 0o700 });
    if (privateRoot === null) {
      process.once('exit', () => {
        if (privateRoot) fs.rmSync(privateRoot, { recursive: true, force: true });
      });
    }
    privateRoot = root;
  }
  const empty = path.join(privateRoot, 'empty');
  // Something (a misused `git init`) left files here: start again from an empty directory.
  if (fs.readdirSync(empty).length > 0) {
    fs.rmSync(empty, { recursive: true, force: true });
    fs.mkdirSync(empty, { mode: 0o700 });
  }
  return { home: path.join(privateRoot, 'home'), empty };
}

/** Masks credentials in URLs (`https://user:token@host` → `https://***@host`). */
export function redactArg(arg: string): string {
  return arg.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}

export function lastMeaningfulLine(stderr: string): string {
  const lines = stderr
    .split(/[\r\n]+/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('hint:'));
  // git often follows its `fatal:` line with usage text; the fatal/error line is the reason.
  const reason = [...lines].reverse().find((l) => /^(fatal|error):/i.test(l));
  return (reason ?? lines[lines.length - 1] ?? '').replace(/^(fatal|error|warning):\s*/i, '');
}

export interface ExecOptions {
  /** A pinned repository; 'none' runs with no repository; 'discover' lets git search from cwd (probe only). */
  repo: GitRepoLocation | 'none' | 'discover';
  cwd?: string;
  /** Extra settings, given through GIT_CONFIG_COUNT so names containing "=" or "." stay exact. */
  extraConfig?: ReadonlyArray<readonly [string, string]>;
  allowProtocols?: readonly GitProtocol[];
  onProgress?: (line: string) => void;
  timeoutMs?: number;
  input?: string;
  allowExitCodes?: readonly number[];
}

export function buildEnv(o: ExecOptions, cwd: string): NodeJS.ProcessEnv {
  const { home } = gitPrivateDirs();
  const env: NodeJS.ProcessEnv = {
    PATH: CHILD_PATH,
    HOME: home,
    LANG: 'C',
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_ALLOW_PROTOCOL: (o.allowProtocols ?? []).join(':'),
    GIT_PROTOCOL_FROM_USER: '0',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    GIT_EDITOR: 'false',
    GIT_SEQUENCE_EDITOR: 'false',
  };
  if (typeof o.repo === 'object') {
    env.GIT_DIR = o.repo.gitDir;
    env.GIT_COMMON_DIR = o.repo.commonDir;
    if (o.repo.workTree) env.GIT_WORK_TREE = o.repo.workTree;
  } else if (o.repo === 'none') {
    env.GIT_CEILING_DIRECTORIES = path.dirname(cwd);
  }
  const extra = o.extraConfig ?? [];
  if (extra.length > 0) {
    env.GIT_CONFIG_COUNT = String(extra.length);
    extra.forEach(([key, value], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = key;
      env[`GIT_CONFIG_VALUE_${i}`] = value;
    });
  }
  return env;
}

/** Starts git with the hardened argv and environment and collects its output. No shell, ever. */
export function execGit(args: readonly string[], o: ExecOptions): Promise<GitResult> {
  const cwd = o.repo === 'none' ? gitPrivateDirs().empty : o.cwd ?? (typeof o.repo === 'object' ? o.repo.workTree ?? o.repo.gitDir : undefined);
  if (!cwd) throw new Error('execGit: a working directory is required');
  const env = buildEnv(o, cwd);
  const argv = [...HARDENED_CONFIG.flatMap(([k, v]) => ['-c', `${k}=${v}`]), ...args];
  const command = ['git', ...args.map(redactArg)].join(' ');
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const allowed = new Set([0, ...(o.allowExitCodes ?? [])]);

  return new Promise((resolve, reject) => {
    const child = spawn(gitBinary(), argv, {
      cwd,
      env,
      shell: false,
      // Its own process group, so a timeout stops git and every helper it started.
      detached: true,
      stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let pending = '';
    let timedOut = false;
    let overflow = false;
    let settled = false;

    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);

    child.stdout!.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_STDOUT_BYTES) {
        overflow = true;
        killGroup();
        return;
      }
      stdout.push(chunk);
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      stderr += text;
      if (stderr.length > MAX_STDERR_CHARS) stderr = stderr.slice(-MAX_STDERR_CHARS);
      if (!o.onProgress) return;
      // Progress meters end their updates with \r, messages with \n: both end a line here.
      pending += text;
      const parts = pending.split(/[\r\n]/);
      pending = parts.pop() ?? '';
      for (const part of parts) {
        const line = part.trim();
        if (line) {
          try {
            o.onProgress(line);
          } catch {
            // a listener's failure must not break the git command
          }
        }
      }
    });
    if (o.input !== undefined) {
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(o.input);
    }

    child.on('error', (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new GitError({ command, exitCode: null, signal: null, stderrLine: `could not start git: ${error.message}`, timedOut: false }));
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const tail = pending.trim();
      if (tail && o.onProgress) {
        try {
          o.onProgress(tail);
        } catch {
          // ignored, as above
        }
      }
      const out = Buffer.concat(stdout).toString('utf8');
      if (!timedOut && !overflow && code !== null && allowed.has(code)) {
        resolve({ stdout: out, stderr, exitCode: code });
        return;
      }
      const stderrLine = overflow ? `its output exceeded ${MAX_STDOUT_BYTES} bytes and it was stopped` : lastMeaningfulLine(stderr);
      reject(new GitError({ command, exitCode: code, signal: overflow || timedOut ? null : signal, stderrLine, timedOut, timeoutMs }));
    });
  });
}
