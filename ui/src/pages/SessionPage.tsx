import { Breadcrumb, Button, Card, Empty, Input, List, Popconfirm, Result, Select, Space, Spin, Tag, Tooltip, Typography } from 'antd';
import { BranchesOutlined, CloseOutlined, ForkOutlined, SendOutlined, StopOutlined, UserOutlined } from '@ant-design/icons';
import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { findAll, service } from '../api/client';
import { upsert, useEvents, useLoad, useOnReconnect } from '../api/live';
import { usePresence } from '../api/presence';
import type { PublicApproval, PublicMessage, PublicSession, PublicTask } from '../api/types';
import { displayName, useUserDirectory } from '../api/users';
import { useAuth } from '../auth/AuthContext';
import { PresenceAvatars, TaskStatusTag } from '../components/badges';
import { ErrorAlert, useNotify } from '../components/errors';
import { MessageView } from '../session/MessageView';
import { ApprovalRequest, type ApprovalAnswer } from '../session/ApprovalRequest';
import { useWorktree } from '../worktree/useWorktree';
import { PERMISSION_MODE_OPTIONS } from '../worktree/SessionsList';

export function SessionPage() {
  const { id } = useParams();
  const { client, user } = useAuth();
  const users = useUserDirectory(client);
  const navigate = useNavigate();
  const { run } = useNotify();
  const session = useLoad(() => service(client, 'sessions').get(id!), [client, id]);
  const { worktree, access, gone } = useWorktree(client, session.data?.worktree_id);
  const approvals = useLoad(() => findAll(service(client, 'approvals'), { session_id: id }), [client, id]);
  const tasks = useLoad(() => findAll(service(client, 'tasks'), { session_id: id }), [client, id]);
  const messages = useLoad(() => findAll(service(client, 'messages'), { session_id: id }, 20000), [client, id]);
  const looking = usePresence(client, session.data?.worktree_id, user?.id);
  const [prompt, setPrompt] = useState('');
  const [sending, setSending] = useState(false);
  const bottom = useRef<HTMLDivElement>(null);

  useOnReconnect(client, () => {
    tasks.reload();
    messages.reload();
    approvals.reload();
  });
  const onApproval = (a: PublicApproval) => a.session_id === id && approvals.set((rows) => upsert(rows, a));
  useEvents(client, 'approvals', { created: onApproval, patched: onApproval });
  const onTask = (t: PublicTask) => t.session_id === id && tasks.set((rows) => upsert(rows, t));
  useEvents(client, 'tasks', { created: onTask, patched: onTask });
  useEvents(client, 'messages', { created: (m: PublicMessage) => m.session_id === id && messages.set((rows) => upsert(rows, m)) });
  useEvents(client, 'sessions', { patched: (s: PublicSession) => s.id === id && session.set(() => s) });

  const byTask = useMemo(() => {
    const map = new Map<string, PublicMessage[]>();
    for (const m of messages.data ?? []) map.set(m.task_id, [...(map.get(m.task_id) ?? []), m]);
    return map;
  }, [messages.data]);
  const allTasks = tasks.data ?? [];
  const running = allTasks.find((t) => t.status === 'running' || t.status === 'awaiting_permission');
  const approvalById = new Map((approvals.data ?? []).map((a) => [a.id, a]));
  const queued = allTasks.filter((t) => t.status === 'queued');
  const shown = allTasks.filter((t) => t.status !== 'queued');

  // Follow the output while the reader is at the bottom.
  const count = (messages.data?.length ?? 0) + allTasks.length;
  useEffect(() => {
    const el = document.scrollingElement;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 200) bottom.current?.scrollIntoView({ block: 'end' });
  }, [count]);

  if (session.error || gone) {
    return (
      <Result
        status="404"
        title="This session is not available"
        subTitle={session.error ? (session.error as Error).message : 'Its worktree is no longer shared with you.'}
        extra={<Button onClick={() => navigate('/board')}>Back to the board</Button>}
      />
    );
  }
  const s = session.data;
  if (!s || !access) return <Spin style={{ display: 'block', margin: 48 }} />;
  const own = s.created_by === user?.id;
  const canPrompt = own ? access.can.prompt_own : access.can.prompt_others;
  const canFork = own ? access.can.create_session : access.can.fork_others;
  // The daemon decides; this only avoids offering buttons it will refuse (creator or owner).
  const canAnswer = own || access.is_owner;
  const answer = (approvalId: string) => (a: ApprovalAnswer) => run(() => service(client, 'approvals').patch(approvalId, a), a.decision === 'allow' ? 'Allowed' : 'Denied');

  const send = async () => {
    if (!prompt.trim()) return;
    setSending(true);
    const ok = await run(() => service(client, 'tasks').create({ session_id: s.id, prompt }));
    setSending(false);
    if (ok) setPrompt('');
  };

  return (
    <div style={{ maxWidth: 960, margin: '0 auto' }}>
      <Breadcrumb
        items={[{ title: <Link to="/board">Board</Link> }, { title: worktree ? <Link to={`/worktrees/${worktree.id}`}>{worktree.name}</Link> : '…' }, { title: s.title || 'Session' }]}
        style={{ marginBottom: 8 }}
      />
      <div style={{ display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: 8, marginBottom: 12 }}>
        <Typography.Title level={4} style={{ margin: 0 }} data-testid="session-title">
          {s.title || 'Untitled session'}
        </Typography.Title>
        <Tag>{s.agent}</Tag>
        {own ? (
          <Select
            size="small"
            aria-label="Tool approvals"
            value={s.permission_mode}
            style={{ minWidth: 200 }}
            popupMatchSelectWidth={false}
            options={PERMISSION_MODE_OPTIONS}
            onChange={(mode: string) => run(() => service(client, 'sessions').patch(s.id, { permission_mode: mode }).then((next) => session.set(() => next)), 'Tool approvals changed')}
          />
        ) : (
          <Tag data-testid="permission-mode">{s.permission_mode}</Tag>
        )}
        <Typography.Text type="secondary">by {displayName(users, s.created_by)}</Typography.Text>
        {worktree && <Tag icon={<BranchesOutlined />}>{worktree.branch}</Tag>}
        <Space style={{ marginLeft: 'auto' }}>
          <PresenceAvatars users={looking} />
          {running && canPrompt && (
            <Button danger icon={<StopOutlined />} onClick={() => run(() => service(client, 'tasks').patch(running.id, { status: 'stopped' }), 'Stopping…')}>
              Stop
            </Button>
          )}
          {canFork && (
            <Tooltip title={own ? 'A copy of this session that goes its own way' : 'A copy that runs as you'}>
              <Button
                icon={<ForkOutlined />}
                onClick={async () => {
                  const child = await run(() => service(client, 'sessions').create({ fork_from: s.id }), 'Forked');
                  if (child) navigate(`/sessions/${child.id}`);
                }}
              >
                Fork
              </Button>
            </Tooltip>
          )}
        </Space>
      </div>
      {!own && canPrompt && (
        <Typography.Paragraph type="warning" style={{ fontSize: 12 }}>
          Prompts you send here run as {displayName(users, s.created_by)}, with their credentials.
        </Typography.Paragraph>
      )}
      <ErrorAlert error={tasks.error ?? messages.error} />
      <div data-testid="conversation">
        {shown.length === 0 && !tasks.loading && (
          <Empty description={canPrompt ? 'Nothing here yet. Write a prompt below to start.' : 'Nothing has been asked in this session yet.'} />
        )}
        {shown.map((t) => (
          <TaskBlock
            key={t.id}
            task={t}
            messages={byTask.get(t.id) ?? []}
            who={displayName(users, t.created_by)}
            renderApproval={(approvalId) => {
              const a = approvalById.get(approvalId);
              return a ? <ApprovalRequest approval={a} canAnswer={canAnswer} answer={answer(a.id)} /> : null;
            }}
          />
        ))}
        {running?.status === 'running' && (
          <Typography.Text type="secondary" data-testid="working">
            <Spin size="small" /> working…
          </Typography.Text>
        )}
        {running?.status === 'awaiting_permission' && (
          <Typography.Text type="warning" data-testid="awaiting-permission">
            waiting for a tool approval…
          </Typography.Text>
        )}
      </div>
      {queued.length > 0 && (
        <Card size="small" title={`Queue (${queued.length})`} style={{ marginTop: 12 }} data-testid="queue">
          <List
            size="small"
            dataSource={queued}
            renderItem={(t) => (
              <List.Item
                data-testid="queued-task"
                actions={
                  canPrompt
                    ? [
                        <Popconfirm key="c" title="Cancel this prompt?" okText="Cancel it" cancelText="Keep" onConfirm={() => run(() => service(client, 'tasks').patch(t.id, { status: 'stopped' }), 'Cancelled')}>
                          <Button size="small" icon={<CloseOutlined />} aria-label="Cancel queued prompt">
                            Cancel
                          </Button>
                        </Popconfirm>,
                      ]
                    : []
                }
              >
                <Typography.Text ellipsis style={{ maxWidth: 600 }}>
                  {t.prompt}
                </Typography.Text>
              </List.Item>
            )}
          />
        </Card>
      )}
      <div ref={bottom} />
      {canPrompt ? (
        <div style={{ position: 'sticky', bottom: 0, background: '#f5f6fa', paddingTop: 12, paddingBottom: 12, marginTop: 12 }}>
          <Space.Compact style={{ width: '100%' }}>
            <Input.TextArea
              value={prompt}
              onChange={(e) => setPrompt(e.target.value)}
              placeholder={running ? 'Queue another prompt… (Ctrl+Enter to send)' : 'Ask the agent… (Ctrl+Enter to send)'}
              autoSize={{ minRows: 2, maxRows: 10 }}
              aria-label="Prompt"
              onKeyDown={(e) => {
                if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void send();
              }}
            />
            <Button type="primary" icon={<SendOutlined />} loading={sending} disabled={!prompt.trim()} onClick={send} style={{ height: 'auto' }}>
              {running ? 'Queue' : 'Send'}
            </Button>
          </Space.Compact>
        </div>
      ) : (
        <Typography.Paragraph type="secondary" style={{ marginTop: 12 }}>
          You can read this session but not prompt it.
        </Typography.Paragraph>
      )}
    </div>
  );
}

/** One prompt and everything the agent answered to it. */
function TaskBlock({ task, messages, who, renderApproval }: { task: PublicTask; messages: PublicMessage[]; who: string; renderApproval: (approvalId: string) => React.ReactNode }) {
  // Consecutive plain-text lines (a command agent's stdout) read as one block.
  const blocks: PublicMessage[] = [];
  for (const m of messages) {
    const prev = blocks.at(-1);
    const c = m.content as { text?: string; stream?: string };
    const p = prev?.content as { text?: string; stream?: string } | undefined;
    if (prev && prev.type === 'text' && m.type === 'text' && p?.stream === c?.stream) blocks[blocks.length - 1] = { ...prev, content: { ...p, text: `${p?.text ?? ''}\n${c?.text ?? ''}` } };
    else blocks.push(m);
  }
  return (
    <div style={{ marginBottom: 16 }} data-testid="task-block">
      <div style={{ display: 'flex', justifyContent: 'flex-end', marginBottom: 8 }}>
        <div style={{ background: '#e6ecff', borderRadius: 10, padding: '8px 12px', maxWidth: '85%' }}>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            <UserOutlined /> {who}
          </Typography.Text>
          <div style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>{task.prompt}</div>
        </div>
      </div>
      <Card size="small" styles={{ body: { display: 'flex', flexDirection: 'column', gap: 8 } }}>
        {blocks.map((m) =>
          m.type === 'permission_request' ? (
            <div key={m.id}>{renderApproval(String((m.content as { approval_id?: unknown })?.approval_id ?? ''))}</div>
          ) : (
            <MessageView key={m.id} message={m} />
          ),
        )}
        {blocks.length === 0 && task.status !== 'running' && <Typography.Text type="secondary">No output.</Typography.Text>}
        <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center' }}>
          <TaskStatusTag status={task.status} />
          {task.reason && !shownAsError(messages, task.reason) && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="task-reason">
              {task.reason}
            </Typography.Text>
          )}
        </div>
      </Card>
    </div>
  );
}

/** The agent already reported this reason as an error message above: say it once. */
function shownAsError(messages: PublicMessage[], reason: string): boolean {
  return messages.some((m) => m.type === 'error' && (m.content as { message?: unknown })?.message === reason);
}
