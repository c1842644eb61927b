// One mode's daemon in the unix suite as its REST clients see it (agents, runner and terminal
// suites): the owner, members logged in over HTTP, worktrees of the fixture's source repository,
// and tasks run to their end.
import { DaemonHarness, type UnixFixture } from './fixture.js';

export const OWNER = { email: 'owner@unix.test', password: 'owner-password-1' };

export async function call<T = any>(url: string, token: string | undefined, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}/${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = (await res.json().catch(() => ({}))) as any;
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${data.message}`);
  return data as T;
}

export interface Person {
  id: string;
  unix: string | null;
  token: string;
  call<T = any>(method: string, route: string, body?: unknown): Promise<T>;
}

export interface Worktree {
  id: string;
  path: string;
  unix_group: string;
}

/** Polls `pick` until it gives a value (bounded by `ms`). */
export async function until<T>(pick: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await pick();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RigOptions {
  /** Names this rig's AGOR_HOME (agor-<tag>-<mode>), repository and members' accounts. */
  tag: string;
  stopGraceSeconds: number;
  /** Merged into the daemon's config (e.g. `agents`). */
  config?: Record<string, unknown>;
}

export class Rig<P extends Person = Person> {
  h!: DaemonHarness;
  owner!: P;
  repoId = '';
  readonly agorHome: string;

  constructor(
    readonly fx: UnixFixture,
    readonly mode: 'insulated' | 'strict',
    readonly options: RigOptions,
  ) {
    this.agorHome = `${fx.daemonHome}/agor-${options.tag}-${mode}`;
  }

  async start(): Promise<void> {
    this.h = await this.fx.startDaemon(this.agorHome, this.mode, this.options.stopGraceSeconds, OWNER, this.options.config);
    this.owner = await this.login(OWNER.email, OWNER.password, '', null);
    this.repoId = (await this.owner.call('POST', 'repos', { url: `file://${this.fx.sourceRepo}`, name: `proj-${this.options.tag}-${this.mode}` })).id;
  }

  async stop(): Promise<void> {
    await this.h?.stop();
  }

  async login(email: string, password: string, id: string, unix: string | null): Promise<P> {
    const { accessToken } = await call(this.h.url, undefined, 'POST', 'authentication', { strategy: 'local', email, password });
    return this.extend({ id, unix, token: accessToken, call: (method, route, body) => call(this.h.url, accessToken, method, route, body) });
  }

  /** What a subclass adds to a logged-in person. */
  protected extend(person: Person): P {
    return person as P;
  }

  /** A member, with a Unix account of their own (agor_<prefix>_<tag letter><name>) when `unix`. */
  async person(name: string, unix: boolean): Promise<P> {
    const email = `${name}@${this.options.tag}.unix.test`;
    const password = `${name}-password-1`;
    const unixName = unix ? this.fx.person(`${this.options.tag[0]}${name}`) : null;
    const user = await this.owner.call('POST', 'users', { email, password, role: 'member', ...(unixName && { unix_username: unixName }) });
    return this.login(email, password, user.id, unixName);
  }

  async worktree(by: Person, name: string, others_can = 'none'): Promise<Worktree> {
    const wt = await by.call('POST', 'worktrees', { repo_id: this.repoId, name, others_can, others_fs_access: 'none' });
    this.fx.groupsSeen.add(wt.unix_group);
    return wt;
  }

  /** A new `agent` session of `creator`, `prompt` sent by `prompter`, until the task ends. */
  async run(creator: Person, worktreeId: string, { agent, prompt, prompter = creator, ms = 30_000 }: { agent: string; prompt: string; prompter?: Person; ms?: number }): Promise<{ task: any; messages: any[] }> {
    const session = await creator.call('POST', 'sessions', { worktree_id: worktreeId, agent });
    const task = await prompter.call('POST', 'tasks', { session_id: session.id, prompt });
    const done = await until(
      async () => {
        const t = await creator.call('GET', `tasks/${task.id}`);
        return ['completed', 'failed', 'stopped'].includes(t.status) ? t : undefined;
      },
      `task ${task.id}`,
      ms,
    );
    const messages = (await creator.call('GET', `messages?task_id=${task.id}&$limit=200`)).data;
    return { task: done, messages };
  }

  /** The daemon's secrets, each of which an executing identity must fail to read. */
  get secrets(): string[] {
    return [`${this.agorHome}/agor.db`, `${this.agorHome}/jwt.key`];
  }
}
