// Shared fixtures for the agent adapter suites: a real git worktree, the executor-like base
// environment (allow-list only, temp HOME and TMPDIR), and an AgentIO that records everything
// the adapter does through it. The adapters are driven directly, as the executor core will.
import { isBaseEnvName } from '../../daemon/executor/env.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeRepo, plainGit, tempDir } from '../../daemon/git/test-support.js';
import type { AgentIO, AgentMessage, AgentTask } from '../../daemon/executor/agents/types.js';

export { cleanupTempDirs, tempDir } from '../../daemon/git/test-support.js';

/** The names the executor may pass on from its own environment (AgentIO.baseEnv). */
export const BASE_ENV_NAMES = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'TERM', 'TMPDIR'] as const;

/** Names a POSIX shell sets by itself in every command it runs. */
export const SHELL_SET_NAMES = ['PWD', 'OLDPWD', 'SHLVL', '_'] as const;

/**
 * A variable planted in the test process's own environment: if anything of the parent's
 * environment leaked into the agent (instead of the allow-listed base), the dump would hold it.
 */
export const CANARY_NAME = 'AGOR_TEST_CANARY_SECRET';
export const CANARY_VALUE = 'canary-value-that-must-not-leak';
process.env[CANARY_NAME] = CANARY_VALUE;

/** A worktree (git worktree add) of a fresh repository, and a private HOME and TMPDIR for the agent. */
export function agentWorkspace(prefix: string): { worktree: string; home: string; tmp: string } {
  const root = tempDir(`agor-${prefix}-`);
  const repo = makeRepo(path.join(root, 'repo'), { 'README.md': 'hello\n' });
  const worktree = path.join(root, 'wt');
  plainGit(repo, 'worktree', 'add', '-q', '-b', `agent-${path.basename(root)}`, worktree);
  const home = path.join(root, 'home');
  const tmp = path.join(root, 'tmp');
  fs.mkdirSync(home, { mode: 0o700 });
  fs.mkdirSync(tmp, { mode: 0o700 });
  return { worktree, home, tmp };
}

/** The executor's allow-listed base environment, with a temporary HOME (the CLIs write ~/.claude*, ~/.codex, ...). */
export function baseEnv(home: string, tmp: string): Record<string, string> {
  const user = os.userInfo().username;
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    USER: user,
    LOGNAME: user,
    SHELL: '/bin/sh',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    TMPDIR: tmp,
  };
}

export type ToolDecision = { behavior: 'allow' } | { behavior: 'deny'; message: string };

export interface RecordingIO extends AgentIO {
  messages: AgentMessage[];
  toolRequests: Array<{ tool: string; input: unknown }>;
  credentialRequests: string[][];
  controller: AbortController;
}

/** An AgentIO that records messages, tool requests and credential requests; tools are allowed unless `decide` says otherwise. */
export function recordingIO(options: {
  credentials: Record<string, string>;
  baseEnv: Record<string, string>;
  decide?: (request: { tool: string; input: unknown }) => ToolDecision;
  onMessage?: (message: AgentMessage) => void;
  onToolRequest?: (request: { tool: string; input: unknown }) => void;
}): RecordingIO {
  const controller = new AbortController();
  const io: RecordingIO = {
    messages: [],
    toolRequests: [],
    credentialRequests: [],
    controller,
    signal: controller.signal,
    baseEnv: options.baseEnv,
    emit(message) {
      io.messages.push(message);
      options.onMessage?.(message);
    },
    async requestTool(request) {
      io.toolRequests.push(request);
      options.onToolRequest?.(request);
      return options.decide?.(request) ?? { behavior: 'allow' };
    },
    async getCredentials(names) {
      io.credentialRequests.push([...names]);
      // Like the daemon: only what was asked for, and only what the creator has.
      return Object.fromEntries(names.filter((n) => n in options.credentials).map((n) => [n, options.credentials[n]!]));
    },
  };
  return io;
}

let tasks = 0;
export function task(cwd: string, prompt: string, fields: Partial<AgentTask> = {}): AgentTask {
  tasks += 1;
  return { task_id: `task-${tasks}`, session_id: 'session-1', cwd, prompt, resume: null, options: {}, ...fields };
}

/** `env -0` output as a map. */
export function parseEnvDump(file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of fs.readFileSync(file, 'utf8').split('\0')) {
    if (!entry) continue;
    const eq = entry.indexOf('=');
    out.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return out;
}

/**
 * Checks an agent's tool environment: every name is allow-listed, a credential, or one the
 * adapter/CLI/shell is known to add (`added`: exact names or patterns); nothing from the test
 * process leaked. Returns the names the agent added, for the record.
 */
export function checkToolEnvironment(
  env: Map<string, string>,
  expected: { base: Record<string, string>; credentials: string[]; added: Array<string | RegExp> },
): { unexpected: string[]; added: string[] } {
  const allowed = new Set<string>([...BASE_ENV_NAMES, ...SHELL_SET_NAMES, ...expected.credentials]);
  const unexpected: string[] = [];
  const added: string[] = [];
  for (const name of [...env.keys()].sort()) {
    if (allowed.has(name) || isBaseEnvName(name)) continue;
    if (expected.added.some((a) => (typeof a === 'string' ? a === name : a.test(name)))) {
      added.push(name);
      continue;
    }
    unexpected.push(name);
  }
  return { unexpected, added };
}

/** Asserts the canary of the parent environment appears nowhere in a dump (names or values). */
export function leakedCanary(env: Map<string, string>): boolean {
  return env.has(CANARY_NAME) || [...env.values()].some((v) => v.includes(CANARY_VALUE));
}

/** The message types in emission order, consecutive duplicates kept. */
export function types(messages: AgentMessage[]): string[] {
  return messages.map((m) => m.type);
}
