// The system tools agor-priv runs as root, by absolute path, never through a shell, with a fixed
// environment and cwd, and the account lookups it makes (through getent, so NSS is honoured).
import { spawnSync, type StdioOptions } from 'node:child_process';
import { quote, unavailable } from './errors.js';
import { assertTrustedTool } from './trust.js';

export const TOOLS = {
  useradd: '/usr/sbin/useradd',
  groupadd: '/usr/sbin/groupadd',
  groupdel: '/usr/sbin/groupdel',
  gpasswd: '/usr/bin/gpasswd',
  getent: '/usr/bin/getent',
  id: '/usr/bin/id',
  setfacl: '/usr/bin/setfacl',
  setpriv: '/usr/bin/setpriv',
  env: '/usr/bin/env',
} as const;

export type Tool = keyof typeof TOOLS;

/** The environment of every tool agor-priv runs as root. Nothing is taken from the caller's. */
export const TOOL_ENV: NodeJS.ProcessEnv = Object.freeze({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C' });

const TIMEOUT_MS = 120_000;

export interface ToolResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Absolute path of a tool after checking it is root's (missing → 69, not root-owned → 66). */
export function toolPath(tool: Tool): string {
  return assertTrustedTool(TOOLS[tool]);
}

/** Runs a tool to completion. A spawn failure, a signal or a timeout is `unavailable`. */
export function runTool(tool: Tool, args: readonly string[], extraStdio: readonly number[] = []): ToolResult {
  const file = toolPath(tool);
  const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', ...extraStdio];
  const result = spawnSync(file, [...args], { cwd: '/', env: { ...TOOL_ENV }, stdio, timeout: TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' });
  if (result.error) throw unavailable(`${tool} could not run: ${result.error.message}`);
  if (result.status === null) throw unavailable(`${tool} was killed by ${result.signal ?? 'a signal'}`);
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** First line of a tool's stderr, for messages. */
export function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find(Boolean) ?? '';
}

/** Runs a tool and fails with `unavailable` unless it exits 0. */
export function runToolOk(tool: Tool, args: readonly string[], extraStdio: readonly number[] = []): ToolResult {
  const result = runTool(tool, args, extraStdio);
  if (result.status !== 0) throw unavailable(`${tool} failed (exit ${result.status}): ${firstLine(result.stderr) || 'no message'}`);
  return result;
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function parseId(text: string | undefined): number {
  return text !== undefined && /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
}

/** getent passwd <key>: the entry, or null when there is none. `key` is a validated name or a uid. */
export function lookupUser(key: string | number): PasswdEntry | null {
  const result = runTool('getent', ['passwd', '--', String(key)]);
  if (result.status === 2) return null;
  if (result.status !== 0) throw unavailable(`getent passwd failed (exit ${result.status}): ${firstLine(result.stderr)}`);
  const line = result.stdout.split('\n')[0] ?? '';
  const fields = line.split(':');
  const uid = parseId(fields[2]);
  const gid = parseId(fields[3]);
  if (fields.length !== 7 || Number.isNaN(uid) || Number.isNaN(gid)) throw unavailable(`getent passwd returned a malformed entry for ${quote(String(key))}`);
  const entry = { name: fields[0]!, uid, gid, gecos: fields[4]!, home: fields[5]!, shell: fields[6]! };
  if (typeof key === 'string' && entry.name !== key) throw unavailable(`getent passwd ${quote(key)} returned ${quote(entry.name)}`);
  return entry;
}

/** getent group <key>: the entry, or null. */
export function lookupGroup(key: string | number): GroupEntry | null {
  const result = runTool('getent', ['group', '--', String(key)]);
  if (result.status === 2) return null;
  if (result.status !== 0) throw unavailable(`getent group failed (exit ${result.status}): ${firstLine(result.stderr)}`);
  const line = result.stdout.split('\n')[0] ?? '';
  const fields = line.split(':');
  const gid = parseId(fields[2]);
  if (fields.length !== 4 || Number.isNaN(gid)) throw unavailable(`getent group returned a malformed entry for ${quote(String(key))}`);
  const entry = { name: fields[0]!, gid, members: fields[3] === '' ? [] : fields[3]!.split(',') };
  if (typeof key === 'string' && entry.name !== key) throw unavailable(`getent group ${quote(key)} returned ${quote(entry.name)}`);
  return entry;
}

/** getent group <gid>...: the entries of those that exist, by gid (one getent run for all). */
export function lookupGroupsById(ids: readonly number[]): Map<number, GroupEntry> {
  const found = new Map<number, GroupEntry>();
  if (ids.length === 0) return found;
  const result = runTool('getent', ['group', '--', ...ids.map(String)]);
  if (result.status !== 0 && result.status !== 2) throw unavailable(`getent group failed (exit ${result.status}): ${firstLine(result.stderr)}`);
  for (const line of result.stdout.split('\n').filter(Boolean)) {
    const fields = line.split(':');
    const gid = parseId(fields[2]);
    if (fields.length !== 4 || Number.isNaN(gid)) throw unavailable('getent group returned a malformed entry');
    if (!found.has(gid)) found.set(gid, { name: fields[0]!, gid, members: fields[3] === '' ? [] : fields[3]!.split(',') });
  }
  return found;
}

/** Every group id `user` gets from initgroups (id -G). */
export function groupIdsOf(user: string): number[] {
  const result = runToolOk('id', ['-G', '--', user]);
  const ids = result.stdout.trim().split(/\s+/).map(parseId);
  if (ids.some((n) => Number.isNaN(n))) throw unavailable(`id -G ${quote(user)} printed something unexpected`);
  return ids;
}
