import { Alert, App as AntApp, Button, Descriptions, Form, Popconfirm, Select, Space, Switch, Tag, Typography } from 'antd';
import { DeleteOutlined, ExclamationCircleOutlined, UserAddOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { ownersOf, service } from '../api/client';
import type { PublicWorktree, WorktreeAccess, WorktreeOwner } from '../api/types';
import { useUserDirectory } from '../api/users';
import { useAuth } from '../auth/AuthContext';
import { useNotify } from '../components/errors';
import { TIER_OPTIONS } from '../board/dialogs';

const FS_OPTIONS = [
  { value: 'none', label: 'none — other accounts cannot read the files' },
  { value: 'read', label: 'read — other accounts may read' },
  { value: 'write', label: 'write — other accounts may write' },
];

/**
 * Owners, what others can do, file access, session sharing. Editable only when the daemon says
 * the caller may change them (worktree-access, i.e. decide()); everyone else sees it read-only.
 */
export function PermissionsEditor({ worktree, access, owners }: { worktree: PublicWorktree; access: WorktreeAccess; owners: WorktreeOwner[] }) {
  const { client, user } = useAuth();
  const users = useUserDirectory(client);
  const { run } = useNotify();
  const { modal } = AntApp.useApp();
  const navigate = useNavigate();
  const [adding, setAdding] = useState<string | undefined>();
  const editable = access.can.change_permissions;
  const patch = (data: Record<string, unknown>, ok: string) => run(() => service(client, 'worktrees').patch(worktree.id, data), ok);

  const setSharing = (on: boolean) => {
    if (!on) return void patch({ dangerously_allow_session_sharing: false }, 'Session sharing turned off');
    modal.confirm({
      title: 'Allow session sharing?',
      icon: <ExclamationCircleOutlined style={{ color: '#cf1322' }} />,
      okText: 'Allow sharing',
      okButtonProps: { danger: true },
      content: (
        <Typography.Paragraph>
          Forks and sub-sessions of someone's session will keep running <b>as that person, with their credentials</b>, even when someone else starts
          them. Anyone with tier <b>prompt</b> can then act as the session's creator. Every such act is logged as a security event.
        </Typography.Paragraph>
      ),
      onOk: () => patch({ dangerously_allow_session_sharing: true }, 'Session sharing allowed'),
    });
  };

  const ownerIds = new Set(owners.map((o) => o.user_id));
  const candidates = [...users.values()].filter((u) => !ownerIds.has(u.id) && !u.disabled);

  if (!editable) {
    return (
      <div data-testid="permissions-readonly">
        <Alert type="info" showIcon style={{ marginBottom: 12 }} title="Only this worktree's owners can change these settings." />
        <Descriptions column={1} bordered size="small">
          <Descriptions.Item label="Owners">{owners.map((o) => o.name || o.email).join(', ') || 'none'}</Descriptions.Item>
          <Descriptions.Item label="Others can">{worktree.others_can}</Descriptions.Item>
          <Descriptions.Item label="Others' file access">{worktree.others_fs_access}</Descriptions.Item>
          <Descriptions.Item label="Session sharing">{worktree.dangerously_allow_session_sharing ? <Tag color="red">allowed</Tag> : 'off'}</Descriptions.Item>
          <Descriptions.Item label="Allow-all sessions">{worktree.tool_policy.allow_all ? <Tag color="orange">allowed</Tag> : 'off'}</Descriptions.Item>
          <Descriptions.Item label="Tool rules">{worktree.tool_policy.rules.length}</Descriptions.Item>
        </Descriptions>
        {access.can.break_glass && (
          <Popconfirm
            title="Make yourself an owner?"
            description="You will see its sessions, tasks and files. This is audited and its owners can see it."
            okText="Take ownership"
            okButtonProps={{ danger: true }}
            onConfirm={() => run(() => ownersOf(client, worktree.id).create({ user_id: user!.id }), 'You are now an owner')}
          >
            <Button danger style={{ marginTop: 12 }}>
              Make me an owner (admin, audited)
            </Button>
          </Popconfirm>
        )}
      </div>
    );
  }

  return (
    <Form layout="vertical" data-testid="permissions-editor" style={{ maxWidth: 640 }}>
      <Form.Item label="Owners" extra="Owners can do everything here, including changing these settings.">
        <Space wrap style={{ marginBottom: 8 }}>
          {owners.map((o) => (
            <Tag
              key={o.user_id}
              closable={owners.length > 1}
              onClose={(e) => {
                e.preventDefault();
                void run(() => ownersOf(client, worktree.id).remove(o.user_id), `${o.name || o.email} is no longer an owner`);
              }}
            >
              {o.name || o.email}
              {o.user_id === user?.id ? ' (you)' : ''}
            </Tag>
          ))}
        </Space>
        <Space.Compact style={{ width: '100%' }}>
          <Select
            showSearch
            value={adding}
            onChange={setAdding}
            placeholder="Add an owner…"
            aria-label="Add an owner"
            style={{ flex: 1 }}
            optionFilterProp="label"
            options={candidates.map((u) => ({ value: u.id, label: `${u.name || u.email} (${u.email})` }))}
          />
          <Button
            icon={<UserAddOutlined />}
            disabled={!adding}
            onClick={async () => {
              if (!adding) return;
              await run(() => ownersOf(client, worktree.id).create({ user_id: adding }), 'Owner added');
              setAdding(undefined);
            }}
          >
            Add
          </Button>
        </Space.Compact>
      </Form.Item>
      <Form.Item label="What others can do" extra="Everyone who is not an owner. Viewers can only ever look.">
        <Select aria-label="Others can" data-testid="others-can" value={worktree.others_can} options={TIER_OPTIONS} onChange={(v) => void patch({ others_can: v }, `Others can now: ${v}`)} />
      </Form.Item>
      <Form.Item label="Others' file access" extra="Unix permissions of the worktree directory for other accounts (insulated/strict modes).">
        <Select aria-label="Others' file access" value={worktree.others_fs_access} options={FS_OPTIONS} onChange={(v) => void patch({ others_fs_access: v }, `File access: ${v}`)} />
      </Form.Item>
      <Form.Item label="Session sharing (dangerous)">
        <Space align="start">
          <Switch checked={worktree.dangerously_allow_session_sharing} onChange={setSharing} aria-label="Session sharing" />
          <Typography.Text type="secondary">Forks of a session keep running as its creator. Off unless you really need it.</Typography.Text>
        </Space>
      </Form.Item>
      <Form.Item label="Allow-all sessions" extra="Sessions here may run tools without asking (the admin's rules and the built-in denials still apply).">
        <Switch
          checked={worktree.tool_policy.allow_all}
          onChange={(on) => void patch({ tool_policy: { ...worktree.tool_policy, allow_all: on } }, on ? 'Allow-all sessions allowed' : 'Allow-all sessions turned off')}
          aria-label="Allow-all sessions"
        />
      </Form.Item>
      {access.can.delete && (
        <Popconfirm
          title="Delete this worktree?"
          description="Its directory, sessions and history go away. This cannot be undone."
          okText="Delete"
          okButtonProps={{ danger: true }}
          onConfirm={async () => {
            const done = await run(() => service(client, 'worktrees').remove(worktree.id), 'Worktree deleted');
            if (done) navigate('/board');
          }}
        >
          <Button danger icon={<DeleteOutlined />}>
            Delete worktree
          </Button>
        </Popconfirm>
      )}
    </Form>
  );
}
