import { useCallback, useEffect, useState } from 'react';
import { findAll, ownersOf, service, type ApiClient } from '../api/client';
import { useEvents, useOnReconnect } from '../api/live';
import { isRevoked, type PresenceEntry, type PublicBoard, type PublicBoardItem, type PublicRepo, type PublicTask, type PublicWorktree, type WorktreeAccess } from '../api/types';

export interface BoardData {
  repos: PublicRepo[];
  worktrees: PublicWorktree[];
  access: Map<string, WorktreeAccess>;
  /** Queued, running and awaiting_permission tasks by id (their worktree and status), for the counts on cards. */
  active: Map<string, Pick<PublicTask, 'worktree_id' | 'status'>>;
  presence: Map<string, PresenceEntry['users']>;
  board: PublicBoard | null;
  items: Map<string, PublicBoardItem>;
}

const EMPTY: BoardData = { repos: [], worktrees: [], access: new Map(), active: new Map(), presence: new Map(), board: null, items: new Map() };

/** Everything the board shows, loaded once and then kept current from events. */
export function useBoardData(client: ApiClient) {
  const [data, setData] = useState<BoardData>(EMPTY);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const [repos, worktrees, access, running, queued, awaiting, presence, boards] = await Promise.all([
        findAll(service(client, 'repos')),
        findAll(service(client, 'worktrees'), { archived: false }),
        findAll(service(client, 'worktree-access')),
        findAll(service(client, 'tasks'), { status: 'running' }),
        findAll(service(client, 'tasks'), { status: 'queued' }),
        findAll(service(client, 'tasks'), { status: 'awaiting_permission' }),
        service(client, 'presence').find(),
        service(client, 'boards').find({ query: { $limit: 1 } }),
      ]);
      const board = boards.data[0] ?? null;
      const items = board ? await findAll(service(client, 'board-items'), { board_id: board.id }) : [];
      setData({
        repos,
        worktrees,
        access: new Map(access.map((a) => [a.worktree_id, a])),
        active: new Map([...running, ...queued, ...awaiting].map((t) => [t.id, { worktree_id: t.worktree_id, status: t.status }])),
        presence: new Map(presence.data.map((p) => [p.worktree_id, p.users])),
        board,
        items: new Map(items.map((i) => [i.worktree_id, i])),
      });
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }, [client]);
  useEffect(() => void load(), [load]);
  useOnReconnect(client, () => void load());

  const drop = (worktreeId: string) =>
    setData((d) => {
      const access = new Map(d.access);
      access.delete(worktreeId);
      return { ...d, worktrees: d.worktrees.filter((w) => w.id !== worktreeId), access };
    });

  /** Re-reads one worktree and what the caller may do there (tiers or owners changed). */
  const refresh = async (worktreeId: string) => {
    try {
      const [wt, acc] = await Promise.all([service(client, 'worktrees').get(worktreeId), service(client, 'worktree-access').get(worktreeId)]);
      setData((d) => ({
        ...d,
        worktrees: wt.archived ? d.worktrees.filter((w) => w.id !== wt.id) : d.worktrees.some((w) => w.id === wt.id) ? d.worktrees.map((w) => (w.id === wt.id ? wt : w)) : [...d.worktrees, wt],
        access: new Map(d.access).set(worktreeId, acc),
      }));
    } catch {
      drop(worktreeId);
    }
  };

  useEvents(client, 'worktrees', {
    created: (wt: PublicWorktree) => void refresh(wt.id),
    patched: (wt: PublicWorktree) => (isRevoked(wt) ? drop(wt.id) : void refresh(wt.id)),
    removed: (wt: PublicWorktree) => drop(wt.id),
  });
  useEvents(client, 'worktrees/:worktree_id/owners', {
    created: (o: { worktree_id: string }) => void refresh(o.worktree_id),
    removed: (o: { worktree_id: string; access_revoked?: boolean }) => (isRevoked(o) ? drop(o.worktree_id) : void refresh(o.worktree_id)),
  });
  const taskEvent = (t: PublicTask) =>
    setData((d) => {
      const active = new Map(d.active);
      if (t.status === 'queued' || t.status === 'running' || t.status === 'awaiting_permission') active.set(t.id, { worktree_id: t.worktree_id, status: t.status });
      else active.delete(t.id);
      return { ...d, active };
    });
  useEvents(client, 'tasks', { created: taskEvent, patched: taskEvent });
  useEvents(client, 'presence', {
    changed: (p: PresenceEntry) => setData((d) => ({ ...d, presence: new Map(d.presence).set(p.worktree_id, p.users) })),
  });
  useEvents(client, 'repos', {
    created: (r: PublicRepo) => setData((d) => ({ ...d, repos: [...d.repos.filter((x) => x.id !== r.id), r] })),
    removed: (r: PublicRepo) => setData((d) => ({ ...d, repos: d.repos.filter((x) => x.id !== r.id) })),
  });
  const itemEvent = (remove: boolean) => (item: PublicBoardItem) =>
    setData((d) => {
      if (!d.board || item.board_id !== d.board.id) return d;
      const items = new Map(d.items);
      if (remove) items.delete(item.worktree_id);
      else items.set(item.worktree_id, item);
      return { ...d, items };
    });
  useEvents(client, 'board-items', { created: itemEvent(false), patched: itemEvent(false), removed: itemEvent(true) });
  useEvents(client, 'boards', { created: (b: PublicBoard) => setData((d) => (d.board ? d : { ...d, board: b })) });

  /** Saves a card's place (creating the team board on first use). */
  const place = async (worktreeId: string, x: number, y: number) => {
    let board = data.board;
    if (!board) {
      board = await service(client, 'boards').create({ name: 'Team board' });
      setData((d) => ({ ...d, board: d.board ?? board }));
    }
    const existing = data.items.get(worktreeId);
    const saved = existing
      ? await service(client, 'board-items').patch(existing.id, { x, y })
      : await service(client, 'board-items').create({ board_id: board.id, worktree_id: worktreeId, x, y });
    setData((d) => ({ ...d, items: new Map(d.items).set(worktreeId, saved) }));
  };

  return { data, loading, error, reload: load, place, ownersOf: (id: string) => ownersOf(client, id) };
}
