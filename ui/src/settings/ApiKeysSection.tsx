import { useState } from 'react';
import { Alert, Button, Card, Empty, Form, Input, List, Modal, Popconfirm, Radio, Select, Space, Tag, Typography } from 'antd';
import { KeyOutlined, PlusOutlined } from '@ant-design/icons';
import type { PublicApiKey } from '../api/types';
import type { SettingsApi } from './client';
import { errorText } from './errors';
import { useCardSize } from './layout';
import { Feedback, type FeedbackState } from './Feedback';
import { exact, when } from './format';
import { useLoad } from './useLoad';
import { CopyableSecret } from './CopyableSecret';
import { DEFAULT_API_KEY_EXPIRY_DAYS } from '../../../daemon/services/api-keys/api-keys.shared.js';

interface CreateValues {
  name: string;
  scope: 'full' | 'read';
  expires: number | 'never';
}

function status(key: PublicApiKey): { label: string; color: string } {
  if (key.revoked_at) return { label: 'revoked', color: 'default' };
  if (key.expires_at && Date.parse(key.expires_at) <= Date.now()) return { label: 'expired', color: 'default' };
  return { label: 'active', color: 'green' };
}

/** Own API keys: list, create (the key is shown once, here, and never again), revoke. */
export function ApiKeysSection({ api }: { api: SettingsApi }) {
  const cardSize = useCardSize();
  const keys = useLoad(() => api.apiKeys(), [api]);
  const [form] = Form.useForm<CreateValues>();
  const [creating, setCreating] = useState(false);
  const [formOpen, setFormOpen] = useState(false);
  const [created, setCreated] = useState<PublicApiKey | null>(null);
  const [feedback, setFeedback] = useState<FeedbackState>(null);

  const create = async (values: CreateValues) => {
    setCreating(true);
    setFeedback(null);
    try {
      const key = await api.createApiKey({ name: values.name.trim(), scope: values.scope, ...(values.expires !== 'never' && { expires_in_days: values.expires }) });
      setCreated(key);
      setFormOpen(false);
      form.resetFields();
      await keys.reload();
    } catch (error) {
      setFeedback({ type: 'error', text: errorText(error) });
    } finally {
      setCreating(false);
    }
  };

  const revoke = async (key: PublicApiKey) => {
    setFeedback(null);
    try {
      await api.revokeApiKey(key.id);
      setFeedback({ type: 'success', text: `Key "${key.name}" was revoked: it stops working at once.` });
      await keys.reload();
    } catch (error) {
      setFeedback({ type: 'error', text: errorText(error) });
    }
  };

  const list = keys.data?.data ?? [];
  return (
    <Card size={cardSize}
      title="API keys"
      data-testid="settings-api-keys"
      extra={
        !formOpen && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setFormOpen(true)}>
            New key
          </Button>
        )
      }
    >
      <Typography.Paragraph type="secondary">
        For the <code>agor</code> CLI and scripts: send it as <code>Authorization: Bearer &lt;key&gt;</code>. A key acts as you; a read-only key cannot change anything.
      </Typography.Paragraph>
      <Feedback value={feedback} onClose={() => setFeedback(null)} />
      {keys.error && <Alert type="error" showIcon title={`Could not load your API keys: ${keys.error}`} style={{ marginBottom: 12 }} action={<Button size="small" onClick={() => void keys.reload()}>Retry</Button>} />}
      {formOpen && (
        <Card size="small" title="New API key" style={{ marginBottom: 16 }}>
          <Form form={form} layout="vertical" initialValues={{ scope: 'full', expires: DEFAULT_API_KEY_EXPIRY_DAYS }} onFinish={create} requiredMark={false}>
            <Form.Item name="name" label="Name" extra="What it is for, so you can tell keys apart later." rules={[{ required: true, whitespace: true, message: 'Give the key a name' }, { max: 100, message: 'At most 100 characters' }]}>
              <Input placeholder="e.g. laptop CLI" autoFocus />
            </Form.Item>
            <Form.Item name="scope" label="Access">
              <Radio.Group
                options={[
                  { value: 'full', label: 'Full (acts as you)' },
                  { value: 'read', label: 'Read only' },
                ]}
              />
            </Form.Item>
            <Form.Item name="expires" label="Expires">
              <Select
                style={{ maxWidth: 220 }}
                options={[
                  { value: 30, label: 'in 30 days' },
                  { value: 90, label: 'in 90 days' },
                  { value: 365, label: 'in a year' },
                  { value: 'never', label: 'never' },
                ]}
              />
            </Form.Item>
            <Space wrap>
              <Button type="primary" htmlType="submit" loading={creating}>
                Create key
              </Button>
              <Button onClick={() => setFormOpen(false)}>Cancel</Button>
            </Space>
          </Form>
        </Card>
      )}
      <List
        loading={keys.loading && !keys.data}
        dataSource={list}
        rowKey="id"
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="You have no API keys yet. Create one to use the agor CLI or scripts." /> }}
        renderItem={(key) => {
          const s = status(key);
          return (
            <List.Item
              data-testid="api-key-row"
              actions={
                s.label === 'active'
                  ? [
                      <Popconfirm key="revoke" title={`Revoke "${key.name}"?`} description="Anything using it stops working at once." okText="Revoke" okButtonProps={{ danger: true }} onConfirm={() => revoke(key)}>
                        <Button danger size="small">
                          Revoke
                        </Button>
                      </Popconfirm>,
                    ]
                  : []
              }
            >
              <List.Item.Meta
                avatar={<KeyOutlined style={{ fontSize: 18, opacity: s.label === 'active' ? 1 : 0.4 }} />}
                title={
                  <Space wrap size={4}>
                    <span>{key.name}</span>
                    <Tag color={s.color}>{s.label}</Tag>
                    <Tag>{key.scope === 'read' ? 'read only' : 'full'}</Tag>
                  </Space>
                }
                description={
                  <Space wrap size={[12, 0]}>
                    <code>{key.prefix}…</code>
                    <span title={exact(key.created_at)}>created {when(key.created_at)}</span>
                    <span title={exact(key.last_used_at)}>last used {key.last_used_at ? when(key.last_used_at) : 'never'}</span>
                    {key.revoked_at ? <span title={exact(key.revoked_at)}>revoked {when(key.revoked_at)}</span> : <span title={exact(key.expires_at)}>{key.expires_at ? `expires ${new Date(key.expires_at).toLocaleDateString()}` : 'never expires'}</span>}
                  </Space>
                }
              />
            </List.Item>
          );
        }}
      />
      <Modal
        open={created !== null}
        title={`Your new key "${created?.name ?? ''}"`}
        onCancel={() => setCreated(null)}
        mask={{ closable: false }}
        destroyOnHidden
        footer={
          <Button type="primary" onClick={() => setCreated(null)} data-testid="close-new-key">
            I have copied it
          </Button>
        }
      >
        <Alert type="warning" showIcon title="Copy it now: you won't see this key again." description="Only a hash is stored. If you lose it, revoke it and create a new one." style={{ marginBottom: 12 }} />
        {created?.key && <CopyableSecret value={created.key} label="New API key" />}
      </Modal>
    </Card>
  );
}
