// Every route the daemon exposes, found at run time, must be classified here: what it answers
// without credentials and what it answers to a viewer (on a worktree whose others_can is `view`).
// A service, method or Koa middleware that nobody classified fails this suite.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import feathersModule from '@feathersjs/feathers';
import { koa, rest, bodyParser } from '@feathersjs/koa';
import { startTestDaemon, type SocketClient, type TestDaemon } from '../helpers/daemon.js';
import {
  appendMessage,
  insertApproval,
  cleanupTempDirs,
  createSession,
  createTask,
  createWorktree,
  quickActor,
  ownerActor,
  registerRepo,
  type Actor,
  type Transport,
} from '../helpers/worktree-fixture.js';
import { errorHandler } from '../../daemon/http/errors.js';
import { healthRoute, refuseQueryTokens, remoteAddress, requireJsonBodies } from '../../daemon/http/middleware.js';
import { webUi } from '../../daemon/http/static-ui.js';
import { countRequests, metricsRoute } from '../../daemon/http/metrics.js';
import type { PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';

// CommonJS: only some exports are visible as named ESM imports.
const { feathers, getServiceOptions, defaultServiceArguments, defaultServiceMethods } = feathersModule;

interface Fixture {
  wt: PublicWorktree;
  member: Actor;
  viewer: Actor;
  viewerPassword: string;
  repoId: string;
  repoDir: string;
  sessionId: string;
  taskId: string;
  messageId: number;
  boardId: string;
  boardItemId: string;
  memberKeyId: string;
  memberSecretId: string;
  approvalId: string;
}

interface Call {
  /** null: the method's "no id" form (DELETE /authentication logs the caller's own credential out). */
  id?: string | number | null;
  data?: unknown;
  query?: Record<string, string>;
  /** Values for the route's :placeholders. */
  route?: Record<string, string>;
}

/** 'ok' or the Feathers error class name. */
type Outcome = string;

interface Classification {
  call: (f: Fixture, transport: Transport) => Call;
  /** Without any credentials. */
  anonymous: Outcome;
  /** With the viewer's credentials; the worktree in play gives others `view`. */
  viewer: Outcome;
}

const NO_AUTH = 'NotAuthenticated';
const signedIn = (viewer: Outcome, call: Classification['call']): Classification => ({ call, anonymous: NO_AUTH, viewer });

/**
 * THE CLASSIFICATION: one entry per "path method" registered in the app. Add a service or method,
 * and this suite fails until it is classified here.
 */
const CLASSIFICATION: Record<string, Classification> = {
  // Users: the team list is visible to everyone signed in; managing users needs admin.
  'users find': signedIn('ok', () => ({})),
  'users get': signedIn('ok', (f) => ({ id: f.member.id })),
  'users create': signedIn('Forbidden', (_f, t) => ({ data: { email: `from-viewer-${t}@test.local`, password: 'password-123', role: 'viewer' } })),
  'users patch': signedIn('Forbidden', (f) => ({ id: f.member.id, data: { name: 'renamed by a viewer' } })),
  'users remove': signedIn('Forbidden', (f) => ({ id: f.member.id })),
  // API keys: one's own only; another user's key answers like a missing one.
  'api-keys find': signedIn('ok', () => ({})),
  'api-keys get': signedIn('NotFound', (f) => ({ id: f.memberKeyId })),
  'api-keys create': signedIn('ok', (_f, t) => ({ data: { name: `viewer-${t}` } })),
  'api-keys remove': signedIn('NotFound', (f) => ({ id: f.memberKeyId })),
  // Audit log: admins only.
  'audit find': signedIn('Forbidden', () => ({})),
  'audit get': signedIn('Forbidden', () => ({ id: 1 })),
  // Audit chain status (`agor audit verify` over the API): admins only.
  'audit-chain find': signedIn('Forbidden', () => ({})),
  // Secrets: one's own only, write-only values; another's answers like a missing one.
  'user-secrets find': signedIn('ok', () => ({})),
  'user-secrets get': signedIn('NotFound', (f) => ({ id: f.memberSecretId })),
  'user-secrets create': signedIn('ok', (_f, t) => ({ data: { name: `VIEWER_SECRET_${t.toUpperCase()}`, value: 'not-a-real-secret' } })),
  'user-secrets patch': signedIn('NotFound', (f) => ({ id: f.memberSecretId, data: { value: 'overwritten' } })),
  'user-secrets remove': signedIn('NotFound', (f) => ({ id: f.memberSecretId })),
  // Repos: records visible to all signed in; viewers add nothing; removing is for who added it or admins.
  'repos find': signedIn('ok', () => ({})),
  'repos get': signedIn('ok', (f) => ({ id: f.repoId })),
  'repos create': signedIn('Forbidden', (f) => ({ data: { path: f.repoDir, name: 'viewer-repo' } })),
  'repos remove': signedIn('Forbidden', (f) => ({ id: f.repoId })),
  // Worktrees at tier `view`: see, never change.
  'worktrees find': signedIn('ok', () => ({})),
  'worktrees get': signedIn('ok', (f) => ({ id: f.wt.id })),
  'worktrees create': signedIn('Forbidden', (f) => ({ data: { repo_id: f.repoId, name: 'viewer-made' } })),
  'worktrees patch': signedIn('Forbidden', (f) => ({ id: f.wt.id, data: { archived: true } })),
  'worktrees remove': signedIn('Forbidden', (f) => ({ id: f.wt.id })),
  'worktrees/:worktree_id/owners find': signedIn('ok', (f) => ({ route: { worktree_id: f.wt.id } })),
  'worktrees/:worktree_id/owners create': signedIn('Forbidden', (f) => ({ route: { worktree_id: f.wt.id }, data: { user_id: f.viewer.id } })),
  'worktrees/:worktree_id/owners remove': signedIn('Forbidden', (f) => ({ route: { worktree_id: f.wt.id }, id: f.member.id })),
  // Sessions, tasks, messages of a worktree at tier `view`: readable, nothing more.
  'sessions find': signedIn('ok', (f) => ({ query: { worktree_id: f.wt.id } })),
  'sessions get': signedIn('ok', (f) => ({ id: f.sessionId })),
  'sessions create': signedIn('Forbidden', (f) => ({ data: { worktree_id: f.wt.id, agent: 'claude-code' } })),
  'sessions patch': signedIn('Forbidden', (f) => ({ id: f.sessionId, data: { archived: true } })),
  'sessions remove': signedIn('Forbidden', (f) => ({ id: f.sessionId })),
  'tasks find': signedIn('ok', (f) => ({ query: { worktree_id: f.wt.id } })),
  'tasks get': signedIn('ok', (f) => ({ id: f.taskId })),
  'tasks create': signedIn('Forbidden', (f) => ({ data: { session_id: f.sessionId, prompt: 'from a viewer' } })),
  'tasks patch': signedIn('Forbidden', (f) => ({ id: f.taskId, data: { status: 'stopped' } })),
  'messages find': signedIn('ok', (f) => ({ query: { worktree_id: f.wt.id } })),
  'messages get': signedIn('ok', (f) => ({ id: f.messageId })),
  // Tool approvals: visible at tier `view`; only the session's creator or an owner answers.
  'approvals find': signedIn('ok', (f) => ({ query: { worktree_id: f.wt.id } })),
  'approvals get': signedIn('ok', (f) => ({ id: f.approvalId })),
  'approvals patch': signedIn('Forbidden', (f) => ({ id: f.approvalId, data: { decision: 'allow' } })),
  // Boards: names are team-visible; viewers arrange nothing.
  'boards find': signedIn('ok', () => ({})),
  'boards get': signedIn('ok', (f) => ({ id: f.boardId })),
  'boards create': signedIn('Forbidden', () => ({ data: { name: 'viewer board' } })),
  'boards patch': signedIn('Forbidden', (f) => ({ id: f.boardId, data: { name: 'renamed' } })),
  'boards remove': signedIn('Forbidden', (f) => ({ id: f.boardId })),
  'board-items find': signedIn('ok', (f) => ({ query: { board_id: f.boardId } })),
  'board-items create': signedIn('Forbidden', (f) => ({ data: { board_id: f.boardId, worktree_id: f.wt.id, x: 1, y: 2 } })),
  'board-items patch': signedIn('Forbidden', (f) => ({ id: f.boardItemId, data: { x: 5 } })),
  'board-items remove': signedIn('Forbidden', (f) => ({ id: f.boardItemId })),
  // Unix group reconciliation (`agor admin sync-unix`): admins and owners only.
  'unix-sync create': signedIn('Forbidden', () => ({ data: { dry_run: true } })),
  // Web terminals: member+ with tier `all`, Socket.IO only (a viewer is refused before the transport check).
  'terminals create': signedIn('Forbidden', (f) => ({ data: { worktree_id: f.wt.id, cols: 80, rows: 24 } })),
  'terminals remove': signedIn('Forbidden', () => ({ id: 'no-such-terminal' })),
  'terminals input': signedIn('Forbidden', () => ({ data: { id: 'no-such-terminal', data: 'id\n' } })),
  'terminals resize': signedIn('Forbidden', () => ({ data: { id: 'no-such-terminal', cols: 100, rows: 30 } })),
  // Non-secret daemon facts for the UI (agents, terminal on/off): anyone signed in.
  'info find': signedIn('ok', () => ({})),
  // Reloading config.yaml (`agor config reload`): admins and owners only, like unix-sync.
  'config-reload create': signedIn('Forbidden', () => ({ data: {} })),
  // The caller's own permissions per worktree (decide() per action), for the UI: at tier `view`, visible.
  'worktree-access find': signedIn('ok', () => ({})),
  'worktree-access get': signedIn('ok', (f) => ({ id: f.wt.id })),
  // Presence: lists only worktrees the caller may view; announcing needs view on the worktree first
  // (an unknown id is NotFound on both transports before the Socket.IO-only check).
  'presence find': signedIn('ok', () => ({})),
  'presence create': signedIn('NotFound', () => ({ data: { worktree_id: 'no-such-worktree' } })),
  // Logging in is the one public service call; logging out needs a credential.
  'authentication create': { call: (f) => ({ data: { strategy: 'local', email: f.viewer.email, password: f.viewerPassword } }), anonymous: 'ok', viewer: 'ok' },
  'authentication remove': { call: () => ({ id: null }), anonymous: NO_AUTH, viewer: 'ok' },
};

/** Koa routes outside the services: anything a middleware answers by itself. */
interface KoaRoute {
  method: string;
  path: string;
  anonymous: number;
  viewer: number;
}

interface MiddlewareClass {
  name: string;
  /** A middleware of the same kind, made by the same factory: same source text, same kind. */
  sample: () => unknown;
  /** The routes it answers on its own; [] for middleware that only passes requests on. */
  routes: KoaRoute[] | 'services';
}

/** Every Koa middleware the daemon may mount. A new one (a UI server, a webhook) must be added here. */
function middlewareClasses(): MiddlewareClass[] {
  // Feathers' own REST middleware, as a bare Feathers+Koa app mounts it.
  const reference = koa(feathers());
  reference.configure(rest());
  const [restProvider, restAuthentication, restServices] = reference.middleware;
  assert.equal(reference.middleware.length, 3, 'the reference app mounts three middleware');
  return [
    { name: 'Feathers REST provider marker', sample: () => restProvider, routes: [] },
    { name: 'request counter for /metrics (passes everything on)', sample: () => countRequests(d.app), routes: [] },
    { name: 'error handler (turns everything else into a Feathers error body)', sample: () => errorHandler(), routes: [] },
    // Prometheus metrics (metrics.access: admins by default): no credential 401, a viewer 403.
    { name: 'metrics', sample: () => metricsRoute(d.app), routes: [{ method: 'GET', path: '/metrics', anonymous: 401, viewer: 403 }] },
    { name: 'health', sample: () => healthRoute('0'), routes: [{ method: 'GET', path: '/health', anonymous: 200, viewer: 200 }] },
    // The built UI: a public page (no data in it); only `/`, `/index.html` and `/assets/*`.
    {
      name: 'web UI (static files)',
      sample: () => webUi(),
      routes: [
        { method: 'GET', path: '/', anonymous: 200, viewer: 200 },
        { method: 'GET', path: '/index.html', anonymous: 200, viewer: 200 },
        { method: 'GET', path: '/assets/no-such-file.js', anonymous: 404, viewer: 404 },
      ],
    },
    { name: 'refuse tokens in query strings', sample: () => refuseQueryTokens(), routes: [] },
    { name: 'remote address for services', sample: () => remoteAddress(), routes: [] },
    { name: 'JSON bodies only (415)', sample: () => requireJsonBodies(), routes: [] },
    { name: 'body parser', sample: () => bodyParser(), routes: [] },
    { name: 'Feathers parseAuthentication', sample: () => restAuthentication, routes: [] },
    { name: 'Feathers REST service router', sample: () => restServices, routes: 'services' },
  ];
}

let d: TestDaemon;
let f: Fixture;
let viewerSocket: SocketClient;
let anonymousSocket: SocketClient;

before(async () => {
  d = await startTestDaemon({ execution: { worktree_rbac: true } });
  const owner = await ownerActor(d);
  const member = await quickActor(d, 'member');
  const viewerUser = await d.createUser('viewer');
  const viewerToken = await d.login(viewerUser.email, viewerUser.password);
  const viewer: Actor = { id: viewerUser.id, email: viewerUser.email, role: 'viewer', token: viewerToken, rest: d.rest(viewerToken), socket: await d.socket(viewerToken) };
  const repo = await registerRepo(owner);
  const wt = await createWorktree(member, repo.id, { others_can: 'view' });
  const session = await createSession(member, wt.id);
  const task = await createTask(member, session.id);
  const message = await appendMessage(d, task.id);
  const board = (await member.rest.service('boards').create({ name: 'team board' })) as { id: string };
  const item = (await member.rest.service('board-items').create({ board_id: board.id, worktree_id: wt.id, x: 0, y: 0 })) as { id: string };
  const key = (await member.rest.service('api-keys').create({ name: 'member key' })) as { id: string };
  const secret = (await member.rest.service('user-secrets').create({ name: 'MEMBER_SECRET', value: 'member-only' })) as { id: string };
  f = {
    wt,
    member,
    viewer,
    viewerPassword: viewerUser.password,
    repoId: repo.id,
    repoDir: repo.dir,
    sessionId: session.id,
    taskId: task.id,
    messageId: message.id,
    boardId: board.id,
    boardItemId: item.id,
    memberKeyId: key.id,
    memberSecretId: secret.id,
    approvalId: await insertApproval(d, task.id),
  };
  viewerSocket = viewer.socket;
  anonymousSocket = await d.socket();
});
after(async () => {
  await d.stop();
  cleanupTempDirs();
});

/** Every registered service path with its externally exposed methods, read from the running app. */
function registered(): { path: string; methods: string[] }[] {
  return Object.entries(d.app.services).map(([path, service]) => ({ path, methods: [...getServiceOptions(service).methods!] }));
}

const REST_VERBS: Record<string, { verb: string; withId: boolean }> = {
  find: { verb: 'GET', withId: false },
  get: { verb: 'GET', withId: true },
  create: { verb: 'POST', withId: false },
  update: { verb: 'PUT', withId: true },
  patch: { verb: 'PATCH', withId: true },
  remove: { verb: 'DELETE', withId: true },
};

function concretePath(path: string, route: Record<string, string> = {}): string {
  return path.replace(/:([a-z_]+)/g, (_m, name: string) => {
    assert.ok(route[name], `a value for :${name} in ${path}`);
    return route[name]!;
  });
}

/** One call over plain HTTP, exactly as any client would make it; custom methods via X-Service-Method. */
async function restCall(path: string, method: string, call: Call, token?: string): Promise<Outcome> {
  const known = REST_VERBS[method];
  const query = call.query ? `?${new URLSearchParams(call.query)}` : '';
  const id = known?.withId && call.id !== null ? `/${encodeURIComponent(String(call.id))}` : '';
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (!known) headers['x-service-method'] = method;
  const verb = known?.verb ?? 'POST';
  const hasBody = verb === 'POST' || verb === 'PUT' || verb === 'PATCH';
  const res = await fetch(`${d.url}/${concretePath(path, call.route)}${id}${query}`, { method: verb, headers, body: hasBody ? JSON.stringify(call.data ?? {}) : undefined });
  const body = (await res.json()) as { name?: string };
  if (res.ok) return 'ok';
  assert.ok(body.name, `an error body with a class name for ${verb} ${path}: ${JSON.stringify(body)}`);
  return body.name!;
}

/** One raw Socket.IO emit with the argument layout Feathers expects; `answer` gets its outcome if it is answered. */
function emitCall(sock: SocketClient, path: string, method: string, call: Call, answer: (outcome: Outcome) => void): void {
  const layout = (defaultServiceArguments as Record<string, string[]>)[method] ?? ['data', 'params'];
  const args = layout.map((arg) => (arg === 'id' ? call.id : arg === 'data' ? (call.data ?? {}) : { ...(call.query ?? {}) }));
  sock.socket.emit(method, concretePath(path, call.route), ...args, (error: { name?: string } | null) => answer(error ? (error.name ?? JSON.stringify(error)) : 'ok'));
}

/** A call over Socket.IO that must be answered. */
function socketCall(sock: SocketClient, path: string, method: string, call: Call, waitMs = 5000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${method} ${path}: no answer over Socket.IO`)), waitMs);
    emitCall(sock, path, method, call, (outcome) => {
      clearTimeout(timer);
      resolve(outcome);
    });
  });
}

/** Rows of every table a refused call must leave alone (the audit log grows with each denial). */
async function snapshot(): Promise<string> {
  const db = d.app.get('db');
  const tables = ['users', 'api_keys', 'user_secrets', 'repos', 'worktrees', 'worktree_owners', 'sessions', 'tasks', 'messages', 'boards', 'board_items', 'tool_approvals'];
  const dump: Record<string, unknown> = {};
  for (const table of tables) dump[table] = await db(table).select('*').orderBy(1);
  return JSON.stringify(dump);
}

/** 'authentication' last: logging a socket out ends that socket's session. */
function ordered<T extends { path: string }>(entries: T[]): T[] {
  return [...entries.filter((e) => e.path !== 'authentication'), ...entries.filter((e) => e.path === 'authentication')];
}

describe('every route is classified', () => {
  it('every registered service method has an entry in the classification, and every entry is registered', () => {
    const services = registered();
    const paths = services.map((s) => s.path);
    for (const expected of ['users', 'worktrees', 'worktrees/:worktree_id/owners', 'sessions', 'tasks', 'messages', 'authentication']) {
      assert.ok(paths.includes(expected), `${expected} is registered (the enumeration finds services)`);
    }
    const keys = services.flatMap(({ path, methods }) => methods.map((m) => `${path} ${m}`));
    const unclassified = keys.filter((k) => !(k in CLASSIFICATION));
    assert.deepEqual(unclassified, [], `registered but not classified (add them to CLASSIFICATION in ${import.meta.url})`);
    const stale = Object.keys(CLASSIFICATION).filter((k) => !keys.includes(k));
    assert.deepEqual(stale, [], 'classified but no longer registered');
  });

  it('every Koa middleware is a known kind; the routes they answer are classified', () => {
    const classes = middlewareClasses();
    const unknown: string[] = [];
    for (const middleware of d.app.middleware) {
      const source = String(middleware);
      const matches = classes.filter((c) => String(c.sample()) === source);
      if (matches.length !== 1) unknown.push(`${matches.length} matches for: ${source.slice(0, 160)}`);
    }
    assert.deepEqual(unknown, [], 'Koa middleware nobody classified (add it to middlewareClasses())');
    assert.ok(d.app.middleware.length >= classes.length, 'the enumeration found the middleware');
  });
});

describe('calls without credentials and with a viewer\'s', () => {
  it('each registered method over REST and Socket.IO answers as classified, and refused calls change nothing', async () => {
    const mismatches: string[] = [];
    let cases = 0;
    for (const { path, methods } of ordered(registered())) {
      for (const method of methods) {
        const entry = CLASSIFICATION[`${path} ${method}`]!;
        for (const transport of ['rest', 'socket'] as const) {
          const call = entry.call(f, transport);
          for (const who of ['anonymous', 'viewer'] as const) {
            const expected = entry[who];
            const before = expected === 'ok' ? '' : await snapshot();
            let actual: Outcome;
            if (transport === 'rest') actual = await restCall(path, method, call, who === 'viewer' ? f.viewer.token : undefined);
            else if (path === 'authentication') {
              // Logging in or out changes the socket's own session: each such call gets a socket of its own.
              const own = await d.socket(who === 'viewer' ? f.viewer.token : undefined);
              actual = await socketCall(own, path, method, call);
              own.close();
            } else actual = await socketCall(who === 'viewer' ? viewerSocket : anonymousSocket, path, method, call);
            cases += 1;
            if (actual !== expected) mismatches.push(`${who} ${transport} ${method} ${path} → ${actual}, expected ${expected}`);
            else if (expected !== 'ok' && (await snapshot()) !== before) mismatches.push(`${who} ${transport} ${method} ${path} was refused but changed the database`);
          }
        }
      }
    }
    console.log(`every route: ${cases} service calls (anonymous and viewer, REST and Socket.IO)`);
    assert.deepEqual(mismatches, []);
    assert.ok(cases >= 4 * Object.keys(CLASSIFICATION).length);
  });

  it('methods a service does not expose are refused on both transports, whoever asks', async () => {
    const services = registered();
    const before = await snapshot();
    const calls: Promise<string | null>[] = [];
    for (const { path, methods } of services) {
      const route = path.includes(':worktree_id') ? { worktree_id: f.wt.id } : undefined;
      for (const method of (defaultServiceMethods as string[]).filter((m) => !methods.includes(m))) {
        const call: Call = { id: 'x', data: { task_id: f.taskId, type: 'text', content: 'forged' }, route };
        for (const [who, token] of [['anonymous', undefined], ['viewer', f.viewer.token]] as const) {
          const check = (transport: string, actual: string, expected: string) => (actual === expected ? null : `${who} ${transport} ${method} ${path} → ${actual}, expected ${expected}`);
          // Over REST an unexposed method is 405 before anything else runs.
          calls.push(restCall(path, method, call, token).then((actual) => check('rest', actual, 'MethodNotAllowed')));
          // Over Socket.IO: MethodNotAllowed too, whether or not another service has that method
          // (silence would leave the caller waiting for its timeout).
          const sock = who === 'viewer' ? viewerSocket : anonymousSocket;
          calls.push(socketCall(sock, path, method, call).then((actual) => check('socket', actual, 'MethodNotAllowed')));
        }
      }
    }
    const mismatches = (await Promise.all(calls)).filter((m): m is string => m !== null);
    console.log(`every route: ${calls.length} calls of unexposed methods, all refused`);
    assert.deepEqual(mismatches, []);
    assert.equal(await snapshot(), before, 'refused calls changed nothing');
    // e.g. messages has no external create: the runner alone writes agent output.
    assert.ok(calls.length > 0);
  });

  it('Koa routes answer as classified; an unknown path is a 404 either way', async () => {
    const routes = middlewareClasses().flatMap((c) => (Array.isArray(c.routes) ? c.routes : []));
    assert.ok(routes.length > 0);
    for (const route of routes) {
      for (const [who, token] of [['anonymous', undefined], ['viewer', f.viewer.token]] as const) {
        const res = await fetch(`${d.url}${route.path}`, { method: route.method, headers: token ? { authorization: `Bearer ${token}` } : {} });
        assert.equal(res.status, route[who], `${who} ${route.method} ${route.path}`);
      }
    }
    for (const token of [undefined, f.viewer.token]) {
      const res = await fetch(`${d.url}/no-such-route`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { name: string }).name, 'NotFound');
    }
  });
});
