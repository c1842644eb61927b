import { feathers, type Application, type Params } from '@feathersjs/feathers';
import socketio from '@feathersjs/socketio-client';
import authentication from '@feathersjs/authentication-client';
import { io } from 'socket.io-client';
import { terminalsMethods, terminalsPath } from '../../../daemon/services/terminals/terminals.shared.js';
import type {
  DaemonInfo,
  AuditChainStatus,
  Page,
  PublicApiKey,
  PublicAuditEvent,
  PublicBoard,
  PublicBoardItem,
  PublicMessage,
  PublicApproval,
  PublicRepo,
  PublicSession,
  PublicTask,
  PublicUser,
  PublicUserSecret,
  PublicWorktree,
  TerminalEvent,
  TerminalEventData,
  TerminalOpened,
  WorktreeOwner,
  WorktreeAccess,
  PresenceEntry,
} from './types';

/** The token survives a reload here; logout removes it. */
export const TOKEN_KEY = 'agor-jwt';

/** A service as this client calls it: only the methods the daemon exposes for it. */
export interface CrudService<T, C = Partial<T>, P = Partial<T>> {
  find(params?: Params): Promise<Page<T>>;
  get(id: string | number, params?: Params): Promise<T>;
  create(data: C, params?: Params): Promise<T>;
  patch(id: string | number, data: P, params?: Params): Promise<T>;
  remove(id: string | number, params?: Params): Promise<T>;
  on(event: string, listener: (data: T) => void): void;
  off(event: string, listener: (data: T) => void): void;
}

export interface TerminalsService {
  create(data: { worktree_id: string; cols: number; rows: number }): Promise<TerminalOpened>;
  remove(id: string): Promise<unknown>;
  input(data: { id: string; data: string }): Promise<unknown>;
  resize(data: { id: string; cols: number; rows: number }): Promise<unknown>;
  on<E extends TerminalEvent>(event: E, listener: (data: TerminalEventData[E]) => void): void;
  off<E extends TerminalEvent>(event: E, listener: (data: TerminalEventData[E]) => void): void;
}

export interface ApiServices {
  users: CrudService<PublicUser, Record<string, unknown>, Record<string, unknown>>;
  'api-keys': CrudService<PublicApiKey, { name: string; scope?: 'full' | 'read'; expires_in_days?: number }>;
  audit: CrudService<PublicAuditEvent>;
  'user-secrets': CrudService<PublicUserSecret, { name: string; value: string; kind?: string }, { value?: string; kind?: string }>;
  repos: CrudService<PublicRepo, { path?: string; url?: string; name?: string }>;
  worktrees: CrudService<PublicWorktree, Record<string, unknown>, Record<string, unknown>>;
  sessions: CrudService<PublicSession, { worktree_id?: string; fork_from?: string; spawn_from?: string; agent?: string; title?: string; permission_mode?: string }, { title?: string; archived?: boolean; permission_mode?: string }>;
  tasks: CrudService<PublicTask, { session_id: string; prompt: string }, { status: 'stopped' }>;
  messages: CrudService<PublicMessage>;
  approvals: CrudService<PublicApproval, never, { decision: 'allow' | 'deny'; scope?: 'once' | 'session'; command_prefix?: string; message?: string }>;
  boards: CrudService<PublicBoard, { name: string }>;
  'board-items': CrudService<PublicBoardItem, { board_id: string; worktree_id: string; x: number; y: number }, { x?: number; y?: number }>;
  'worktree-access': CrudService<WorktreeAccess>;
  presence: CrudService<PresenceEntry, { worktree_id: string | null }>;
  info: { find(): Promise<DaemonInfo> };
  'audit-chain': { find(): Promise<AuditChainStatus> };
  terminals: TerminalsService;
}

export type ApiClient = Application & {
  authenticate(data: { strategy: string; [key: string]: unknown }): Promise<{ accessToken: string; user: PublicUser }>;
  reAuthenticate(force?: boolean): Promise<{ accessToken: string; user: PublicUser }>;
  logout(): Promise<unknown>;
  authentication: { setAccessToken(token: string): Promise<unknown> };
};

/** One Feathers client over one Socket.IO connection to the daemon that served this page. */
export function createClient(url: string = window.location.origin): ApiClient {
  const socket = io(url, { transports: ['websocket'] });
  const connection = socketio(socket, { timeout: 20000 });
  const app = feathers().configure(connection).configure(
    // No OAuth here: never take a token from the URL (a crafted link could sign someone in as another account).
    authentication({ storage: window.localStorage, storageKey: TOKEN_KEY, locationKey: 'agor-never-in-url', locationErrorKey: 'agor-never-in-url-error' }),
  );
  // Custom methods exist on the client only when declared (Feathers v5).
  app.use(terminalsPath, connection.service(terminalsPath) as never, { methods: [...terminalsMethods] });
  return app as unknown as ApiClient;
}

/** Typed access to a service: `service(client, 'worktrees').find(...)`. */
export function service<K extends keyof ApiServices>(client: ApiClient, path: K): ApiServices[K] {
  return client.service(path) as unknown as ApiServices[K];
}

/** The owners sub-service of one worktree (`worktrees/:worktree_id/owners`). */
export function ownersOf(client: ApiClient, worktreeId: string) {
  return client.service(`worktrees/${worktreeId}/owners`) as unknown as {
    find(params?: Params): Promise<WorktreeOwner[]>;
    create(data: { user_id: string }): Promise<WorktreeOwner>;
    remove(userId: string): Promise<WorktreeOwner>;
  };
}

/** Every row of a find, page by page (bounded: at most `max` rows). */
export async function findAll<T>(svc: { find(params?: Params): Promise<Page<T>> }, query: Record<string, unknown> = {}, max = 5000): Promise<T[]> {
  const rows: T[] = [];
  for (let skip = 0; skip < max; ) {
    const page = await svc.find({ query: { ...query, $limit: 500, $skip: skip } });
    rows.push(...page.data);
    skip += page.data.length;
    if (page.data.length === 0 || skip >= page.total) break;
  }
  return rows;
}
