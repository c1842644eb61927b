// Web terminals under unix isolation (issue 7; root only, like the rest of the unix suite): a real
// daemon running as the daemon user opens node-pty shells through sudo and agor-priv, driven by the
// official Feathers Socket.IO client. The shell is the mode's identity, cannot read the daemon's
// secrets or another person's home, and closing it leaves nothing of that identity running.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { feathers, type Application as ClientApp } from '@feathersjs/feathers';
import socketioClientModule from '@feathersjs/socketio-client';
import authClientModule from '@feathersjs/authentication-client';
import { io, type Socket } from 'socket.io-client';
import { isAlive, processTree, unixSuite, type UnixFixture } from './fixture.js';
import { Rig, type Person as RestPerson } from './rig.js';
import { groupsOf, hostCredentials, processesOf, processesWith } from '../helpers/proc.js';
import { outcome } from '../helpers/worktree-fixture.js';
import { terminalWireEvent } from '../../daemon/services/terminals/terminals.shared.js';

const socketioClient = socketioClientModule as unknown as typeof socketioClientModule.default;
const authClient = authClientModule as unknown as typeof authClientModule.default;

/** What a sandbox answers for what it does not show (or the OS refuses). */
const DENIED = /Permission denied|No such file or directory/;
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>]/g;
const clean = (s: string) => s.replace(ANSI, '').replace(/\r/g, '');

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface TerminalsService {
  create(data: unknown): Promise<{ id: string; runs_as: string }>;
  remove(id: string): Promise<{ id: string; code: number }>;
  input(data: unknown): Promise<unknown>;
}

interface Person extends RestPerson {
  /** A Feathers client over its own Socket.IO connection, authenticated as this person. */
  connect(): Promise<Client>;
}

class Client {
  constructor(
    readonly app: ClientApp,
    readonly socket: Socket,
  ) {}
  get terminals(): TerminalsService {
    const service = this.app.service('terminals') as unknown as TerminalsService & { methods(...names: string[]): unknown; input?: unknown };
    if (typeof service.input !== 'function') service.methods('input', 'resize');
    return service;
  }
  async open(worktreeId: string): Promise<Term> {
    const { id, runs_as } = await this.terminals.create({ worktree_id: worktreeId, cols: 120, rows: 40 });
    return new Term(this, id, runs_as);
  }
  close(): void {
    this.socket.close();
  }
}

/** An open terminal as its socket sees it: everything it printed, in order, and its exit. */
class Term {
  raw = '';
  exit: { code: number } | undefined;
  constructor(
    readonly client: Client,
    readonly id: string,
    readonly runsAs: string,
  ) {
    client.socket.on(terminalWireEvent('output'), (e: { id: string; data: string }) => {
      if (e.id === id) this.raw += e.data;
    });
    client.socket.on(terminalWireEvent('exit'), (e: { id: string; code: number }) => {
      if (e.id === id) this.exit = { code: e.code };
    });
  }
  get text(): string {
    return clean(this.raw);
  }
  /**
   * Types `lines` (one command each), then a marker, and returns what the commands printed (the
   * echo of what was typed included) up to the marker's output.
   */
  async run(lines: string[], ms = 15_000): Promise<string> {
    const from = this.text.length;
    const tag = `DONE-${Math.random().toString(36).slice(2, 10)}`;
    // The marker's output differs from its echo ("$((...))" is expanded only by the shell).
    for (const line of lines) await this.client.terminals.input({ id: this.id, data: `${line}\r` });
    await this.client.terminals.input({ id: this.id, data: `echo ${tag}-$((40+2))\r` });
    let out = '';
    await until(() => (out = this.text.slice(from)).includes(`${tag}-42\n`), `${tag} in the terminal (got ${JSON.stringify(this.text.slice(-400))})`, ms);
    return out.slice(0, out.indexOf(`${tag}-42\n`));
  }
  /** The value printed after `KEY=` by `printf 'KEY=%s\n' "$(cmd)"`. */
  async value(key: string, cmd: string): Promise<string> {
    const out = await this.run([`printf '${key}=%s\\n' "$(${cmd})"`]);
    const m = new RegExp(`\\n${key}=(.*)\\n`).exec(out);
    assert.ok(m, `${key} in ${JSON.stringify(out)}`);
    return m[1]!;
  }
  close(): Promise<{ id: string; code: number }> {
    return this.client.terminals.remove(this.id);
  }
}

class TermRig extends Rig<Person> {
  readonly clients: Client[] = [];
  constructor(fx: UnixFixture, mode: 'insulated' | 'strict') {
    super(fx, mode, { tag: 'term', stopGraceSeconds: 2 });
  }

  override async stop(): Promise<void> {
    for (const c of this.clients) c.close();
    await super.stop();
  }

  protected override extend(person: RestPerson): Person {
    return {
      ...person,
      connect: async () => {
        const socket = io(this.h.url, { transports: ['websocket'], forceNew: true, reconnection: false });
        const app = feathers().configure(socketioClient(socket as never, { timeout: 10_000 })).configure(authClient());
        const client = new Client(app, socket);
        this.clients.push(client);
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        });
        await app.authenticate({ strategy: 'jwt', accessToken: person.token });
        return client;
      },
    };
  }
}

/**
 * Closes `term` after starting a background job and a `nohup`ed one in it, and checks that the
 * shell, both jobs, sudo and agor-priv are gone: no process of `uid` is left.
 */
async function closeLeavesNothing(rig: TermRig, term: Term, uid: number): Promise<void> {
  // The shell's own pids are its sandbox's: the jobs are found by their command lines.
  const mark = `3${process.pid}${Math.floor(Math.random() * 1000)}`;
  const out = await term.run([`sleep ${mark}1 & echo BG=$!`, `nohup sleep ${mark}2 >/dev/null 2>&1 & echo NOHUP=$!`, `setsid -f sleep ${mark}3; echo SETSID`]);
  await until(() => [1, 2, 3].every((n) => processesWith(`sleep ${mark}${n}`).length === 1), `the three jobs (${out})`);
  const jobs = [1, 2, 3].map((n) => processesWith(`sleep ${mark}${n}`)[0]!);
  const mine = processesOf(uid);
  assert.ok(jobs.every((p) => mine.includes(p)), 'they run as the identity');
  const below = processTree(rig.h.pid).filter((p) => p !== rig.h.pid);
  assert.ok(jobs.every((p) => below.includes(p)), `the jobs run below the daemon (${below.join(',')})`);
  const closed = await term.close();
  assert.equal(closed.id, term.id);
  await until(() => processesOf(uid).length === 0, `no process of uid ${uid} (left: ${processesOf(uid).join(',')})`);
  await until(() => !below.some(isAlive), `sudo and agor-priv to be gone (left: ${below.filter(isAlive).join(',')})`);
  await until(() => term.exit !== undefined, 'the exit event');
}

unixSuite('web terminals under unix isolation (real sudo, agor-priv, node-pty)', (fx) => {
  describe('insulated', () => {
    const rig = new TermRig(fx, 'insulated');
    let alice: Person;
    let bob: Person;
    let W: { id: string; path: string; unix_group: string };
    let term: Term;
    before(async () => {
      await rig.start();
      alice = await rig.person('alice', false);
      bob = await rig.person('bob', false);
      W = await rig.worktree(alice, 'term-ins', 'session');
      term = await (await alice.connect()).open(W.id);
    });
    after(() => rig.stop());

    it("the shell is the executor user with the worktree's group, in the worktree", async () => {
      assert.equal(term.runsAs, `${fx.executorUser} (group ${W.unix_group})`);
      assert.equal(await term.value('USER', 'id -un'), fx.executorUser);
      assert.equal(await term.value('GROUP', 'id -gn'), W.unix_group);
      assert.equal(await term.value('GROUPS', 'id -Gn'), W.unix_group, 'no other group');
      assert.equal(await term.value('DIR', 'pwd'), W.path);
    });

    it("cannot read the daemon's database or JWT key; can read and write the worktree", async () => {
      const out = await term.run([...rig.secrets.map((f) => `cat ${f}`), 'cat README.md', 'echo from-term > term.txt && echo WROTE']);
      assert.equal(out.split('\n').filter((l) => DENIED.test(l)).length, 2, out);
      for (const f of rig.secrets) assert.match(out, new RegExp(`${f}: No such file or directory`), 'its sandbox does not show them');
      assert.match(out, /\nhello\n/);
      assert.match(out, /\nWROTE\n/);
      assert.equal(fs.statSync(path.join(W.path, 'term.txt')).uid, fx.uid(fx.executorUser));
    });

    it('a member without tier all on the worktree is Forbidden', async () => {
      const client = await bob.connect();
      assert.equal(await outcome(client.terminals.create({ worktree_id: W.id, cols: 80, rows: 24 })), 'Forbidden');
    });

    it('closing the terminal leaves no process of the executor user', async () => {
      await closeLeavesNothing(rig, term, fx.uid(fx.executorUser));
    });
  });

  describe('strict', () => {
    const rig = new TermRig(fx, 'strict');
    let alice: Person;
    let bob: Person;
    let S: { id: string; path: string; unix_group: string };
    let term: Term;
    before(async () => {
      await rig.start();
      alice = await rig.person('alice', true);
      bob = await rig.person('bob', true);
      S = await rig.worktree(alice, 'term-strict', 'session');
      term = await (await alice.connect()).open(S.id);
    });
    after(() => rig.stop());

    it("the shell is the caller's own account", async () => {
      assert.equal(term.runsAs, alice.unix);
      assert.equal(await term.value('USER', 'id -un'), alice.unix);
      assert.equal(await term.value('GROUP', 'id -gn'), alice.unix, 'its own primary group');
      // Inside, the worktree group is unmapped (nogroup); the host sees the real ids of its job.
      const mark = `7${process.pid}${Math.floor(Math.random() * 1000)}`;
      await term.run([`sleep ${mark} &`]);
      await until(() => processesWith(`sleep ${mark}`).length === 1, 'the probe job');
      const job = processesWith(`sleep ${mark}`)[0]!;
      assert.equal(hostCredentials(job).gid, fx.gid(alice.unix!), 'its own primary group');
      assert.deepEqual(hostCredentials(job).groups, [fx.gid(S.unix_group)], 'and the worktree group as its only supplementary group');
      await term.run([`kill %1 2>/dev/null; pkill -f 'sleep ${mark}'; true`]);
      assert.equal(await term.value('HOME', 'echo ~'), `/home/${alice.unix}`);
    });

    it("cannot read the daemon's secrets or bob's home; can read its own home and write the worktree", async () => {
      const bobHome = `/home/${bob.unix}`;
      const out = await term.run([
        ...rig.secrets.map((f) => `cat ${f}`),
        `ls ${bobHome}`,
        `cat ${bobHome}/.profile`,
        'touch ~/.mine && ls -a ~ | grep -c mine',
        'echo from-alice > alice.txt && echo WROTE',
      ]);
      const denied = out.split('\n').filter((l) => DENIED.test(l));
      assert.equal(denied.length, 4, out);
      assert.ok(denied.some((l) => l.includes(`${bobHome}`)) && denied.some((l) => l.includes(`${bobHome}/.profile`)), out);
      assert.match(out, /\n1\n/, 'its own home is readable');
      assert.match(out, /\nWROTE\n/);
      assert.equal(fs.statSync(path.join(S.path, 'alice.txt')).uid, fx.uid(alice.unix!));
      // The file is really there for bob to be denied: root sees it.
      assert.ok(fs.existsSync(`${bobHome}/.profile`));
    });

    it('bob, at tier session on the worktree, is Forbidden', async () => {
      const client = await bob.connect();
      assert.equal(await outcome(client.terminals.create({ worktree_id: S.id, cols: 80, rows: 24 })), 'Forbidden');
      assert.deepEqual(processesOf(fx.uid(bob.unix!)), [], 'nothing runs as bob');
    });

    it("closing the terminal leaves no process of alice's account", async () => {
      await closeLeavesNothing(rig, term, fx.uid(alice.unix!));
    });

    it("bob sets others_can none: alice's terminal in his worktree is closed, and no process of hers keeps its group", async () => {
      const B = await rig.worktree(bob, 'term-bob', 'all');
      const gid = fx.gid(B.unix_group);
      const uid = fx.uid(alice.unix!);
      const t = await (await alice.connect()).open(B.id);
      await t.run(['nohup sleep 304 >/dev/null 2>&1 &']);
      const holding = () =>
        processesOf(uid).filter((pid) => groupsOf(pid).includes(gid));
      assert.ok(holding().length > 0, 'while allowed, her shell holds the worktree group');
      await bob.call('PATCH', `worktrees/${B.id}`, { others_can: 'none' });
      await until(() => t.exit !== undefined, 'her terminal to close');
      await until(() => holding().length === 0, "alice's processes holding the group to end");
    });

    it("a closed socket, then daemon shutdown, leave no process of alice's account", async () => {
      const uid = fx.uid(alice.unix!);
      const client = await alice.connect();
      const t = await client.open(S.id);
      await t.run(['nohup sleep 303 >/dev/null 2>&1 &']);
      await until(() => processesWith('sleep 303').some((p) => processesOf(uid).includes(p)), 'the nohup job of alice');
      client.close();
      await until(() => processesOf(uid).length === 0, `no process of uid ${uid} after the socket closed (left: ${processesOf(uid).join(',')})`);
      const open = await (await alice.connect()).open(S.id);
      await open.run(['nohup sleep 304 >/dev/null 2>&1 &']);
      assert.ok(processesOf(uid).length >= 2, 'the shell and its job run');
      await rig.stop();
      await until(() => processesOf(uid).length === 0, `no process of uid ${uid} after daemon shutdown (left: ${processesOf(uid).join(',')})`);
    });
  });
});
