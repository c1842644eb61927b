import { Button, Empty, Form, Input, List, Modal, Select, Space, Tag, Typography } from 'antd';
import { PlusOutlined, RobotOutlined } from '@ant-design/icons';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { findAll, service } from '../api/client';
import { upsert, useEvents, useLoad, useOnReconnect } from '../api/live';
import type { PublicSession, PublicTask, WorktreeAccess } from '../api/types';
import { displayName, useUserDirectory } from '../api/users';
import { useAuth } from '../auth/AuthContext';
import { TaskStatusTag } from '../components/badges';
import { ErrorAlert } from '../components/errors';

/** The sessions of a worktree with their creator, agent and latest task status; live. */
export function SessionsList({ worktreeId, access }: { worktreeId: string; access: WorktreeAccess }) {
  const { client } = useAuth();
  const users = useUserDirectory(client);
  const sessions = useLoad(() => findAll(service(client, 'sessions'), { worktree_id: worktreeId, archived: false }), [client, worktreeId]);
  const tasks = useLoad(() => findAll(service(client, 'tasks'), { worktree_id: worktreeId }), [client, worktreeId]);
  const [creating, setCreating] = useState(false);
  useOnReconnect(client, () => {
    sessions.reload();
    tasks.reload();
  });

  useEvents(client, 'sessions', {
    created: (s: PublicSession) => s.worktree_id === worktreeId && sessions.set((rows) => upsert(rows, s)),
    patched: (s: PublicSession) => s.worktree_id === worktreeId && sessions.set((rows) => upsert(rows, s, s.archived)),
    removed: (s: PublicSession) => sessions.set((rows) => upsert(rows, s, true)),
  });
  const onTask = (t: PublicTask) => t.worktree_id === worktreeId && tasks.set((rows) => upsert(rows, t));
  useEvents(client, 'tasks', { created: onTask, patched: onTask });

  const statusOf = (sessionId: string): PublicTask['status'] | 'idle' => {
    const mine = (tasks.data ?? []).filter((t) => t.session_id === sessionId);
    if (mine.some((t) => t.status === 'running')) return 'running';
    if (mine.some((t) => t.status === 'queued')) return 'queued';
    return mine.at(-1)?.status ?? 'idle';
  };
  const list = [...(sessions.data ?? [])].reverse();

  return (
    <div>
      <ErrorAlert error={sessions.error ?? tasks.error} />
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: 8 }}>
        <Typography.Text type="secondary">{list.length} session{list.length === 1 ? '' : 's'}</Typography.Text>
        {access.can.create_session && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            New session
          </Button>
        )}
      </div>
      {list.length === 0 && !sessions.loading ? (
        <Empty description={access.can.create_session ? 'No sessions yet. Start one: pick an agent and give it a prompt.' : 'No sessions here yet.'} />
      ) : (
        <List
          loading={sessions.loading}
          dataSource={list}
          renderItem={(s) => (
            <List.Item data-testid="session-row">
              <List.Item.Meta
                avatar={<RobotOutlined style={{ fontSize: 20, color: '#2f54eb' }} />}
                title={<Link to={`/sessions/${s.id}`}>{s.title || 'Untitled session'}</Link>}
                description={
                  <Space size={4} wrap>
                    <Tag>{s.agent}</Tag>
                    <span>by {displayName(users, s.created_by)}</span>
                    <span>· {new Date(s.created_at).toLocaleString()}</span>
                    {s.forked_from && <Tag color="cyan">fork</Tag>}
                  </Space>
                }
              />
              <TaskStatusTag status={statusOf(s.id)} />
            </List.Item>
          )}
        />
      )}
      <NewSessionDialog open={creating} worktreeId={worktreeId} onClose={() => setCreating(false)} />
    </div>
  );
}

export function NewSessionDialog({ open, worktreeId, onClose }: { open: boolean; worktreeId: string; onClose: () => void }) {
  const { client, info } = useAuth();
  const navigate = useNavigate();
  const [form] = Form.useForm();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const agents = info?.agents ?? ['claude-code'];
  const submit = async () => {
    const v = await form.validateFields();
    setBusy(true);
    setError(null);
    try {
      const s = await service(client, 'sessions').create({ worktree_id: worktreeId, agent: v.agent, ...(v.title?.trim() ? { title: v.title.trim() } : {}) });
      onClose();
      navigate(`/sessions/${s.id}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title="New session" open={open} onOk={submit} okText="Start" confirmLoading={busy} onCancel={onClose} destroyOnHidden>
      <ErrorAlert error={error} />
      <Typography.Paragraph type="secondary">The session runs as you, with your credentials.</Typography.Paragraph>
      <Form form={form} layout="vertical" requiredMark={false} initialValues={{ agent: agents[0] }}>
        <Form.Item name="agent" label="Agent" rules={[{ required: true }]}>
          <Select aria-label="Agent" options={agents.map((a) => ({ value: a, label: a }))} />
        </Form.Item>
        <Form.Item name="title" label="Title (optional)">
          <Input placeholder="What is this session for?" maxLength={200} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
