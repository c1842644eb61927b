import { useMemo, useState } from 'react';
import { Alert, Button, Card, Empty, Input, List, Popconfirm, Select, Space, Tag, Tooltip, Typography } from 'antd';
import { PlusOutlined, UserOutlined } from '@ant-design/icons';
import type { DaemonInfo, PublicUser, Role } from '../api/types';
import type { SettingsApi } from './client';
import { errorText } from './errors';
import { useCardSize } from './layout';
import { Feedback, type FeedbackState } from './Feedback';
import { useLoad } from './useLoad';
import { grantableRoles, whyCannotEdit } from './roles';
import { CreateUserForm } from './CreateUserForm';
import { UnixLinkModal } from './UnixLinkModal';

const ROLE_COLOR: Record<Role, string> = { viewer: 'default', member: 'blue', admin: 'gold', owner: 'volcano' };

/** Admins and owners: the team, roles (only grantable ones offered), disable/enable, Unix links. */
export function UsersSection({ api, me, unixMode }: { api: SettingsApi; me: PublicUser; unixMode: DaemonInfo['unix_user_mode'] | null }) {
  const cardSize = useCardSize();
  const users = useLoad(() => api.users(), [api]);
  const [feedback, setFeedback] = useState<FeedbackState>(null);
  const [creating, setCreating] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [linking, setLinking] = useState<PublicUser | null>(null);
  const [filter, setFilter] = useState('');
  const grantable = grantableRoles(me);

  const shown = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const all = users.data?.data ?? [];
    return needle ? all.filter((u) => u.email.includes(needle) || u.name.toLowerCase().includes(needle) || (u.unix_username ?? '').includes(needle)) : all;
  }, [users.data, filter]);

  const change = async (user: PublicUser, data: { role?: Role; disabled?: boolean; unix_username?: string | null }, done: string) => {
    setBusy(user.id);
    setFeedback(null);
    try {
      await api.patchUser(user.id, data);
      setFeedback({ type: 'success', text: done });
      await users.reload();
    } catch (error) {
      setFeedback({ type: 'error', text: `${user.email}: ${errorText(error)}` });
    } finally {
      setBusy(null);
    }
  };

  return (
    <Card size={cardSize}
      title="Users"
      data-testid="settings-users"
      extra={
        !creating && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            New user
          </Button>
        )
      }
    >
      <Feedback value={feedback} onClose={() => setFeedback(null)} />
      {users.error && <Alert type="error" showIcon title={`Could not load users: ${users.error}`} style={{ marginBottom: 12 }} action={<Button size="small" onClick={() => void users.reload()}>Retry</Button>} />}
      {creating && (
        <CreateUserForm
          api={api}
          me={me}
          onCancel={() => setCreating(false)}
          onCreated={(user) => {
            setCreating(false);
            setFeedback({ type: 'success', text: `${user.email} was created as ${user.role}. Give them their initial password; they can change it in Settings.` });
            void users.reload();
          }}
        />
      )}
      {(users.data?.total ?? 0) > 8 && <Input.Search allowClear placeholder="Filter by email, name or Unix account" value={filter} onChange={(e) => setFilter(e.target.value)} style={{ marginBottom: 12 }} />}
      <List
        loading={users.loading && !users.data}
        dataSource={shown}
        rowKey="id"
        pagination={shown.length > 20 ? { pageSize: 20, size: 'small' } : false}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={filter ? 'No user matches that filter.' : 'No users yet: add your team with "New user".'} /> }}
        renderItem={(user) => {
          const why = whyCannotEdit(me, user);
          const isMe = user.id === me.id;
          // The current role is listed even when it cannot be granted, so the select shows it.
          const options = [...new Set<Role>([...grantable, user.role])].map((r) => ({ value: r, label: r, disabled: !grantable.includes(r) }));
          return (
            <List.Item data-testid="user-row" data-email={user.email} style={{ display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: 8 }}>
              <div style={{ display: 'flex', gap: 12, flex: '1 1 260px', minWidth: 0 }}>
                <UserOutlined style={{ fontSize: 18, marginTop: 3, alignSelf: 'flex-start', opacity: user.disabled ? 0.4 : 1 }} />
                <div style={{ minWidth: 0 }}>
                  <Space wrap size={4}>
                    <Typography.Text strong>{user.name || user.email}</Typography.Text>
                    {isMe && <Tag>you</Tag>}
                    {user.disabled && <Tag color="red">disabled</Tag>}
                  </Space>
                  <div style={{ overflowWrap: 'anywhere' }}>
                    <Typography.Text type="secondary">
                      {user.name && <span style={{ marginRight: 12 }}>{user.email}</span>}
                      <span>Unix: {user.unix_username ? <code>{user.unix_username}</code> : 'not linked'}</span>
                    </Typography.Text>
                  </div>
                </div>
              </div>
              <Space wrap size={8}>
                <Tooltip title={why ?? undefined}>
                  {why ? (
                    <Tag color={ROLE_COLOR[user.role]} data-testid="user-role-fixed">
                      {user.role}
                    </Tag>
                  ) : (
                    <Select
                      size="small"
                      aria-label={`Role of ${user.email}`}
                      data-testid="user-role"
                      value={user.role}
                      style={{ width: 110 }}
                      loading={busy === user.id}
                      disabled={busy === user.id}
                      options={options}
                      onChange={(role: Role) => change(user, { role }, `${user.email} is now ${role}.`)}
                    />
                  )}
                </Tooltip>
                {!why && (
                  <>
                    <Button size="small" onClick={() => setLinking(user)} disabled={busy === user.id}>
                      {user.unix_username ? 'Change Unix' : 'Link Unix'}
                    </Button>
                    {user.unix_username && (
                      <Popconfirm title={`Unlink ${user.unix_username}?`} description="The account itself is kept. In strict mode their sessions are refused until linked again." okText="Unlink" onConfirm={() => change(user, { unix_username: null }, `${user.email} is no longer linked to a Unix account.`)}>
                        <Button size="small" disabled={busy === user.id}>
                          Unlink
                        </Button>
                      </Popconfirm>
                    )}
                    {user.disabled ? (
                      <Button size="small" onClick={() => change(user, { disabled: false }, `${user.email} can sign in again.`)} disabled={busy === user.id}>
                        Enable
                      </Button>
                    ) : (
                      <Popconfirm title={`Disable ${user.email}?`} description="They are signed out everywhere and their API keys stop working." okText="Disable" okButtonProps={{ danger: true }} onConfirm={() => change(user, { disabled: true }, `${user.email} was disabled and signed out.`)}>
                        <Button size="small" danger disabled={busy === user.id}>
                          Disable
                        </Button>
                      </Popconfirm>
                    )}
                  </>
                )}
              </Space>
            </List.Item>
          );
        }}
      />
      <UnixLinkModal
        api={api}
        user={linking}
        mode={unixMode}
        onClose={() => setLinking(null)}
        onDone={(user) => {
          setLinking(null);
          setFeedback({ type: 'success', text: `${user.email} is linked to ${user.unix_username}.` });
          void users.reload();
        }}
      />
    </Card>
  );
}
