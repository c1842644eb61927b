import { Breadcrumb, Button, Result, Spin, Tabs, Tag, Tooltip, Typography } from 'antd';
import { BranchesOutlined, LockOutlined } from '@ant-design/icons';
import { lazy, Suspense } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { useAuth } from '../auth/AuthContext';
import { usePresence } from '../api/presence';
import { PresenceAvatars, TierBadge } from '../components/badges';
import { ErrorAlert } from '../components/errors';
import { useWorktree } from '../worktree/useWorktree';
import { SessionsList } from '../worktree/SessionsList';
import { PermissionsEditor } from '../worktree/PermissionsEditor';

// xterm.js is big: loaded only when someone opens a terminal.
const TerminalView = lazy(() => import('../worktree/TerminalView'));

export function WorktreePage() {
  const { id } = useParams();
  const { client, user, info } = useAuth();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const { worktree, access, owners, error, gone } = useWorktree(client, id);
  const looking = usePresence(client, access?.can.view ? id : undefined, user?.id);

  if (gone) {
    return (
      <Result
        status="404"
        title="This worktree is not available"
        subTitle="It was deleted, or its owners no longer share it with you."
        extra={<Button type="primary" onClick={() => navigate('/board')}>Back to the board</Button>}
      />
    );
  }
  if (error) return <ErrorAlert error={error} />;
  if (!worktree || !access) return <Spin style={{ display: 'block', margin: 48 }} />;

  const tab = params.get('tab') ?? 'sessions';
  const terminalTab = info?.web_terminal
    ? [
        {
          key: 'terminal',
          label: access.can.terminal ? 'Terminal' : <Tooltip title="Terminals need ownership or tier “all” (and the member role)">Terminal</Tooltip>,
          disabled: !access.can.terminal,
          children: tab === 'terminal' && access.can.terminal && (
            <Suspense fallback={<Spin />}>
              <TerminalView worktreeId={worktree.id} />
            </Suspense>
          ),
        },
      ]
    : [];

  return (
    <div>
      <Breadcrumb items={[{ title: <Link to="/board">Board</Link> }, { title: worktree.name }]} style={{ marginBottom: 8 }} />
      <div style={{ display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: 8, marginBottom: 8 }}>
        <Typography.Title level={3} style={{ margin: 0 }} data-testid="worktree-title">
          {worktree.name}
        </Typography.Title>
        <TierBadge access={access} />
        <Tag icon={<BranchesOutlined />}>{worktree.branch}</Tag>
        <span style={{ marginLeft: 'auto' }}>
          <PresenceAvatars users={looking} />
        </span>
      </div>
      <Typography.Paragraph type="secondary" copyable={{ text: worktree.path }} style={{ wordBreak: 'break-all' }}>
        {worktree.path}
      </Typography.Paragraph>
      {!access.can.view ? (
        <Result
          icon={<LockOutlined />}
          title="You see this worktree's record, not its contents"
          subTitle="As an admin you may administer it; its sessions need ownership or a tier."
          extra={
            <div style={{ textAlign: 'left', maxWidth: 640, margin: '0 auto' }}>
              <PermissionsEditor worktree={worktree} access={access} owners={owners} />
            </div>
          }
        />
      ) : (
        <Tabs
          activeKey={tab}
          onChange={(k) => setParams({ tab: k }, { replace: true })}
          items={[
            { key: 'sessions', label: 'Sessions', children: <SessionsList worktreeId={worktree.id} access={access} /> },
            {
              key: 'permissions',
              label: 'Owners & permissions',
              children: <PermissionsEditor worktree={worktree} access={access} owners={owners} />,
            },
            ...terminalTab,
          ]}
        />
      )}
    </div>
  );
}
