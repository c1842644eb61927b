import { useMemo } from 'react';
import { Col, Grid, Row, Tabs, Typography } from 'antd';
import { Navigate, Route, Routes, useNavigate, useParams } from 'react-router-dom';
import { useAuth } from '../auth/AuthContext';
import { settingsApi } from './client';
import { isAdmin } from './roles';
import { ProfileSection } from './ProfileSection';
import { PasswordSection } from './PasswordSection';
import { ApiKeysSection } from './ApiKeysSection';
import { SecretsSection } from './SecretsSection';
import { UsersSection } from './UsersSection';
import { AuditSection } from './AuditSection';

/**
 * Settings at /#/settings/<tab>: one's own profile, password, API keys and secrets; for admins and
 * owners also users and the audit log. Other roles never get the admin tabs rendered at all (the
 * daemon refuses them anyway: the UI only avoids offering what will be refused).
 */
export function SettingsPage() {
  return (
    <Routes>
      <Route index element={<Navigate to="/settings/profile" replace />} />
      <Route path=":tab" element={<SettingsTabs />} />
      <Route path="*" element={<Navigate to="/settings/profile" replace />} />
    </Routes>
  );
}

function SettingsTabs() {
  const { client, user, info, refreshUser } = useAuth();
  const { tab } = useParams();
  const navigate = useNavigate();
  const api = useMemo(() => settingsApi(client), [client]);
  // Short labels on a phone, so all five tabs fit 390 px without an overflow menu.
  const narrow = Grid.useBreakpoint().sm === false;
  if (!user) return null;
  const items = [
    {
      key: 'profile',
      label: 'Profile',
      children: (
        <Row gutter={[16, 16]}>
          <Col xs={24} lg={12}>
            <ProfileSection api={api} me={user} onChanged={() => void refreshUser()} />
          </Col>
          <Col xs={24} lg={12}>
            <PasswordSection api={api} />
          </Col>
        </Row>
      ),
    },
    { key: 'api-keys', label: narrow ? 'Keys' : 'API keys', children: <ApiKeysSection api={api} /> },
    { key: 'secrets', label: 'Secrets', children: <SecretsSection api={api} /> },
    ...(isAdmin(user)
      ? [
          { key: 'users', label: 'Users', children: <UsersSection api={api} me={user} unixMode={info?.unix_user_mode ?? null} /> },
          { key: 'audit', label: narrow ? 'Audit' : 'Audit log', children: <AuditSection api={api} /> },
        ]
      : []),
  ];
  // An admin tab in a member's URL (or any unknown tab) falls back to the profile.
  if (!items.some((i) => i.key === tab)) return <Navigate to="/settings/profile" replace />;
  return (
    <div data-testid="settings" style={{ maxWidth: 960, margin: '0 auto' }}>
      <Typography.Title level={3} style={{ marginTop: 0 }}>
        Settings
      </Typography.Title>
      {/* destroyOnHidden: leaving a tab drops its forms, so nothing typed into a secret field lingers. */}
      <Tabs activeKey={tab} onChange={(key) => navigate(`/settings/${key}`)} items={items} destroyOnHidden />
    </div>
  );
}
