// Every call the settings make, in one place, through the scaffold's typed client
// (ui/src/api/client.ts).
import { service, type ApiClient } from '../api/client';
import type { AuditChainStatus, PublicApiKey, PublicUser, PublicUserSecret, Role } from '../api/types';

export type { AuditChainStatus };

export function settingsApi(client: ApiClient) {
  const users = service(client, 'users');
  const keys = service(client, 'api-keys');
  const secrets = service(client, 'user-secrets');
  const chain = service(client, 'audit-chain');
  return {
    me: () => users.get('me'),
    /**
     * A password change ends every other login of this user; the daemon answers with a fresh token
     * (this socket already uses it), which is stored so a reload stays signed in.
     */
    patchMe: async (data: { name?: string; password?: string; old_password?: string }) => {
      const result = (await users.patch('me', data)) as PublicUser & { accessToken?: string };
      if (result.accessToken) await client.authentication.setAccessToken(result.accessToken);
      const { accessToken: _token, ...user } = result;
      return user as PublicUser;
    },

    apiKeys: () => keys.find({ query: { $limit: 1000 } }),
    createApiKey: (data: { name: string; scope: 'full' | 'read'; expires_in_days?: number }): Promise<PublicApiKey> => keys.create(data),
    revokeApiKey: (id: string) => keys.remove(id),

    secrets: () => secrets.find({ query: { $limit: 1000 } }),
    createSecret: (data: { name: string; value: string; kind?: string }): Promise<PublicUserSecret> => secrets.create(data),
    /** By name: the service takes a secret's id or its name. */
    replaceSecret: (name: string, data: { value: string; kind?: string }): Promise<PublicUserSecret> => secrets.patch(name, data),
    removeSecret: (id: string) => secrets.remove(id),

    users: () => users.find({ query: { $limit: 1000 } }),
    createUser: (data: { email: string; password: string; name?: string; role: Role; unix_username?: string }): Promise<PublicUser> => users.create(data),
    patchUser: (id: string, data: { role?: Role; disabled?: boolean; unix_username?: string | null }): Promise<PublicUser> => users.patch(id, data),

    audit: (query: Record<string, unknown>) => service(client, 'audit').find({ query }),
    auditChain: () => chain.find(),
    /** New audit rows as they are appended (the daemon publishes them to admins and owners only). */
    onAuditAppended: (listener: () => void): (() => void) => {
      const audit = service(client, 'audit');
      audit.on('created', listener);
      return () => audit.off('created', listener);
    },
    /** Admins see every worktree record (never its contents): names for the audit filter. */
    worktrees: () => service(client, 'worktrees').find({ query: { $limit: 1000 } }),
  };
}

export type SettingsApi = ReturnType<typeof settingsApi>;
