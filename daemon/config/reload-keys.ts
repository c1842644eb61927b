import { createHash } from 'node:crypto';
import type { AgorConfig } from './schema.js';

/**
 * Which config keys a running daemon cannot take from an edited file: it listens, opens its
 * database, chose its data directory and its isolation mode, and decided how to keep secrets and
 * issue tokens, once, at start (startup-checks.ts refuses unsafe combinations only then). A key
 * under one of these prefixes waits for a restart ("pending restart"); EVERY OTHER KEY APPLIES LIVE
 * (agents, limits, the terminal switch, idle timeouts, tool policy, ...): modules read them from
 * app.get('runtime').config on each use. A new key that is read once at start belongs here.
 */
export const RESTART_ONLY_KEYS = [
  'daemon',
  'database',
  'auth',
  'security',
  'execution.worktree_rbac',
  'execution.unix_user_mode',
  'execution.executor_unix_user',
  'execution.priv_path',
  'execution.sudo_path',
] as const;

export function isRestartOnly(key: string): boolean {
  return RESTART_ONLY_KEYS.some((prefix) => key === prefix || key.startsWith(`${prefix}.`));
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Dotted paths of the leaves that differ (a list compares as one value). Names only, never values. */
export function changedKeys(before: unknown, after: unknown, prefix = ''): string[] {
  if (isPlain(before) && isPlain(after)) {
    const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return names.flatMap((name) => changedKeys(before[name], after[name], prefix ? `${prefix}.${name}` : name));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}

function getIn(obj: unknown, parts: string[]): unknown {
  return parts.reduce<unknown>((v, p) => (isPlain(v) ? v[p] : undefined), obj);
}

/** `next` with every restart-only key as `running` has it: what a live reload applies. */
export function withRestartKeysFrom(running: AgorConfig, next: AgorConfig): AgorConfig {
  const merged = structuredClone(next) as unknown as Plain;
  for (const key of RESTART_ONLY_KEYS) {
    const parts = key.split('.');
    const parent = getIn(merged, parts.slice(0, -1)) as Plain;
    const value = getIn(running, parts);
    if (value === undefined) delete parent[parts.at(-1)!];
    else parent[parts.at(-1)!] = structuredClone(value);
  }
  return merged as unknown as AgorConfig;
}

function leaves(obj: unknown, prefix: string): [string, unknown][] {
  if (isPlain(obj)) return Object.keys(obj).sort().flatMap((k) => leaves(obj[k], `${prefix}.${k}`));
  return obj === undefined ? [] : [[prefix, obj]];
}

/**
 * One short hash per restart-only leaf key, as the running daemon has it (kept in its pidfile): the
 * CLI compares a file's values with them without asking the daemon, and no value is written out.
 */
export function restartFingerprint(config: AgorConfig): Record<string, string> {
  const entries = RESTART_ONLY_KEYS.flatMap((key) => leaves(getIn(config, key.split('.')), key));
  return Object.fromEntries(entries.map(([key, value]) => [key, createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16)]));
}

/** Restart-only keys whose value in `fileConfig` differs from the running daemon's fingerprint. */
export function pendingRestart(running: Record<string, string>, fileConfig: AgorConfig): string[] {
  const file = restartFingerprint(fileConfig);
  return [...new Set([...Object.keys(running), ...Object.keys(file)])].filter((key) => running[key] !== file[key]).sort();
}

/** For `agor daemon status` and `agor doctor`: keys edited in the file that the running daemon has not taken. */
export function pendingRestartOfRunning(running: { restart_fingerprint?: Record<string, string> } | null, fileConfig: AgorConfig): string[] {
  return running?.restart_fingerprint ? pendingRestart(running.restart_fingerprint, fileConfig) : [];
}
