import { useEffect, useState } from 'react';
import { Alert, Form, Input, Modal } from 'antd';
import type { PublicUser } from '../api/types';
import type { SettingsApi } from './client';
import { errorText } from './errors';

type UnixMode = 'simple' | 'insulated' | 'strict';

const MODE_NOTE: Record<UnixMode, string> = {
  simple: 'This daemon runs in simple mode: the link is recorded, and sessions still run as the daemon user.',
  insulated: 'Insulated mode: the account is created if missing; sessions run as the executor user.',
  strict: "Strict mode: the account is created if missing, and this user's sessions and terminals run as it.",
};

/** `agor user link-unix` in the browser: set (or change) a user's unix_username. */
export function UnixLinkModal({ api, user, mode, onDone, onClose }: { api: SettingsApi; user: PublicUser | null; mode: UnixMode | null; onDone: (user: PublicUser) => void; onClose: () => void }) {
  const [form] = Form.useForm<{ unix_username: string }>();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The title keeps naming the user while the dialog animates closed.
  const [shown, setShown] = useState<PublicUser | null>(user);
  useEffect(() => {
    if (user) {
      setShown(user);
      form.setFieldsValue({ unix_username: user.unix_username ?? '' });
      setError(null);
    }
  }, [user, form]);
  const link = async ({ unix_username }: { unix_username: string }) => {
    if (!user) return;
    setSaving(true);
    setError(null);
    try {
      onDone(await api.patchUser(user.id, { unix_username: unix_username.trim() }));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal open={user !== null} title={`Unix account of ${shown?.email ?? ''}`} okText="Link" confirmLoading={saving} onOk={() => form.submit()} onCancel={onClose} forceRender>
      {mode && <Alert type="info" showIcon title={MODE_NOTE[mode]} style={{ marginBottom: 12 }} />}
      {error && <Alert type="error" role="alert" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Form form={form} layout="vertical" onFinish={link} requiredMark={false}>
        <Form.Item name="unix_username" label="Unix account name" extra="agor_ followed by 1-24 lower-case letters, digits or _." rules={[{ required: true, message: 'Enter the account name, e.g. agor_ada' }]}>
          <Input autoComplete="off" placeholder="agor_ada" data-testid="unix-username" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
