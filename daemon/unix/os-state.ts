// What the operating system says about accounts and groups, read from the files agor-priv writes
// through useradd/groupadd/gpasswd. Readable by the daemon user; nothing here needs privileges.
import fs from 'node:fs';
import { parse } from 'yaml';

export const GROUP_FILE = '/etc/group';
export const PASSWD_FILE = '/etc/passwd';
/** agor-priv's configuration: root-owned, written by scripts/install-unix-isolation.sh. */
export const PRIV_CONFIG_FILE = '/etc/agor/priv.yaml';

/** group name → its supplementary members (primary-group members are not listed there, and agor never relies on them). */
export function readGroups(file = GROUP_FILE): Map<string, { gid: number; members: string[] }> {
  const groups = new Map<string, { gid: number; members: string[] }>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [name, , gid, members] = line.split(':');
    if (!name || gid === undefined) continue;
    groups.set(name, { gid: Number(gid), members: (members ?? '').split(',').map((m) => m.trim()).filter(Boolean) });
  }
  return groups;
}

export function readUsers(file = PASSWD_FILE): Map<string, { uid: number; gid: number; home: string; shell: string }> {
  const users = new Map<string, { uid: number; gid: number; home: string; shell: string }>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [name, , uid, gid, , home, shell] = line.split(':');
    if (!name || uid === undefined) continue;
    users.set(name, { uid: Number(uid), gid: Number(gid), home: home ?? '', shell: shell ?? '' });
  }
  return users;
}

export interface PrivConfig {
  daemon_user?: string;
  executor_user?: string;
  users_group?: string;
  worktrees_root?: string;
  executor_path?: string;
  node_path?: string;
  min_uid?: number;
  sandboxes_root?: string;
}

/** agor-priv's configuration as the daemon can see it; null when absent or unreadable. */
export function readPrivConfig(file = PRIV_CONFIG_FILE): { config: PrivConfig | null; error: string | null } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    return { config: null, error: `${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
  try {
    const data = parse(text);
    if (!data || typeof data !== 'object') return { config: null, error: `${file}: not a mapping` };
    return { config: data as PrivConfig, error: null };
  } catch (error) {
    return { config: null, error: `${file}: invalid YAML: ${(error as Error).message.split('\n')[0]}` };
  }
}
