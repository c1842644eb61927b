import { useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { Alert, AutoComplete, Button, Card, Empty, Form, Input, List, Popconfirm, Select, Space, Tag, Typography } from 'antd';
import type { InputRef } from 'antd';
import { LockOutlined } from '@ant-design/icons';
import type { PublicUserSecret } from '../api/types';
import { AGENT_KEY_NAMES, whyRefusedEnvName } from '../../../daemon/crypto/env-names.js';
import type { SettingsApi } from './client';
import { errorText } from './errors';
import { useCardSize } from './layout';
import { Feedback, type FeedbackState } from './Feedback';
import { exact, when } from './format';
import { useLoad } from './useLoad';

interface Values {
  name: string;
  value: string;
  kind: 'auto' | 'agent_key' | 'env';
}

const SUGGESTIONS = [...AGENT_KEY_NAMES].map((value) => ({ value }));

/**
 * Own secrets, write-only: the daemon answers names, fingerprints and dates, never a value, and
 * this page never holds one longer than the form that sends it (cleared on success and on leave).
 */
export function SecretsSection({ api }: { api: SettingsApi }) {
  const cardSize = useCardSize();
  const secrets = useLoad(() => api.secrets(), [api]);
  // `?name=ANTHROPIC_API_KEY`: the new-session dialog links here with the key an agent is missing.
  const wanted = useSearchParams()[0].get('name');
  const asked = wanted && !whyRefusedEnvName(wanted) ? wanted : undefined;
  const [form] = Form.useForm<Values>();
  const [saving, setSaving] = useState(false);
  // Two places: the outcome of a save next to the form, of a removal above the list.
  const [feedback, setFeedback] = useState<FeedbackState>(null);
  const [listFeedback, setListFeedback] = useState<FeedbackState>(null);
  const valueRef = useRef<InputRef>(null);
  const list = secrets.data?.data ?? [];
  const existing = (name: string | undefined) => list.find((s) => s.name === name);
  const name = Form.useWatch('name', form);
  const replacing = existing(name);

  const save = async (values: Values) => {
    setSaving(true);
    setFeedback(null);
    const kind = values.kind === 'auto' ? undefined : values.kind;
    try {
      const stored = existing(values.name)
        ? await api.replaceSecret(values.name, { value: values.value, ...(kind && { kind }) })
        : await api.createSecret({ name: values.name, value: values.value, ...(kind && { kind }) });
      form.resetFields();
      setFeedback({ type: 'success', text: `${stored.name} was saved${stored.fingerprint ? ` (fingerprint ${stored.fingerprint})` : ''}. Its value cannot be shown again.` });
      await secrets.reload();
    } catch (error) {
      // Keep the name, drop the value: nothing typed as a secret lingers after a failure either.
      form.setFieldValue('value', '');
      setFeedback({ type: 'error', text: errorText(error) });
    } finally {
      setSaving(false);
    }
  };

  const remove = async (secret: PublicUserSecret) => {
    setListFeedback(null);
    try {
      await api.removeSecret(secret.id);
      setListFeedback({ type: 'success', text: `${secret.name} was removed.` });
      await secrets.reload();
    } catch (error) {
      setListFeedback({ type: 'error', text: errorText(error) });
    }
  };

  const startReplace = (secret: PublicUserSecret) => {
    form.setFieldsValue({ name: secret.name, value: '', kind: 'auto' });
    valueRef.current?.focus();
  };

  return (
    <Card size={cardSize} title="Secrets" data-testid="settings-secrets">
      <Typography.Paragraph type="secondary">
        API keys and environment variables your agent sessions run with. They are stored encrypted and are write-only: nobody, you included, can read a value back. Set a name again to replace its value.
      </Typography.Paragraph>
      <Feedback value={listFeedback} onClose={() => setListFeedback(null)} />
      {secrets.error && <Alert type="error" showIcon title={`Could not load your secrets: ${secrets.error}`} style={{ marginBottom: 12 }} action={<Button size="small" onClick={() => void secrets.reload()}>Retry</Button>} />}
      <List
        loading={secrets.loading && !secrets.data}
        dataSource={list}
        rowKey="id"
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="No secrets yet. Add your model provider's API key below so your sessions can use it." /> }}
        renderItem={(secret) => (
          <List.Item
            data-testid="secret-row"
            actions={[
              <Button key="replace" size="small" onClick={() => startReplace(secret)}>
                Replace
              </Button>,
              <Popconfirm key="remove" title={`Remove ${secret.name}?`} description="Sessions started afterwards no longer get it." okText="Remove" okButtonProps={{ danger: true }} onConfirm={() => remove(secret)}>
                <Button danger size="small">
                  Remove
                </Button>
              </Popconfirm>,
            ]}
          >
            <List.Item.Meta
              title={
                <Space wrap size={4}>
                  <code>{secret.name}</code>
                  <Tag>{secret.kind === 'agent_key' ? 'agent key' : 'env'}</Tag>
                </Space>
              }
              description={
                <Space wrap size={[12, 0]}>
                  <span>{secret.fingerprint ? <>fingerprint <code>{secret.fingerprint}</code></> : 'no fingerprint (no master secret configured)'}</span>
                  <span title={exact(secret.updated_at)}>updated {when(secret.updated_at)}</span>
                </Space>
              }
            />
          </List.Item>
        )}
      />
      <Card size="small" title={replacing ? `Replace the value of ${replacing.name}` : 'Add a secret'} style={{ marginTop: 16 }}>
        <Feedback value={feedback} onClose={() => setFeedback(null)} />
        <Form form={form} layout="vertical" initialValues={{ kind: 'auto', name: asked }} onFinish={save} requiredMark={false} autoComplete="off" style={{ maxWidth: 560 }}>
          <Form.Item
            name="name"
            label="Name"
            normalize={(v: string) => v.toUpperCase()}
            rules={[
              { required: true, message: 'Give the variable name, e.g. ANTHROPIC_API_KEY' },
              { validator: async (_r, v: string) => { const why = v ? whyRefusedEnvName(v) : null; if (why) throw new Error(why); } },
            ]}
          >
            <AutoComplete options={SUGGESTIONS} placeholder="ANTHROPIC_API_KEY" aria-label="Secret name" data-testid="secret-name" />
          </Form.Item>
          <Form.Item name="value" label={replacing ? `New value for ${replacing.name}` : 'Value'} rules={[{ required: true, message: 'Enter the value to store' }]}>
            <Input.Password ref={valueRef} visibilityToggle={false} autoComplete="new-password" placeholder={replacing ? 'replaces the stored value' : 'paste the value'} data-testid="secret-value" />
          </Form.Item>
          <Form.Item name="kind" label="Kind">
            <Select
              style={{ maxWidth: 300 }}
              options={[
                { value: 'auto', label: 'Automatic (agent key for known names)' },
                { value: 'agent_key', label: 'Agent key' },
                { value: 'env', label: 'Environment variable' },
              ]}
            />
          </Form.Item>
          <Space wrap>
            <Button type="primary" htmlType="submit" loading={saving} icon={<LockOutlined />}>
              {replacing ? 'Replace value' : 'Save secret'}
            </Button>
            {name && (
              <Button onClick={() => form.resetFields()} disabled={saving}>
                Clear
              </Button>
            )}
          </Space>
        </Form>
      </Card>
    </Card>
  );
}
