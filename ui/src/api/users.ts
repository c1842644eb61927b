import { useEffect, useState } from 'react';
import { findAll, service, type ApiClient } from './client';
import type { PublicUser } from './types';

const cache = new WeakMap<ApiClient, Promise<Map<string, PublicUser>>>();

/** The team (users are visible to everyone signed in), loaded once per client, by id. */
export function useUserDirectory(client: ApiClient): Map<string, PublicUser> {
  const [users, setUsers] = useState<Map<string, PublicUser>>(new Map());
  useEffect(() => {
    let promise = cache.get(client);
    if (!promise) {
      promise = findAll(service(client, 'users')).then((list) => new Map(list.map((u) => [u.id, u])));
      promise.catch(() => cache.delete(client));
      cache.set(client, promise);
    }
    let live = true;
    promise.then((m) => live && setUsers(m)).catch(() => undefined);
    return () => {
      live = false;
    };
  }, [client]);
  return users;
}

export const displayName = (users: Map<string, PublicUser>, id: string | null | undefined): string => {
  if (!id) return 'unknown';
  const u = users.get(id);
  return u ? u.name || u.email : id.slice(0, 8);
};
