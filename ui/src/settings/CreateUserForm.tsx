import { useState } from 'react';
import { Button, Card, Form, Input, Select, Space } from 'antd';
import type { PublicUser, Role } from '../api/types';
import type { SettingsApi } from './client';
import { errorText, fieldErrors } from './errors';
import { Feedback, type FeedbackState } from './Feedback';
import { grantableRoles } from './roles';
import { emailProblem } from '../../../daemon/services/users/email.shared.js';

/** The daemon's own rule (a@b.c and user+tag@localhost are fine), so the form never refuses what it would take. */
async function checkEmail(value: string | undefined): Promise<void> {
  const problem = value?.trim() ? emailProblem(value.trim().toLowerCase()) : null;
  if (problem) throw new Error(`The email ${problem}`);
}

interface Values {
  email: string;
  name?: string;
  password: string;
  role: Role;
  unix_username?: string;
}

/** New team member: only roles the current user may grant are offered. */
export function CreateUserForm({ api, me, onCreated, onCancel }: { api: SettingsApi; me: PublicUser; onCreated: (user: PublicUser) => void; onCancel: () => void }) {
  const [form] = Form.useForm<Values>();
  const [saving, setSaving] = useState(false);
  const [feedback, setFeedback] = useState<FeedbackState>(null);
  const roles = grantableRoles(me);
  const create = async (values: Values) => {
    setSaving(true);
    setFeedback(null);
    try {
      const unix = values.unix_username?.trim();
      const user = await api.createUser({ email: values.email.trim(), password: values.password, role: values.role, ...(values.name?.trim() && { name: values.name.trim() }), ...(unix && { unix_username: unix }) });
      form.resetFields();
      onCreated(user);
    } catch (error) {
      form.setFields(fieldErrors(error) as never);
      setFeedback({ type: 'error', text: errorText(error) });
    } finally {
      setSaving(false);
    }
  };
  return (
    <Card size="small" title="New user" style={{ marginBottom: 16 }} data-testid="create-user-form">
      <Feedback value={feedback} onClose={() => setFeedback(null)} />
      <Form form={form} layout="vertical" initialValues={{ role: roles.includes('member') ? 'member' : roles[0] }} onFinish={create} requiredMark={false} autoComplete="off">
        <Form.Item name="email" label="Email" rules={[{ required: true, message: 'Enter their email' }, { validator: (_, value?: string) => checkEmail(value) }]}>
          <Input autoComplete="off" placeholder="name@example.com" />
        </Form.Item>
        <Form.Item name="name" label="Name">
          <Input autoComplete="off" />
        </Form.Item>
        <Form.Item name="password" label="Initial password" extra="8 to 72 characters; they can change it in their settings." rules={[{ required: true, message: 'Set an initial password' }, { min: 8, message: 'At least 8 characters' }, { max: 72, message: 'At most 72 characters' }]}>
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item name="role" label="Role" extra={roles.length < 4 ? 'Only owners create admins and owners.' : undefined}>
          <Select style={{ maxWidth: 200 }} options={roles.map((r) => ({ value: r, label: r }))} data-testid="create-user-role" />
        </Form.Item>
        <Form.Item name="unix_username" label="Unix account (optional)" extra="agor_ followed by lower-case letters, digits or _. Needed in strict mode to run sessions.">
          <Input autoComplete="off" placeholder="agor_ada" />
        </Form.Item>
        <Space wrap>
          <Button type="primary" htmlType="submit" loading={saving}>
            Create user
          </Button>
          <Button onClick={onCancel}>Cancel</Button>
        </Space>
      </Form>
    </Card>
  );
}
