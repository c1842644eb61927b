import { Alert, Avatar, Button, Dropdown, Layout, Space, Tag, Typography } from 'antd';
import { AppstoreOutlined, LogoutOutlined, SettingOutlined, UserOutlined } from '@ant-design/icons';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import type { ReactNode } from 'react';
import { useAuth } from '../auth/AuthContext';

/** Header (navigation, who is signed in, logout) around every signed-in page. */
export function AppShell({ children }: { children: ReactNode }) {
  const { user, logout, connected } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const at = (prefix: string) => location.pathname.startsWith(prefix);
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Header style={{ display: 'flex', alignItems: 'center', gap: 12, padding: '0 16px', background: '#fff', borderBottom: '1px solid #f0f0f0' }}>
        <Link to="/board" style={{ fontWeight: 700, fontSize: 18, color: '#1d39c4' }}>
          agor
        </Link>
        <Space size={4} style={{ flex: 1, minWidth: 0 }}>
          <Button type={at('/board') || at('/worktrees') || at('/sessions') ? 'link' : 'text'} icon={<AppstoreOutlined />} onClick={() => navigate('/board')}>
            <span className="agor-hide-narrow">Board</span>
          </Button>
          <Button type={at('/settings') ? 'link' : 'text'} icon={<SettingOutlined />} onClick={() => navigate('/settings')} aria-label="Settings">
            <span className="agor-hide-narrow">Settings</span>
          </Button>
        </Space>
        <Dropdown
          trigger={['click']}
          menu={{
            items: [
              { key: 'who', label: <Typography.Text type="secondary">{user?.email}</Typography.Text>, disabled: true },
              { key: 'settings', icon: <SettingOutlined />, label: 'Profile & settings', onClick: () => navigate('/settings') },
              { type: 'divider' },
              { key: 'logout', icon: <LogoutOutlined />, label: 'Log out', onClick: () => void logout().then(() => navigate('/login')) },
            ],
          }}
        >
          <Button type="text" data-testid="user-menu" style={{ display: 'flex', alignItems: 'center', gap: 6 }}>
            <Avatar size="small" icon={<UserOutlined />} />
            <span className="agor-hide-narrow">{user?.name || user?.email}</span>
            <Tag style={{ marginInlineEnd: 0 }}>{user?.role}</Tag>
          </Button>
        </Dropdown>
      </Layout.Header>
      {!connected && <Alert type="warning" banner title="Connection to the daemon lost; reconnecting…" />}
      <Layout.Content style={{ padding: 16, maxWidth: 1400, width: '100%', margin: '0 auto' }}>{children}</Layout.Content>
    </Layout>
  );
}
