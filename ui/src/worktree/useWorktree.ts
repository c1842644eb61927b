import { useCallback, useEffect, useState } from 'react';
import { ownersOf, service, type ApiClient } from '../api/client';
import { useEvents, useOnReconnect } from '../api/live';
import { isRevoked, type PublicWorktree, type WorktreeAccess, type WorktreeOwner } from '../api/types';

/** One worktree, the caller's access to it and its owners, kept current; `gone` once hidden or deleted. */
export function useWorktree(client: ApiClient, id: string | undefined) {
  const [worktree, setWorktree] = useState<PublicWorktree | null>(null);
  const [access, setAccess] = useState<WorktreeAccess | null>(null);
  const [owners, setOwners] = useState<WorktreeOwner[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [gone, setGone] = useState(false);

  const load = useCallback(async () => {
    if (!id) return;
    try {
      const [wt, acc, own] = await Promise.all([service(client, 'worktrees').get(id), service(client, 'worktree-access').get(id), ownersOf(client, id).find()]);
      setWorktree(wt);
      setAccess(acc);
      setOwners(own);
      setError(null);
      setGone(false);
    } catch (e) {
      if ((e as { name?: string }).name === 'NotFound') setGone(true);
      else setError(e);
    }
  }, [client, id]);
  useEffect(() => void load(), [load]);
  useOnReconnect(client, () => void load());

  useEvents(client, 'worktrees', {
    patched: (wt: PublicWorktree) => {
      if (wt.id !== id) return;
      if (isRevoked(wt)) setGone(true);
      else void load();
    },
    removed: (wt: PublicWorktree) => wt.id === id && setGone(true),
  });
  useEvents(client, 'worktrees/:worktree_id/owners', {
    created: (o: WorktreeOwner) => o.worktree_id === id && void load(),
    removed: (o: WorktreeOwner & { access_revoked?: boolean }) => {
      if (o.worktree_id !== id) return;
      if (o.access_revoked) setGone(true);
      else void load();
    },
  });
  return { worktree, access, owners, error, gone, reload: load };
}
