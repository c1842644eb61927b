import { useState } from 'react';
import { Button, Card, Form, Input } from 'antd';
import type { SettingsApi } from './client';
import { errorText } from './errors';
import { useCardSize } from './layout';
import { Feedback, type FeedbackState } from './Feedback';

interface Values {
  old_password: string;
  password: string;
  confirm: string;
}

/** Own password: the daemon wants the current one as old_password; 8 to 72 bytes (bcrypt). */
export function PasswordSection({ api }: { api: SettingsApi }) {
  const cardSize = useCardSize();
  const [form] = Form.useForm<Values>();
  const [saving, setSaving] = useState(false);
  const [feedback, setFeedback] = useState<FeedbackState>(null);
  const change = async ({ old_password, password }: Values) => {
    setSaving(true);
    setFeedback(null);
    try {
      await api.patchMe({ old_password, password });
      form.resetFields();
      setFeedback({ type: 'success', text: 'Your password was changed. Use the new one next time you sign in.' });
    } catch (error) {
      setFeedback({ type: 'error', text: errorText(error) });
    } finally {
      setSaving(false);
    }
  };
  return (
    <Card size={cardSize} title="Password" data-testid="settings-password" style={{ height: '100%' }}>
      <Feedback value={feedback} onClose={() => setFeedback(null)} />
      <Form form={form} layout="vertical" onFinish={change} requiredMark={false} autoComplete="off">
        <Form.Item name="old_password" label="Current password" rules={[{ required: true, message: 'Enter your current password' }]}>
          <Input.Password autoComplete="current-password" />
        </Form.Item>
        <Form.Item
          name="password"
          label="New password"
          extra="8 to 72 characters."
          rules={[
            { required: true, message: 'Enter a new password' },
            { min: 8, message: 'At least 8 characters' },
            { validator: async (_r, v: string) => { if (v && new TextEncoder().encode(v).length > 72) throw new Error('At most 72 bytes'); } },
          ]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item
          name="confirm"
          label="New password again"
          dependencies={['password']}
          rules={[
            { required: true, message: 'Repeat the new password' },
            ({ getFieldValue }) => ({
              validator: async (_r, v: string) => {
                if (v && v !== getFieldValue('password')) throw new Error('The two new passwords differ');
              },
            }),
          ]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={saving}>
          Change password
        </Button>
      </Form>
    </Card>
  );
}
