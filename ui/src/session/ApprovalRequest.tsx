import { Alert, Button, Input, Popover, Space, Tag, Typography } from 'antd';
import { CheckOutlined, SafetyOutlined, StopOutlined } from '@ant-design/icons';
import { useState } from 'react';
import type { PublicApproval } from '../api/types';

const mono: React.CSSProperties = { fontFamily: 'ui-monospace, Menlo, Consolas, "Liberation Mono", monospace', fontSize: 12.5, whiteSpace: 'pre-wrap', wordBreak: 'break-word', margin: 0 };

export interface ApprovalAnswer {
  decision: 'allow' | 'deny';
  scope?: 'once' | 'session';
  message?: string;
}

const STATUS_TEXT: Record<string, { color: string; text: string }> = {
  pending: { color: 'gold', text: 'waiting for approval' },
  allowed: { color: 'green', text: 'allowed' },
  denied: { color: 'red', text: 'denied' },
  timed_out: { color: 'default', text: 'no answer: denied' },
  cancelled: { color: 'default', text: 'cancelled' },
};

/** The first word of a shell command: what "allow for the session" allows by default. */
function commandPrefix(input: unknown): string | null {
  const command = (input as { command?: unknown } | null)?.command;
  return typeof command === 'string' ? (command.trim().split(/\s+/)[0] ?? null) : null;
}

/**
 * A tool call the policy asked about (issue 16): the tool, its input in full, the rule that asked,
 * and — for the session's creator and the worktree's owners — Allow / Allow for session / Deny.
 */
export function ApprovalRequest({ approval, canAnswer, answer }: { approval: PublicApproval; canAnswer: boolean; answer: (a: ApprovalAnswer) => Promise<unknown> }) {
  const [busy, setBusy] = useState(false);
  const [denyOpen, setDenyOpen] = useState(false);
  const [message, setMessage] = useState('');
  const pending = approval.status === 'pending';
  const status = STATUS_TEXT[approval.status] ?? { color: 'default', text: approval.status };
  const prefix = commandPrefix(approval.input);
  const act = async (a: ApprovalAnswer) => {
    setBusy(true);
    try {
      await answer(a);
    } finally {
      setBusy(false);
      setDenyOpen(false);
    }
  };
  return (
    <Alert
      type={pending ? 'warning' : 'info'}
      showIcon
      icon={<SafetyOutlined />}
      data-testid="approval-request"
      data-status={approval.status}
      message={
        <Space wrap size={6}>
          <Typography.Text strong>{approval.tool}</Typography.Text>
          <Tag color={status.color} data-testid="approval-status">
            {status.text}
          </Tag>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            asked by {approval.rule}: {approval.reason}
          </Typography.Text>
        </Space>
      }
      description={
        <Space direction="vertical" style={{ width: '100%' }}>
          <pre style={mono} data-testid="approval-input">
            {JSON.stringify(approval.input, null, 2)}
          </pre>
          {approval.message && <Typography.Text type="secondary">Told the agent: {approval.message}</Typography.Text>}
          {pending && canAnswer && (
            <Space wrap>
              <Button type="primary" icon={<CheckOutlined />} loading={busy} onClick={() => act({ decision: 'allow' })} data-testid="approval-allow">
                Allow
              </Button>
              <Button loading={busy} onClick={() => act({ decision: 'allow', scope: 'session' })} data-testid="approval-allow-session">
                {prefix ? `Allow "${prefix} …" for this session` : `Allow ${approval.tool} for this session`}
              </Button>
              <Popover
                open={denyOpen}
                onOpenChange={setDenyOpen}
                trigger="click"
                content={
                  <Space direction="vertical">
                    <Input.TextArea value={message} onChange={(e) => setMessage(e.target.value)} placeholder="Why (the agent reads this), optional" autoSize={{ minRows: 2 }} aria-label="Denial message" />
                    <Button danger loading={busy} onClick={() => act({ decision: 'deny', ...(message.trim() && { message: message.trim() }) })}>
                      Deny
                    </Button>
                  </Space>
                }
              >
                <Button danger icon={<StopOutlined />} data-testid="approval-deny">
                  Deny…
                </Button>
              </Popover>
            </Space>
          )}
          {pending && !canAnswer && <Typography.Text type="secondary">Only the session's creator or the worktree's owners can answer.</Typography.Text>}
        </Space>
      }
    />
  );
}
