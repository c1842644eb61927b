import { Card, Typography } from 'antd';
import { useAuth } from '../auth/AuthContext';

/**
 * PLACEHOLDER, owned by the settings work (ui/src/settings/**): profile and password, API keys,
 * secrets, and for admins users/roles, Unix links and the audit log. Mounted at /settings/* by
 * App.tsx; see ui/README.md for what it gets (useAuth) and how to call services and show errors.
 */
export function SettingsPage() {
  const { user } = useAuth();
  return (
    <Card title="Settings">
      <Typography.Paragraph>
        Signed in as <b>{user?.email}</b> ({user?.role}).
      </Typography.Paragraph>
    </Card>
  );
}
