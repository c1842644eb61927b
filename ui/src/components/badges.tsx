import { Avatar, Tag, Tooltip } from 'antd';
import type { PublicTask, WorktreeAccess } from '../api/types';

const TIER_COLORS: Record<string, string> = { none: 'default', view: 'default', session: 'blue', prompt: 'geekblue', all: 'purple' };

/** The caller's own standing on a worktree: owner, or the tier it gets as a non-owner. */
export function TierBadge({ access }: { access: WorktreeAccess | undefined }) {
  if (!access) return null;
  if (access.is_owner) return <Tag color="gold" data-testid="tier-badge">owner</Tag>;
  if (!access.can.view) return <Tooltip title="You see this record as an admin; its contents need ownership or a tier"><Tag data-testid="tier-badge">record only</Tag></Tooltip>;
  const readOnly = !access.can.create_session;
  return (
    <Tooltip title={readOnly ? 'You can look, not act' : `Others get "${access.tier}" here`}>
      <Tag color={TIER_COLORS[access.tier]} data-testid="tier-badge">
        {readOnly ? 'read-only' : access.tier}
      </Tag>
    </Tooltip>
  );
}

const STATUS_COLORS: Record<string, string> = { queued: 'orange', running: 'processing', awaiting_permission: 'gold', completed: 'green', failed: 'red', stopped: 'default' };

export function TaskStatusTag({ status }: { status: PublicTask['status'] | 'idle' }) {
  return <Tag color={STATUS_COLORS[status] ?? 'default'}>{status}</Tag>;
}

/** Small avatars of the people looking right now. */
export function PresenceAvatars({ users, max = 4 }: { users: { id: string; name: string }[]; max?: number }) {
  if (users.length === 0) return null;
  return (
    <Avatar.Group max={{ count: max }} size="small">
      {users.map((u) => (
        <Tooltip key={u.id} title={`${u.name} is looking`}>
          <Avatar size="small" style={{ background: colorOf(u.id) }} data-testid="presence-avatar">
            {initials(u.name)}
          </Avatar>
        </Tooltip>
      ))}
    </Avatar.Group>
  );
}

function initials(name: string): string {
  return name.split(/[\s@._-]+/).filter(Boolean).slice(0, 2).map((p) => p[0]!.toUpperCase()).join('') || '?';
}

function colorOf(id: string): string {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return `hsl(${h}, 55%, 48%)`;
}
