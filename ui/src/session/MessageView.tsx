import { Alert, Collapse, Tag, Typography } from 'antd';
import { BulbOutlined, ToolOutlined } from '@ant-design/icons';
import type { PublicMessage } from '../api/types';

const mono: React.CSSProperties = { fontFamily: 'ui-monospace, Menlo, Consolas, "Liberation Mono", monospace', fontSize: 12.5, whiteSpace: 'pre-wrap', wordBreak: 'break-word', margin: 0 };

function asText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

/** One piece of agent output: text, thinking, a tool call or its result, an error, usage. */
export function MessageView({ message }: { message: PublicMessage }) {
  const c = (message.content ?? {}) as Record<string, unknown>;
  switch (message.type) {
    case 'text':
      return (
        <pre style={{ ...mono, color: c.stream === 'stderr' ? '#ad4e00' : undefined }} data-testid="message-text">
          {asText(c.text)}
        </pre>
      );
    case 'thinking':
      return (
        <Collapse
          size="small"
          ghost
          items={[{ key: 't', label: <Typography.Text type="secondary"><BulbOutlined /> Thinking{c.redacted ? ' (redacted)' : ''}</Typography.Text>, children: <pre style={{ ...mono, color: '#666' }}>{asText(c.text)}</pre> }]}
        />
      );
    case 'tool_use':
      return (
        <Collapse
          size="small"
          items={[
            {
              key: 'u',
              label: (
                <span>
                  <ToolOutlined /> <b>{asText(c.name)}</b> <Typography.Text type="secondary">{summary(c.input)}</Typography.Text>
                </span>
              ),
              children: <pre style={mono}>{asText(c.input)}</pre>,
            },
          ]}
        />
      );
    case 'tool_result': {
      const failed = c.is_error === true || c.status === 'error';
      const out = asText(c.output ?? c.content ?? c.error);
      return (
        <Collapse
          size="small"
          items={[
            {
              key: 'r',
              label: (
                <span>
                  {failed ? <Tag color="red">error</Tag> : <Tag color="green">result</Tag>}
                  <Typography.Text type="secondary">{out.split('\n')[0]?.slice(0, 100) || '(empty)'}</Typography.Text>
                </span>
              ),
              children: <pre style={mono}>{out || '(empty)'}</pre>,
            },
          ]}
        />
      );
    }
    case 'error':
      return <Alert type="error" showIcon title={asText(c.message) || 'The agent reported an error'} data-testid="message-error" />;
    case 'usage':
      return (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {Object.entries(c)
            .filter(([, v]) => typeof v === 'number')
            .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${v}`)
            .join(' · ')}
        </Typography.Text>
      );
    default:
      return <Typography.Text type="secondary">{asText(c)}</Typography.Text>;
  }
}

function summary(input: unknown): string {
  if (!input || typeof input !== 'object') return '';
  const first = Object.values(input as Record<string, unknown>).find((v) => typeof v === 'string') as string | undefined;
  return first ? first.slice(0, 80) : '';
}
