import { Card, Space, Tag, Tooltip, Typography } from 'antd';
import { BranchesOutlined, HolderOutlined, LockOutlined } from '@ant-design/icons';
import { Link } from 'react-router-dom';
import type { PointerEvent as ReactPointerEvent } from 'react';
import type { PublicWorktree, WorktreeAccess } from '../api/types';
import { PresenceAvatars, TierBadge } from '../components/badges';

export interface CardFacts {
  worktree: PublicWorktree;
  repoName: string;
  access: WorktreeAccess | undefined;
  owners: string[];
  running: number;
  queued: number;
  /** Tasks paused until a person answers a tool approval. */
  awaiting: number;
  looking: { id: string; name: string }[];
}

/** One worktree on the board: what it is, whose it is, what runs there, who is looking. */
export function WorktreeCard({ facts, onDragStart, style }: { facts: CardFacts; onDragStart?: (e: ReactPointerEvent) => void; style?: React.CSSProperties }) {
  const { worktree: wt, access } = facts;
  const activity =
    facts.running + facts.queued + facts.awaiting === 0 ? (
      <Typography.Text type="secondary">idle</Typography.Text>
    ) : (
      <Space size={4}>
        {facts.awaiting > 0 && (
          <Tag color="gold" data-testid="needs-approval">
            needs approval
          </Tag>
        )}
        {facts.running > 0 && <Tag color="processing">{facts.running} running</Tag>}
        {facts.queued > 0 && <Tag color="orange">{facts.queued} queued</Tag>}
      </Space>
    );
  return (
    <Card
      size="small"
      data-testid="worktree-card"
      data-worktree={wt.name}
      style={{ width: '100%', boxShadow: '0 1px 3px rgba(0,0,0,.08)', ...style }}
      title={
        <Space size={6} style={{ minWidth: 0 }}>
          {onDragStart && (
            <span onPointerDown={onDragStart} title="Drag to arrange" data-testid="drag-handle" style={{ cursor: 'grab', color: '#999', touchAction: 'none', padding: '4px 2px' }}>
              <HolderOutlined />
            </span>
          )}
          <Link to={`/worktrees/${wt.id}`} style={{ fontWeight: 600 }}>
            {wt.name}
          </Link>
        </Space>
      }
      extra={<TierBadge access={access} />}
    >
      <Space direction="vertical" size={4} style={{ width: '100%' }}>
        <Typography.Text ellipsis style={{ maxWidth: '100%' }}>
          <BranchesOutlined /> {wt.branch} <Typography.Text type="secondary">· {facts.repoName}</Typography.Text>
        </Typography.Text>
        <Typography.Text type="secondary" ellipsis style={{ fontSize: 12 }}>
          Owners: {facts.owners.join(', ') || 'none'}
          {wt.others_can === 'none' && (
            <Tooltip title="Private: only owners see it">
              {' '}
              <LockOutlined />
            </Tooltip>
          )}
        </Typography.Text>
        <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', minHeight: 24 }}>
          <span data-testid="activity">{activity}</span>
          <PresenceAvatars users={facts.looking} />
        </div>
      </Space>
    </Card>
  );
}
