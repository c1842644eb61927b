import { useEffect, useState } from 'react';
import { service, type ApiClient } from './client';
import { useEvents } from './live';
import type { PresenceEntry } from './types';

/** Tells the daemon this tab looks at `worktreeId` (until unmount) and returns who else does. */
export function usePresence(client: ApiClient, worktreeId: string | undefined, selfId: string | undefined): PresenceEntry['users'] {
  const [users, setUsers] = useState<PresenceEntry['users']>([]);
  useEffect(() => {
    if (!worktreeId) return;
    const presence = service(client, 'presence');
    presence.create({ worktree_id: worktreeId }).then((e) => setUsers(e.users), () => undefined);
    // Re-announce after a reconnect (a new connection starts with no presence).
    const socket = client.io as { on(e: string, f: () => void): void; off(e: string, f: () => void): void };
    const again = () => void presence.create({ worktree_id: worktreeId }).catch(() => undefined);
    socket.on('connect', again);
    return () => {
      socket.off('connect', again);
      void presence.create({ worktree_id: null }).catch(() => undefined);
    };
  }, [client, worktreeId]);
  useEvents(client, 'presence', { changed: (e: PresenceEntry) => e.worktree_id === worktreeId && setUsers(e.users) });
  return users.filter((u) => u.id !== selfId);
}
