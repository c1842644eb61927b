import { Alert, Button, Empty, Form, Input, List, Modal, Select, Space, Tag, Typography } from 'antd';
import { PlusOutlined, RobotOutlined } from '@ant-design/icons';
import { useEffect, useState } from 'react';
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
    if (mine.some((t) => t.status === 'awaiting_permission')) return 'awaiting_permission';
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

/** The session permission modes (daemon/policy/rules.ts), as the UI offers them. */
export const PERMISSION_MODE_OPTIONS = [
  { value: 'ask', label: 'Ask before edits, commands and fetches' },
  { value: 'accept-edits', label: 'Accept edits inside the worktree, ask for the rest' },
  { value: 'allow-all', label: 'Allow all (only where the owners allow it)' },
];

export function NewSessionDialog({ open, worktreeId, onClose }: { open: boolean; worktreeId: string; onClose: () => void }) {
  const { client, info } = useAuth();
  const navigate = useNavigate();
  const [form] = Form.useForm();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const agents = info?.agents ?? ['claude-code'];
  // The session runs as its creator (the caller) with the caller's secrets: names only come back.
  const secrets = useLoad(() => (open ? findAll(service(client, 'user-secrets')) : Promise.resolve([])), [client, open]);
  const have = new Set((secrets.data ?? []).map((s) => s.name));
  const missingFor = (agent: string) => (secrets.loading || secrets.error ? [] : (info?.agent_credentials?.[agent] ?? []).filter((name) => !have.has(name)));
  const runnable = agents.filter((a) => missingFor(a).length === 0);
  const preferred = runnable[0] ?? agents[0];
  const agent: string = Form.useWatch('agent', form) ?? preferred;
  const missing = missingFor(agent);
  // Once the secrets are known, preselect the first agent that can run (unless one was picked).
  useEffect(() => {
    if (open && !secrets.loading && !form.isFieldTouched('agent')) form.setFieldValue('agent', preferred);
  }, [open, secrets.loading, preferred, form]);
  const submit = async () => {
    const v = await form.validateFields();
    setBusy(true);
    setError(null);
    try {
      const s = await service(client, 'sessions').create({ worktree_id: worktreeId, agent: v.agent, permission_mode: v.permission_mode, ...(v.title?.trim() ? { title: v.title.trim() } : {}) });
      onClose();
      navigate(`/sessions/${s.id}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      title="New session"
      open={open}
      onOk={submit}
      okText="Start"
      okButtonProps={{ disabled: missing.length > 0 || secrets.loading }}
      confirmLoading={busy}
      onCancel={onClose}
      destroyOnHidden
    >
      <ErrorAlert error={error ?? secrets.error} />
      <Typography.Paragraph type="secondary">The session runs as you, with your credentials.</Typography.Paragraph>
      <Form form={form} layout="vertical" requiredMark={false} initialValues={{ agent: preferred, permission_mode: 'ask' }}>
        <Form.Item name="agent" label="Agent" rules={[{ required: true }]}>
          <Select
            aria-label="Agent"
            options={agents.map((a) => ({ value: a, label: missingFor(a).length > 0 ? `${a} (needs ${missingFor(a).join(', ')})` : a }))}
          />
        </Form.Item>
        {missing.length > 0 && (
          <Alert
            type="warning"
            showIcon
            data-testid="missing-credentials"
            style={{ marginBottom: 16 }}
            title={runnable.length === 0 ? 'No agent can run for you yet' : `${agent} cannot run for you yet`}
            description={
              <>
                {agent} needs {missing.map((n, i) => <span key={n}>{i > 0 && ', '}<code>{n}</code></span>)} among your secrets, and you have not set{' '}
                {missing.length === 1 ? 'it' : 'them'}: its prompts would fail. Add {missing.length === 1 ? 'it' : 'them'} in <Link to={`/settings/secrets?name=${encodeURIComponent(missing[0]!)}`} onClick={onClose}>Settings → Secrets</Link>
                {runnable.length > 0 ? `, or pick ${runnable.length === 1 ? runnable[0] : `another agent (${runnable.join(', ')})`}.` : '.'}
              </>
            }
          />
        )}
        <Form.Item name="permission_mode" label="Tool approvals" extra="What the agent may do without asking you (writes outside the worktree and force pushes are always refused).">
          <Select aria-label="Tool approvals" options={PERMISSION_MODE_OPTIONS} />
        </Form.Item>
        <Form.Item name="title" label="Title (optional)">
          <Input placeholder="What is this session for?" maxLength={200} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
