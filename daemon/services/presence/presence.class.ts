import { MethodNotAllowed } from '@feathersjs/errors';
import type { Paginated, Params, RealTimeConnection } from '@feathersjs/feathers';
import type { Application } from '../../declarations.js';
import { ensureWorktreePermission, policyOf, subjectOf } from '../../rbac/authorize.js';
import { whereWorktreeVisible } from '../../rbac/scope.js';
import { worktreeChannel } from '../../channels.js';
import type { PublicUser } from '../users/users.schema.js';
import type { PresenceEntry } from './presence.shared.js';

interface Looking {
  worktreeId: string;
  user: { id: string; name: string };
}

/**
 * In memory only (presence is ephemeral). Someone counts as looking while their connection is
 * still in the worktree's channel, so a user who lost access drops out of every list at once.
 */
export class PresenceService {
  private readonly looking = new Map<RealTimeConnection, Looking>();

  constructor(private readonly app: Application) {}

  entry(worktreeId: string): PresenceEntry {
    const members = new Set(this.app.channel(worktreeChannel(worktreeId)).connections);
    const users = new Map<string, { id: string; name: string }>();
    for (const [connection, looking] of this.looking) {
      if (looking.worktreeId === worktreeId && members.has(connection)) users.set(looking.user.id, looking.user);
    }
    return { worktree_id: worktreeId, users: [...users.values()].sort((a, b) => a.name.localeCompare(b.name)) };
  }

  /** After `userIds` lost sight of a worktree: if any of them was looking, the others get the new list. */
  lostSight(worktreeId: string, userIds: Set<string>): void {
    if ([...this.looking.values()].some((l) => l.worktreeId === worktreeId && userIds.has(l.user.id))) this.changed(worktreeId);
  }

  private changed(worktreeId: string | undefined): void {
    if (worktreeId) this.app.service('presence').emit('changed', this.entry(worktreeId));
  }

  async find(params: Params): Promise<Paginated<PresenceEntry>> {
    const subject = subjectOf(params);
    const watched = [...new Set([...this.looking.values()].map((l) => l.worktreeId))];
    // The same view rule as every list (admins get no implicit access to contents here either).
    const q = this.app.get('db')('worktrees as w').select('w.id').whereIn('w.id', watched);
    whereWorktreeVisible(q, subject, policyOf(this.app), { worktreeId: 'w.id', othersCan: 'w.others_can' });
    const visible = ((await q) as { id: string }[]).map((r) => r.id);
    const data = visible.map((id) => this.entry(id)).filter((e) => e.users.length > 0);
    return { total: data.length, limit: data.length, skip: 0, data };
  }

  async create(data: { worktree_id: string | null }, params: Params): Promise<PresenceEntry | { worktree_id: null; users: [] }> {
    const user = params.user as PublicUser;
    if (data.worktree_id !== null) await ensureWorktreePermission(this.app, params, 'worktree.view', data.worktree_id);
    const connection = params.connection;
    if (params.provider !== 'socketio' || !connection) throw new MethodNotAllowed('Presence is available over Socket.IO only (it lasts as long as the connection)');
    const before = this.looking.get(connection)?.worktreeId;
    if (data.worktree_id === null) this.looking.delete(connection);
    else this.looking.set(connection, { worktreeId: data.worktree_id, user: { id: user.id, name: user.name || user.email } });
    if (before !== data.worktree_id) this.changed(before);
    if (data.worktree_id === null) return { worktree_id: null, users: [] };
    this.changed(data.worktree_id);
    return this.entry(data.worktree_id);
  }

  /** A closed connection stops looking. */
  disconnect(connection: RealTimeConnection): void {
    const before = this.looking.get(connection)?.worktreeId;
    if (this.looking.delete(connection)) this.changed(before);
  }
}
