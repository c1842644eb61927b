import { useState } from 'react';
import { Button, Card, Descriptions, Form, Input, Tag } from 'antd';
import type { PublicUser } from '../api/types';
import type { SettingsApi } from './client';
import { errorText, fieldErrors } from './errors';
import { useCardSize } from './layout';
import { Feedback, type FeedbackState } from './Feedback';

interface Props {
  api: SettingsApi;
  me: PublicUser;
  onChanged: (user: PublicUser) => void;
}

/** Own name (the users service lets people change only their name and password themselves). */
export function ProfileSection({ api, me, onChanged }: Props) {
  const cardSize = useCardSize();
  const [form] = Form.useForm<{ name: string }>();
  const [saving, setSaving] = useState(false);
  const [feedback, setFeedback] = useState<FeedbackState>(null);
  const save = async ({ name }: { name: string }) => {
    setSaving(true);
    setFeedback(null);
    try {
      const user = await api.patchMe({ name: name.trim() });
      onChanged(user);
      setFeedback({ type: 'success', text: 'Your name was saved.' });
    } catch (error) {
      form.setFields(fieldErrors(error) as never);
      setFeedback({ type: 'error', text: errorText(error) });
    } finally {
      setSaving(false);
    }
  };
  return (
    <Card size={cardSize} title="Profile" data-testid="settings-profile" style={{ height: '100%' }}>
      <Descriptions column={1} size="small" style={{ marginBottom: 16 }}>
        <Descriptions.Item label="Email">{me.email}</Descriptions.Item>
        <Descriptions.Item label="Role">
          <Tag color={me.role === 'owner' || me.role === 'admin' ? 'gold' : 'blue'}>{me.role}</Tag>
        </Descriptions.Item>
        <Descriptions.Item label="Unix account">{me.unix_username ?? <span style={{ opacity: 0.65 }}>not linked</span>}</Descriptions.Item>
      </Descriptions>
      <Feedback value={feedback} onClose={() => setFeedback(null)} />
      <Form form={form} layout="vertical" initialValues={{ name: me.name }} onFinish={save} requiredMark={false}>
        <Form.Item name="name" label="Display name" extra="Shown to your team on cards and sessions." rules={[{ max: 200, message: 'At most 200 characters' }]}>
          <Input autoComplete="name" placeholder="e.g. Ada Lovelace" />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={saving}>
          Save name
        </Button>
      </Form>
      <p style={{ marginTop: 16, marginBottom: 0, opacity: 0.65 }}>Your email, role and Unix account are changed by an admin or owner.</p>
    </Card>
  );
}
