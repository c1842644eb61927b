// Every top-level command, as `agor --help` lists it, and the module that defines it. main.ts
// imports only the module of the command being run: `agor --version` and `agor --help` load
// commander and nothing else (the Feathers client, socket.io and the daemon's modules cost
// ~10x a bare node start). command-table.test.ts checks these descriptions match the modules'.
import type { Command } from 'commander';

type Register = (program: Command) => void;

export interface TopCommand {
  name: string;
  description: string;
  load(): Promise<Register[]>;
}

export const COMMANDS: TopCommand[] = [
  { name: 'init', description: 'create AGOR_HOME, its config, JWT key and database, and the first owner', load: async () => [(await import('./commands/init.js')).registerInit] },
  { name: 'daemon', description: 'start, stop and inspect the agor daemon', load: async () => [(await import('./commands/daemon.js')).registerDaemon] },
  { name: 'login', description: 'log in to the daemon; the token is stored 0600 in AGOR_HOME', load: async () => [(await import('./commands/login.js')).registerLogin] },
  { name: 'logout', description: 'forget the stored token', load: async () => [(await import('./commands/login.js')).registerLogin] },
  {
    name: 'user',
    description: 'manage users (admins and owners)',
    load: async () => [(await import('./commands/users.js')).registerUsers, (await import('./commands/unix.js')).registerUserUnix],
  },
  { name: 'apikey', description: 'your API keys (Authorization: Bearer <key>)', load: async () => [(await import('./commands/apikeys.js')).registerApiKeys] },
  { name: 'audit', description: 'the tamper-evident audit log', load: async () => [(await import('./commands/audit.js')).registerAudit] },
  { name: 'secrets', description: 'your secrets (agent API keys, environment variables): write-only', load: async () => [(await import('./commands/secrets.js')).registerSecrets] },
  { name: 'config', description: 'read and change config.yaml', load: async () => [(await import('./commands/config.js')).registerConfig] },
  {
    name: 'backup',
    description: 'copy the database (consistent while the daemon runs), config and a manifest into one file; run as the daemon user',
    load: async () => [(await import('./commands/backup.js')).registerBackup],
  },
  {
    name: 'restore',
    description: "replace the database and config with a backup's, after verifying its audit chain; the daemon must be stopped",
    load: async () => [(await import('./commands/backup.js')).registerRestore],
  },
  { name: 'repo', description: 'git repositories the daemon knows', load: async () => [(await import('./commands/repos.js')).registerRepos] },
  { name: 'worktree', description: 'git worktrees, their owners and permissions', load: async () => [(await import('./commands/worktrees.js')).registerWorktrees] },
  { name: 'session', description: 'agent sessions in worktrees', load: async () => [(await import('./commands/sessions.js')).registerSessions] },
  { name: 'prompt', description: 'send a prompt to a session; --wait follows the agent\'s answer', load: async () => [(await import('./commands/prompt.js')).registerPrompt] },
  { name: 'task', description: 'prompts sent to sessions: list, stop, cancel', load: async () => [(await import('./commands/tasks.js')).registerTasks] },
  { name: 'approvals', description: 'tool calls waiting for your answer (your sessions, and worktrees you own)', load: async () => [(await import('./commands/approvals.js')).registerApprovals] },
  { name: 'approve', description: 'allow a waiting tool call (once, or with --for-session for the rest of the session)', load: async () => [(await import('./commands/approvals.js')).registerApprovals] },
  { name: 'deny', description: 'deny a waiting tool call; the agent is told why', load: async () => [(await import('./commands/approvals.js')).registerApprovals] },
  { name: 'admin', description: 'administration (admins and owners)', load: async () => [(await import('./commands/unix.js')).registerAdmin] },
  {
    name: 'doctor',
    description: "check every prerequisite of the configured mode and say how to fix each (run it as the daemon user, with the daemon's environment)",
    load: async () => [(await import('./commands/doctor.js')).registerDoctor],
  },
];

/** Global options that take a value (their value is not a command name). */
const VALUE_OPTIONS = new Set(['--config', '--url']);

/** The top-level command `argv` (without node and the script) runs, if any: `help X` means X. */
export function commandOf(argv: readonly string[]): TopCommand | undefined {
  const operands: string[] = [];
  for (let i = 0; i < argv.length && operands.length < 2; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) operands.push(arg);
  }
  const name = operands[0] === 'help' ? operands[1] : operands[0];
  return COMMANDS.find((c) => c.name === name);
}
