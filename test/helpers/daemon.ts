import fs from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { feathers, type Application as ClientApp } from '@feathersjs/feathers';
import restModule from '@feathersjs/rest-client';
import socketioClientModule from '@feathersjs/socketio-client';
import authClientModule from '@feathersjs/authentication-client';
import { io, type Socket } from 'socket.io-client';
import { stringify } from 'yaml';
import { loadRuntime, type Runtime } from '../../daemon/config/load.js';
import { initHome } from '../../daemon/bootstrap/init.js';
import { startDaemon, type RunningDaemon } from '../../daemon/main.js';
import { UsersService } from '../../daemon/services/users/users.class.js';
import type { Role } from '../../daemon/auth/roles.js';
import type { PublicUser } from '../../daemon/services/users/users.schema.js';

// The CommonJS client modules are functions; their NodeNext typings see namespaces.
const rest = restModule as unknown as typeof restModule.default;
const socketioClient = socketioClientModule as unknown as typeof socketioClientModule.default;
const authClient = authClientModule as unknown as typeof authClientModule.default;

export const OWNER = { email: 'owner@test.local', password: 'owner-password-1' };

/** Every payload any client of this process received, to scan for things that must never leak. */
export const received: string[] = [];

export interface TestUser extends PublicUser {
  password: string;
}

export interface TestDaemon extends RunningDaemon {
  home: string;
  runtime: Runtime;
  logs: string[];
  /** Creates a user straight in the database (bcrypt included), as an admin would. */
  createUser(role: Role, name?: string): Promise<TestUser>;
  /** Logs in over REST and returns the access token. */
  login(email: string, password: string): Promise<string>;
  rest(token?: string): ClientApp;
  socket(token?: string, opts?: { extraHeaders?: Record<string, string>; query?: Record<string, string> }): Promise<SocketClient>;
  /**
   * The end of a "nothing (else) arrived" check: publishes a marker event to every signed-in socket
   * and waits until each of `sockets` has it. What the daemon published before this call went out on
   * each connection before the marker (a connection keeps its order and the channel publishers are
   * synchronous), so once the marker is there, anything that would have arrived has. It does not
   * cover work the daemon has not yet done (an unawaited hook, a running task): wait for that first.
   */
  barrier(sockets: SocketClient[]): Promise<void>;
  stop(): Promise<void>;
}

/** The marker of a barrier: a `boards created` event no real board has (published to every signed-in socket). */
const BARRIER_NAME = 'test barrier';
export const isBarrierEvent = (e: { event: string; args: unknown[] }) => e.event === 'boards created' && (e.args[0] as { name?: string }).name === BARRIER_NAME;

export interface SocketClient {
  app: ClientApp;
  socket: Socket;
  events: { event: string; args: unknown[] }[];
  close(): void;
}

let counter = 0;

/** bcrypt hashes look like $2b$12$...; none may ever reach a client, in a response or an event. */
export const BCRYPT_HASH = /\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}/;

export function assertNoSecretsReceived(): void {
  const leak = received.find((payload) => BCRYPT_HASH.test(payload) || payload.includes('key_hash') || payload.includes('sessions_revoked_at'));
  if (leak) throw new Error(`A client received a password hash or internal credential field: ${leak.slice(0, 200)}`);
}

export function makeTempHome(prefix = 'agor-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * A real daemon on an ephemeral loopback port, with its own AGOR_HOME and first owner. `env` is where
 * it reads its master secret: by default a fresh random one, so secrets are encrypted as in production.
 * Prompts are only recorded (queued) unless `runTasks` is set.
 */
export async function startTestDaemon(
  config: Record<string, unknown> = {},
  {
    env = { AGOR_MASTER_SECRET: randomBytes(32).toString('hex') },
    runTasks = false,
  }: {
    env?: NodeJS.ProcessEnv;
    /** Start the runner, so prompts actually run (suites about records leave tasks queued). */
    runTasks?: boolean;
  } = {},
): Promise<TestDaemon> {
  const home = makeTempHome();
  const configPath = path.join(home, 'config.yaml');
  const merged = { ...config, daemon: { host: '127.0.0.1', port: 0, ...(config.daemon as object) } };
  fs.writeFileSync(configPath, stringify(merged), { mode: 0o600 });
  const runtime = loadRuntime({ configFlag: configPath, env: {} });
  await initHome(runtime, OWNER);
  const logs: string[] = [];
  const daemon = await startDaemon(runtime, { log: (line) => logs.push(line), env, runTasks });
  const users = new UsersService(daemon.app.get('db'));
  const sockets: SocketClient[] = [];

  const recordingFetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const text = await res.clone().text();
    received.push(text);
    return res;
  };

  const restClient = (token?: string) =>
    feathers().configure(rest(daemon.url).fetch(recordingFetch, token ? { headers: { Authorization: `Bearer ${token}` } } : {}));

  return {
    ...daemon,
    home,
    runtime,
    logs,
    async createUser(role, name) {
      counter += 1;
      const password = `password-${counter}-${role}`;
      const user = await users.create({ email: `${name ?? role}${counter}@test.local`, password, role, name: name ?? `${role} ${counter}` });
      return { ...user, password };
    },
    async login(email, password) {
      const result = (await restClient().service('authentication').create({ strategy: 'local', email, password })) as { accessToken: string };
      return result.accessToken;
    },
    rest: restClient,
    async socket(token, opts = {}) {
      const socket = io(daemon.url, {
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        extraHeaders: opts.extraHeaders,
        query: opts.query,
      });
      const app = feathers().configure(socketioClient(socket as never, { timeout: 5000 })).configure(authClient());
      const client: SocketClient = { app, socket, events: [], close: () => socket.close() };
      socket.onAny((event: string, ...args: unknown[]) => {
        received.push(JSON.stringify(args));
        client.events.push({ event, args });
      });
      sockets.push(client);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      if (token) await app.authenticate({ strategy: 'jwt', accessToken: token });
      return client;
    },
    async barrier(clients) {
      const id = `barrier-${randomUUID()}`;
      daemon.app.service('boards').emit('created', { id, name: BARRIER_NAME });
      const has = (c: SocketClient) => c.events.some((e) => isBarrierEvent(e) && (e.args[0] as { id: string }).id === id);
      await waitFor(() => clients.every(has), 10_000, 'the barrier event on every socket');
    },
    async stop() {
      for (const s of sockets) s.close();
      await daemon.close();
      fs.rmSync(home, { recursive: true, force: true });
      assertNoSecretsReceived();
    },
  };
}

/** Resolves when `predicate` holds, polling briefly; rejects after `ms`. */
export async function waitFor(predicate: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
