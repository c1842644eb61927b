// What an agent's tool call does, whatever the agent calls its tools: Claude Code (Bash, Write,
// Read...), Gemini CLI (run_shell_command, write_file, read_file...) and Codex (command_execution,
// file_change...). Unknown tools are `other`, which every mode but allow-all asks about.
import path from 'node:path';
import type { ToolKind } from './rules.js';
import { unwrapShell } from './shell.js';

export interface ToolCall {
  tool: string;
  kind: ToolKind;
  /** Shell calls: the command line. */
  command?: string;
  /** Absolute paths the call reads or writes (resolved against the worktree). */
  paths: string[];
  /** Fetch calls: the host of each URL. */
  hosts: string[];
}

const KINDS: Record<string, ToolKind> = {
  // Claude Code
  Bash: 'shell',
  BashOutput: 'internal',
  KillShell: 'internal',
  KillBash: 'internal',
  Read: 'read',
  Glob: 'read',
  Grep: 'read',
  LS: 'read',
  NotebookRead: 'read',
  Write: 'edit',
  Edit: 'edit',
  MultiEdit: 'edit',
  NotebookEdit: 'edit',
  WebFetch: 'fetch',
  WebSearch: 'fetch',
  TodoWrite: 'internal',
  Task: 'internal',
  ExitPlanMode: 'internal',
  // Gemini CLI
  run_shell_command: 'shell',
  read_file: 'read',
  read_many_files: 'read',
  glob: 'read',
  search_file_content: 'read',
  list_directory: 'read',
  write_file: 'edit',
  replace: 'edit',
  web_fetch: 'fetch',
  google_web_search: 'fetch',
  write_todos: 'internal',
  // Codex
  command_execution: 'shell',
  file_change: 'edit',
  web_search: 'fetch',
  todo_list: 'internal',
};

const PATH_KEYS = ['file_path', 'notebook_path', 'absolute_path', 'path', 'dir_path', 'directory'];

function record(input: unknown): Record<string, unknown> {
  return input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
}

function pathsOf(tool: string, input: Record<string, unknown>, worktree: string): string[] {
  const raw: string[] = [];
  for (const key of PATH_KEYS) if (typeof input[key] === 'string' && input[key]) raw.push(input[key] as string);
  if (Array.isArray(input.paths)) for (const p of input.paths) if (typeof p === 'string') raw.push(p);
  if (tool === 'file_change' && Array.isArray(input.changes)) {
    for (const c of input.changes) if (typeof record(c).path === 'string') raw.push(record(c).path as string);
  }
  return raw.map((p) => path.resolve(worktree, p));
}

function hostsOf(input: Record<string, unknown>): string[] {
  const texts = [input.url, input.prompt].filter((v): v is string => typeof v === 'string');
  const hosts = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(/https?:\/\/[^\s"'<>]+/g)) {
      try {
        hosts.add(new URL(m[0]).hostname.toLowerCase());
      } catch {
        /* not a URL */
      }
    }
  }
  return [...hosts];
}

export function classifyToolCall(tool: string, input: unknown, worktree: string): ToolCall {
  const fields = record(input);
  const kind: ToolKind = KINDS[tool] ?? (tool.startsWith('mcp__') ? 'mcp' : 'other');
  const call: ToolCall = { tool, kind, paths: pathsOf(tool, fields, worktree), hosts: kind === 'fetch' ? hostsOf(fields) : [] };
  if (kind === 'shell') call.command = unwrapShell(typeof fields.command === 'string' ? fields.command : Array.isArray(fields.command) ? fields.command.join(' ') : '');
  return call;
}

/** Whether `p` is the worktree or inside it (paths are already absolute and normalised). */
export function isInside(p: string, worktree: string): boolean {
  const root = path.resolve(worktree);
  return p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);
}
