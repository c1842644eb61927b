import { Button, Empty, Segmented, Select, Space, Spin, Typography } from 'antd';
import { AppstoreOutlined, PlusOutlined, UnorderedListOutlined } from '@ant-design/icons';
import { useEffect, useMemo, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { useAuth } from '../auth/AuthContext';
import { displayName, useUserDirectory } from '../api/users';
import { useBoardData } from '../board/useBoardData';
import { WorktreeCard, type CardFacts } from '../board/WorktreeCard';
import { CreateRepoDialog, CreateWorktreeDialog } from '../board/dialogs';
import { ErrorAlert, useNotify } from '../components/errors';

const CARD_W = 280;
const CARD_H = 170;
const GAP = 16;

type Layout = 'board' | 'grouped';

export function BoardPage() {
  const { client, user } = useAuth();
  const { data, loading, error, place } = useBoardData(client);
  const users = useUserDirectory(client);
  const { run } = useNotify();
  const [repoFilter, setRepoFilter] = useState<string>('all');
  const [layout, setLayout] = useState<Layout>(() => (window.innerWidth < 700 ? 'grouped' : 'board'));
  const [repoOpen, setRepoOpen] = useState(false);
  const [wtOpen, setWtOpen] = useState(false);
  const [newRepo, setNewRepo] = useState<string | undefined>();
  const canCreate = user?.role !== 'viewer';

  const repoName = useMemo(() => new Map(data.repos.map((r) => [r.id, r.name])), [data.repos]);
  const cards: CardFacts[] = useMemo(() => {
    const counts = new Map<string, { running: number; queued: number; awaiting: number }>();
    for (const t of data.active.values()) {
      const c = counts.get(t.worktree_id) ?? { running: 0, queued: 0, awaiting: 0 };
      if (t.status === 'running') c.running += 1;
      else if (t.status === 'awaiting_permission') c.awaiting += 1;
      else c.queued += 1;
      counts.set(t.worktree_id, c);
    }
    return data.worktrees
      .filter((w) => repoFilter === 'all' || w.repo_id === repoFilter)
      .sort((a, b) => a.created_at.localeCompare(b.created_at))
      .map((w) => ({
        worktree: w,
        repoName: repoName.get(w.repo_id) ?? 'repo',
        access: data.access.get(w.id),
        owners: w.owners.map((id) => displayName(users, id)),
        running: counts.get(w.id)?.running ?? 0,
        queued: counts.get(w.id)?.queued ?? 0,
        awaiting: counts.get(w.id)?.awaiting ?? 0,
        looking: (data.presence.get(w.id) ?? []).filter((u) => u.id !== user?.id),
      }));
  }, [data, repoFilter, repoName, users, user]);

  return (
    <div>
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8, alignItems: 'center', marginBottom: 16 }}>
        <Typography.Title level={4} style={{ margin: 0, marginRight: 'auto' }} data-testid="board-title">
          Board
        </Typography.Title>
        <Select
          value={repoFilter}
          onChange={setRepoFilter}
          style={{ minWidth: 160 }}
          aria-label="Filter by repository"
          options={[{ value: 'all', label: 'All repositories' }, ...data.repos.map((r) => ({ value: r.id, label: r.name }))]}
        />
        <Segmented<Layout>
          value={layout}
          onChange={setLayout}
          options={[
            { value: 'board', icon: <AppstoreOutlined />, title: 'Free board' },
            { value: 'grouped', icon: <UnorderedListOutlined />, title: 'Grouped by repository' },
          ]}
        />
        {canCreate && (
          <Space>
            <Button onClick={() => setRepoOpen(true)}>Add repo</Button>
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setWtOpen(true)}>
              New worktree
            </Button>
          </Space>
        )}
      </div>
      <ErrorAlert error={error} />
      {loading && data.worktrees.length === 0 ? (
        <Spin style={{ display: 'block', margin: 48 }} />
      ) : cards.length === 0 ? (
        <Empty
          style={{ marginTop: 48 }}
          description={
            data.repos.length === 0
              ? canCreate
                ? 'No worktrees yet. Add a repository, then create a worktree in it.'
                : 'No worktrees you can see yet. Ask a teammate to share one with you.'
              : repoFilter !== 'all'
                ? 'No worktrees in this repository yet.'
                : canCreate
                  ? 'No worktrees you can see yet. Create one to start a session.'
                  : 'No worktrees you can see yet.'
          }
        >
          {canCreate && (
            <Button type="primary" onClick={() => (data.repos.length === 0 ? setRepoOpen(true) : setWtOpen(true))}>
              {data.repos.length === 0 ? 'Add a repository' : 'New worktree'}
            </Button>
          )}
        </Empty>
      ) : layout === 'grouped' ? (
        <Grouped cards={cards} />
      ) : (
        <FreeBoard cards={cards} positions={data.items} canArrange={canCreate} onPlace={(id, x, y) => run(() => place(id, x, y))} />
      )}
      <CreateRepoDialog open={repoOpen} onClose={(repo) => { setRepoOpen(false); if (repo) { setNewRepo(repo.id); setWtOpen(true); } }} />
      <CreateWorktreeDialog open={wtOpen} repos={data.repos} defaultRepo={newRepo ?? (repoFilter !== 'all' ? repoFilter : undefined)} onClose={() => { setWtOpen(false); setNewRepo(undefined); }} />
    </div>
  );
}

/** Cards in columns, one per repository (phones get this by default). */
function Grouped({ cards }: { cards: CardFacts[] }) {
  const groups = new Map<string, CardFacts[]>();
  for (const c of cards) groups.set(c.repoName, [...(groups.get(c.repoName) ?? []), c]);
  return (
    <div style={{ display: 'flex', flexWrap: 'wrap', gap: 16, alignItems: 'flex-start' }}>
      {[...groups].map(([repo, list]) => (
        <div key={repo} style={{ flex: `1 1 ${CARD_W}px`, maxWidth: '100%', minWidth: 0 }} data-testid="repo-group">
          <Typography.Text strong>{repo}</Typography.Text>
          <Space direction="vertical" style={{ width: '100%', marginTop: 8 }}>
            {list.map((c) => (
              <WorktreeCard key={c.worktree.id} facts={c} />
            ))}
          </Space>
        </div>
      ))}
    </div>
  );
}

/** Cards where people put them (board-items); new ones fill a grid below. Drag by the handle. */
function FreeBoard({ cards, positions, canArrange, onPlace }: { cards: CardFacts[]; positions: Map<string, { x: number; y: number }>; canArrange: boolean; onPlace: (id: string, x: number, y: number) => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(1000);
  const [dragging, setDragging] = useState<{ id: string; x: number; y: number } | null>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setWidth(el.clientWidth));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const placed = cards.filter((c) => positions.has(c.worktree.id));
  const below = placed.reduce((m, c) => Math.max(m, positions.get(c.worktree.id)!.y + CARD_H + GAP), 0);
  const cols = Math.max(1, Math.floor((width + GAP) / (CARD_W + GAP)));
  let slot = 0;
  const layout = cards.map((c) => {
    if (dragging?.id === c.worktree.id) return { c, x: dragging.x, y: dragging.y };
    const p = positions.get(c.worktree.id);
    if (p) return { c, x: p.x, y: p.y };
    const i = slot++;
    return { c, x: (i % cols) * (CARD_W + GAP), y: below + Math.floor(i / cols) * (CARD_H + GAP) };
  });
  const height = layout.reduce((m, l) => Math.max(m, l.y + CARD_H + GAP), CARD_H);

  const startDrag = (id: string, x0: number, y0: number) => (e: ReactPointerEvent) => {
    e.preventDefault();
    const startX = e.clientX;
    const startY = e.clientY;
    let last = { id, x: x0, y: y0 };
    const move = (ev: PointerEvent) => {
      last = { id, x: Math.max(0, Math.round(x0 + ev.clientX - startX)), y: Math.max(0, Math.round(y0 + ev.clientY - startY)) };
      setDragging(last);
    };
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      if (last.x !== x0 || last.y !== y0) onPlace(id, last.x, last.y);
      // Keep showing the dragged place until the saved one arrives.
      setTimeout(() => setDragging(null), 300);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  };

  return (
    <div
      ref={ref}
      style={{ position: 'relative', height: Math.max(height, 360), overflow: 'auto', borderRadius: 8, backgroundImage: 'radial-gradient(#d9dce6 1px, transparent 1px)', backgroundSize: '20px 20px' }}
      data-testid="free-board"
    >
      {layout.map(({ c, x, y }) => (
        <div key={c.worktree.id} style={{ position: 'absolute', left: x, top: y, width: Math.min(CARD_W, width), zIndex: dragging?.id === c.worktree.id ? 10 : 1 }}>
          <WorktreeCard facts={c} onDragStart={canArrange ? startDrag(c.worktree.id, x, y) : undefined} />
        </div>
      ))}
    </div>
  );
}
