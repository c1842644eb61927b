import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { createClient, service, TOKEN_KEY, type ApiClient } from '../api/client';
import type { DaemonInfo, PublicUser } from '../api/types';

/**
 * What every page gets from useAuth(): the signed-in user, the one API client (a Socket.IO
 * connection authenticated as that user), the daemon's facts, and login/logout.
 */
export interface Auth {
  status: 'loading' | 'signed-out' | 'signed-in';
  user: PublicUser | null;
  client: ApiClient;
  /** Non-secret daemon facts (agents, terminal on/off, rbac); null until loaded. */
  info: DaemonInfo | null;
  /** False while the socket is down (it reconnects and re-authenticates by itself). */
  connected: boolean;
  login(email: string, password: string): Promise<void>;
  logout(): Promise<void>;
  /** Re-reads the current user (after changing one's own profile). */
  refreshUser(): Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth() outside <AuthProvider>');
  return auth;
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const client = useMemo(() => createClient(), []);
  const [user, setUser] = useState<PublicUser | null>(null);
  const [status, setStatus] = useState<Auth['status']>('loading');
  const [info, setInfo] = useState<DaemonInfo | null>(null);
  const [connected, setConnected] = useState(true);

  const signedIn = useCallback(
    async (u: PublicUser) => {
      setUser(u);
      setStatus('signed-in');
      setInfo(await service(client, 'info').find().catch(() => null));
    },
    [client],
  );

  useEffect(() => {
    // A stored token from an earlier visit: try it once, quietly.
    if (window.localStorage.getItem(TOKEN_KEY)) {
      client
        .reAuthenticate()
        .then((r) => signedIn(r.user))
        .catch(() => {
          window.localStorage.removeItem(TOKEN_KEY);
          setStatus('signed-out');
        });
    } else setStatus('signed-out');
    const socket = client.io as { on(e: string, f: () => void): void; off(e: string, f: () => void): void };
    let dropped = false;
    const up = () => {
      setConnected(true);
      if (!dropped) return;
      dropped = false;
      // The client re-authenticates by itself after a drop; if the token was refused meanwhile
      // (expired, user disabled), go back to the login page instead of failing every call.
      client.reAuthenticate().catch((e: { code?: number }) => {
        if (e?.code === 401) {
          window.localStorage.removeItem(TOKEN_KEY);
          setUser(null);
          setStatus('signed-out');
        }
      });
    };
    const down = () => {
      dropped = true;
      setConnected(false);
    };
    socket.on('connect', up);
    socket.on('disconnect', down);
    return () => {
      socket.off('connect', up);
      socket.off('disconnect', down);
    };
  }, [client, signedIn]);

  // Changes to one's own record (name, role) arrive on the per-user channel.
  useEffect(() => {
    if (!user) return;
    const users = service(client, 'users');
    const onPatched = (u: PublicUser) => {
      if (u.id === user.id) setUser(u);
    };
    users.on('patched', onPatched);
    return () => users.off('patched', onPatched);
  }, [client, user]);

  const value: Auth = {
    status,
    user,
    client,
    info,
    connected,
    async login(email, password) {
      const result = await client.authenticate({ strategy: 'local', email, password });
      await signedIn(result.user);
    },
    async logout() {
      await client.logout().catch(() => undefined);
      window.localStorage.removeItem(TOKEN_KEY);
      setUser(null);
      setStatus('signed-out');
    },
    async refreshUser() {
      if (user) setUser(await service(client, 'users').get(user.id));
    },
  };
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
