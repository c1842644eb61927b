import { App as AntApp, ConfigProvider, Spin } from 'antd';
import { HashRouter, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import type { ReactNode } from 'react';
import { AuthProvider, useAuth } from './auth/AuthContext';
import { AppShell } from './components/AppShell';
import { LoginPage } from './pages/LoginPage';
import { BoardPage } from './pages/BoardPage';
import { WorktreePage } from './pages/WorktreePage';
import { SessionPage } from './pages/SessionPage';
import { SettingsPage } from './settings/SettingsPage';

/** Signed-in pages only; others go to the login page and come back afterwards. */
function RequireAuth({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const location = useLocation();
  if (status === 'loading') return <Spin size="large" style={{ display: 'block', marginTop: '30vh' }} />;
  if (status === 'signed-out') return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return <AppShell>{children}</AppShell>;
}

export function App() {
  return (
    <ConfigProvider theme={{ token: { colorPrimary: '#2f54eb', borderRadius: 6 } }}>
      <AntApp>
        <AuthProvider>
          {/* Routes live in the URL fragment (/#/board): the daemon serves one page and nothing shadows its API. */}
          <HashRouter>
            <Routes>
              <Route path="/login" element={<LoginPage />} />
              <Route path="/board" element={<RequireAuth><BoardPage /></RequireAuth>} />
              <Route path="/worktrees/:id" element={<RequireAuth><WorktreePage /></RequireAuth>} />
              <Route path="/sessions/:id" element={<RequireAuth><SessionPage /></RequireAuth>} />
              <Route path="/settings/*" element={<RequireAuth><SettingsPage /></RequireAuth>} />
              <Route path="*" element={<Navigate to="/board" replace />} />
            </Routes>
          </HashRouter>
        </AuthProvider>
      </AntApp>
    </ConfigProvider>
  );
}
