// Web terminals (issue 7): real node-pty shells in a real daemon, driven over the official
// socket.io-client + Feathers client. Output reaches only the socket that opened the terminal.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { startTestDaemon, waitFor, type SocketClient, type TestDaemon } from '../helpers/daemon.js';
import { cleanupTempDirs, createWorktree, outcome, ownerActor, quickActor, registerRepo, type Actor } from '../helpers/worktree-fixture.js';
import type { PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';
import { terminalsOf } from '../../daemon/terminal/manager.js';
import { alive, processesWith } from '../helpers/proc.js';
import { terminalWireEvent } from '../../daemon/services/terminals/terminals.shared.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>]/g;
const clean = (s: string) => s.replace(ANSI, '').replace(/\r/g, '');

interface TerminalsClient {
  create(data: unknown): Promise<{ id: string; runs_as: string }>;
  remove(id: string): Promise<{ id: string; code: number }>;
  input(data: unknown): Promise<unknown>;
  resize(data: unknown): Promise<unknown>;
}

function terminals(sock: SocketClient): TerminalsClient {
  const service = sock.app.service('terminals') as unknown as TerminalsClient & { methods(...names: string[]): unknown; input?: unknown };
  if (typeof service.input !== 'function') service.methods('input', 'resize');
  return service;
}

/** An open terminal seen from its socket: everything it printed, in order, and its exit. */
class Term {
  raw = '';
  exit: { code: number } | undefined;
  constructor(
    readonly sock: SocketClient,
    readonly id: string,
  ) {
    sock.socket.on(terminalWireEvent('output'), (e: { id: string; data: string }) => {
      if (e.id === id) this.raw += e.data;
    });
    sock.socket.on(terminalWireEvent('exit'), (e: { id: string; code: number }) => {
      if (e.id === id) this.exit = { code: e.code };
    });
  }
  get text(): string {
    return clean(this.raw);
  }
  type(data: string): Promise<unknown> {
    return terminals(this.sock).input({ id: this.id, data });
  }
  async waitText(pattern: RegExp, from = 0, ms = 10000): Promise<RegExpMatchArray> {
    let match: RegExpMatchArray | null = null;
    await waitFor(() => (match = this.text.slice(from).match(pattern)) !== null, ms, `${pattern} in the terminal output (got ${JSON.stringify(this.text.slice(-300))})`);
    return match!;
  }
  /**
   * The pid of the terminal's process as the daemon sees it (bwrap, the sandbox's outside: the shell's
   * own $$ is a number in the sandbox's PID namespace), once the shell answers.
   */
  async pid(): Promise<number> {
    const from = this.text.length;
    await this.type('echo PID-$$\r');
    await this.waitText(/PID-(\d+)/, from);
    return terminalsOf(pidsOf!.app).all().find((t) => t.id === this.id)!.pid;
  }
}

/** The daemon whose terminals Term.pid() looks up. */
let pidsOf: TestDaemon | undefined;

async function open(sock: SocketClient, worktreeId: string, cols = 80, rows = 24): Promise<Term> {
  const { id } = await terminals(sock).create({ worktree_id: worktreeId, cols, rows });
  return new Term(sock, id);
}

describe('terminals', () => {
  let d: TestDaemon;
  let alice: Actor;
  let bob: Actor;
  let eve: Actor;
  let viewer: Actor;
  let wtAll: PublicWorktree;
  let wtSession: PublicWorktree;
  let repoId: string;

  before(async () => {
    d = await startTestDaemon({ execution: { worktree_rbac: true } });
    pidsOf = d;
    const owner = await ownerActor(d);
    [alice, bob, eve, viewer] = await Promise.all([quickActor(d, 'member', 'alice'), quickActor(d, 'member', 'bob'), quickActor(d, 'member', 'eve'), quickActor(d, 'viewer')]);
    const repo = await registerRepo(owner);
    wtAll = await createWorktree(alice, repo.id, { others_can: 'all' });
    wtSession = await createWorktree(alice, repo.id, { others_can: 'session' });
    repoId = repo.id;
  });
  after(async () => {
    await d.stop();
    cleanupTempDirs();
  });

  it('runs the login shell in the worktree: the echo and 100000 bytes of output arrive intact and in order', async () => {
    const t = await open(alice.socket, wtAll.id);
    const line = "id -un; pwd; printf 'x%.0s' {1..100000}";
    await t.type(`${line}\r`);
    await t.type('echo END-$((6*7))\r');
    await t.waitText(/END-42\n/);
    const text = t.text;
    const echo = text.indexOf(line);
    assert.ok(echo >= 0, `the typed line is echoed: ${JSON.stringify(text.slice(0, 400))}`);
    const after = text.slice(echo + line.length);
    const user = after.indexOf(`\n${os.userInfo().username}\n`);
    const paths = [wtAll.path, fs.realpathSync(wtAll.path)].map((p) => after.indexOf(`\n${p}\n`)).filter((i) => i >= 0);
    assert.ok(user >= 0, 'id -un prints the daemon user (simple mode)');
    assert.ok(paths.length > 0 && paths[0]! > user, 'then pwd prints the worktree directory');
    const runs = after.match(/x+/g)!.map((r) => r.length);
    assert.equal(Math.max(...runs), 100000, 'exactly 100000 x, unbroken');
    const xs = after.indexOf('x'.repeat(100000));
    assert.ok(xs > paths[0]!, 'the x come after pwd');
    assert.ok(after.indexOf('END-42') > xs + 100000, 'and everything after them comes last');
    await terminals(alice.socket).remove(t.id);
  });

  it('the environment is clean: TERM=xterm-256color and nothing of the daemon', async () => {
    process.env.AGOR_TERMINAL_TEST_CANARY = 'must-not-leak';
    const t = await open(alice.socket, wtAll.id);
    try {
      const from = t.text.length;
      await t.type('echo "T=$TERM C=${AGOR_TERMINAL_TEST_CANARY:-none} M=${AGOR_MASTER_SECRET:-none}"\r');
      const m = await t.waitText(/T=([^\s$]+) C=([^\s$]+) M=([^\s$"]+)/, from);
      assert.deepEqual([m[1], m[2], m[3]], ['xterm-256color', 'none', 'none']);
    } finally {
      delete process.env.AGOR_TERMINAL_TEST_CANARY;
      await terminals(alice.socket).remove(t.id);
    }
  });

  it("simple mode: a member with tier all cannot read the daemon's key, database or config, nor another worktree", async () => {
    const { paths, databaseFile } = d.runtime;
    assert.ok(fs.existsSync(paths.jwtKey) && fs.existsSync(databaseFile), 'the files exist on the host');
    const t = await open(bob.socket, wtAll.id);
    try {
      const from = t.text.length;
      const probe = [paths.jwtKey, databaseFile, paths.configPath, wtSession.path].map((p) => `test -e '${p}' && echo VIS""IBLE:${p}`).join('; ');
      // The quotes keep the typed (echoed) line from matching what the shell prints.
      await t.type(`${probe}; head -c 64 '${paths.jwtKey}' 2>&1 | head -1; echo "PROB""ED"\r`);
      await t.waitText(/\nPROBED/, from);
      const text = t.text.slice(from);
      assert.doesNotMatch(text, /VISIBLE:/, text);
      assert.match(text, /No such file or directory/);
      assert.ok(!text.includes(fs.readFileSync(paths.jwtKey, 'utf8').slice(0, 16)), 'no byte of the key');
    } finally {
      await terminals(bob.socket).remove(t.id);
    }
  });

  it('resize takes effect (stty size)', async () => {
    const t = await open(alice.socket, wtAll.id, 80, 24);
    let from = t.text.length;
    await t.type('stty size\r');
    await t.waitText(/\n24 80\n/, from);
    await terminals(alice.socket).resize({ id: t.id, cols: 132, rows: 40 });
    from = t.text.length;
    await t.type('stty size\r');
    await t.waitText(/\n40 132\n/, from);
    await terminals(alice.socket).remove(t.id);
  });

  it('close kills the shell and everything it started; the exit is reported and audited', async () => {
    const t = await open(alice.socket, wtAll.id);
    const pid = await t.pid();
    const from = t.text.length;
    const marker = `30${process.pid}7`;
    await t.type(`sleep ${marker} & setsid -f sleep ${marker}1; echo BG-$!\r`);
    await t.waitText(/BG-(\d+)/, from);
    assert.ok(alive(pid));
    await waitFor(() => processesWith(`sleep ${marker}`).length === 2, 3000, 'both background jobs to run');
    await terminals(alice.socket).remove(t.id);
    await waitFor(() => !alive(pid) && processesWith(`sleep ${marker}`).length === 0, 3000, 'the shell and its background jobs (setsid -f included) to be gone');
    await waitFor(() => t.exit !== undefined, 2000, 'the exit event');
    assert.equal(await outcome(t.type('echo again\r')), 'NotFound', 'a closed terminal no longer exists');
    const rows = (await d.app.get('db')('audit_events').whereIn('action', ['terminal.opened', 'terminal.closed']).where('target_id', t.id).select('action', 'actor', 'details')) as {
      action: string;
      actor: string;
      details: string;
    }[];
    assert.deepEqual(rows.map((r) => r.action).sort(), ['terminal.closed', 'terminal.opened']);
    for (const r of rows) {
      assert.equal(r.actor, alice.id);
      assert.match(r.details, /"runs_as":"daemon user/);
    }
  });

  it("another user's socket on the same worktree never receives a byte, and cannot address the terminal", async () => {
    const bobEventsBefore = bob.socket.events.length;
    const t = await open(alice.socket, wtAll.id);
    await t.type('echo SECRET-$((1000+337))\r');
    await t.waitText(/SECRET-1337/);
    const otherTab = await d.socket(alice.token);
    try {
      for (const sock of [bob.socket, otherTab]) {
        assert.equal(await outcome(terminals(sock).input({ id: t.id, data: 'echo HIJACK\r' })), 'NotFound');
        assert.equal(await outcome(terminals(sock).resize({ id: t.id, cols: 10, rows: 10 })), 'NotFound');
        assert.equal(await outcome(terminals(sock).remove(t.id)), 'NotFound');
      }
      // Bob may open his own terminal in this worktree (tier all); its output is his alone.
      const mine = await open(bob.socket, wtAll.id);
      await mine.type('echo BOB-$((2*21))\r');
      await mine.waitText(/BOB-42/);
      await terminals(bob.socket).remove(mine.id);
      // Barriers: the shell reads its input in order, so once a later command's output is back, an
      // earlier HIJACK would have echoed; and the sockets have everything published before the marker.
      await t.type('echo BARRIER-$((40+2))\r');
      await t.waitText(/BARRIER-42/);
      await d.barrier([bob.socket, otherTab]);
      assert.ok(!t.text.includes('HIJACK'), 'nothing another socket sent reached the shell');
      assert.ok(!t.text.includes('BOB-42'));
      const leaked = bob.socket.events.slice(bobEventsBefore).filter((e) => JSON.stringify(e.args).includes(t.id) || JSON.stringify(e.args).includes('SECRET-1337'));
      assert.deepEqual(leaked, [], "bob's socket received nothing of alice's terminal");
      assert.deepEqual(
        otherTab.events.filter((e) => e.event.startsWith('terminals')),
        [],
        "alice's other tab received nothing either",
      );
    } finally {
      otherTab.close();
      await terminals(alice.socket).remove(t.id);
    }
  });

  it('a viewer, a session-tier member and REST calls are refused', async () => {
    assert.equal(await outcome(terminals(viewer.socket).create({ worktree_id: wtAll.id, cols: 80, rows: 24 })), 'Forbidden');
    assert.equal(await outcome(terminals(eve.socket).create({ worktree_id: wtSession.id, cols: 80, rows: 24 })), 'Forbidden');
    assert.equal(await outcome(terminals(eve.socket).create({ worktree_id: wtAll.id, cols: 80, rows: 24 }).then((t) => terminals(eve.socket).remove(t.id))), 'ok');
    assert.equal(await outcome(alice.rest.service('terminals').create({ worktree_id: wtAll.id, cols: 80, rows: 24 })), 'MethodNotAllowed');
    assert.equal(await outcome(terminals(alice.socket).create({ worktree_id: wtAll.id, cols: 80, rows: 24, env: { X: '1' } })), 'BadRequest');
  });

  it("lowering the worktree's tier closes the terminals it no longer allows", async () => {
    const wt = await createWorktree(alice, repoId, { others_can: 'all' });
    const own = await open(alice.socket, wt.id);
    const bobs = await open(bob.socket, wt.id);
    const pid = await bobs.pid();
    await alice.rest.service('worktrees').patch(wt.id, { others_can: 'session' });
    await waitFor(() => bobs.exit !== undefined && !alive(pid), 3000, "bob's terminal to close");
    assert.equal(own.exit, undefined, "the owner's terminal stays open");
    await terminals(alice.socket).remove(own.id);
  });

  it('flow control: a client that stops reading pauses the shell; nothing piles up in the daemon, nothing is lost', async () => {
    const sock = await d.socket(alice.token);
    const t = await open(sock, wtAll.id);
    await t.pid();
    const terminal = terminalsOf(d.app).all().find((x) => x.id === t.id)!;
    const conn = (terminal.socket as unknown as { conn: { writeBuffer: unknown[] } }).conn;
    // The client's TCP socket stops reading (a slow link): the kernel buffers fill, then the daemon's.
    const tcp = (sock.socket.io.engine.transport as unknown as { ws: { _socket: { pause(): void; resume(): void } } }).ws._socket;
    const BYTES = 12_000_000;
    let ys = 0;
    let tail = '';
    let done = false;
    sock.socket.on(terminalWireEvent('output'), (e: { id: string; data: string }) => {
      if (e.id !== t.id || done) return;
      for (let i = e.data.indexOf('\x01'); i >= 0; i = e.data.indexOf('\x01', i + 1)) ys += 1;
      // The marker may straddle two events, or share one with the long prompt after it.
      const seen = tail + e.data;
      tail = seen.slice(-64);
      done = seen.includes('END-42');
    });
    try {
      // \001 bytes: a character neither the typed line's echo nor the prompt contains. The call's
      // acknowledgement is read before the client stops reading.
      await t.type(`head -c ${BYTES} /dev/zero | tr '\\0' '\\1'; echo; echo END-$((6*7))\r`);
      tcp.pause();
      let most = 0;
      const deadline = Date.now() + 1500;
      while (Date.now() < deadline) {
        most = Math.max(most, conn.writeBuffer.length);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(most <= 20, `at most a few batches wait in the daemon (saw ${most})`);
      assert.ok(terminal.paused, 'the PTY is paused while the client does not read');
    } finally {
      tcp.resume();
    }
    await waitFor(() => done, 30_000, 'the end marker after the flood');
    assert.equal(ys, BYTES, 'every byte arrived once the client read again');
    assert.equal(terminal.paused, false);
    sock.close();
  });

  it('closing the socket kills the shell', async () => {
    const sock = await d.socket(alice.token);
    const t = await open(sock, wtAll.id);
    const pid = await t.pid();
    sock.close();
    await waitFor(() => !alive(pid), 3000, 'the shell to be gone after the socket closed');
  });

  it('daemon shutdown with open terminals: every shell is gone', async () => {
    const a = await open(alice.socket, wtAll.id);
    const b = await open(bob.socket, wtAll.id);
    const pids = [await a.pid(), await b.pid()];
    assert.ok(pids.every(alive));
    await d.close();
    assert.deepEqual(pids.filter(alive), [], 'no shell survives the daemon');
  });
});

describe('terminals: limits and idle timeout', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ execution: { max_terminals_per_user: 2, max_terminals: 3, terminal_idle_seconds: 1 } });
  });
  after(async () => {
    await d.stop();
    cleanupTempDirs();
  });

  it('per-user and per-daemon limits; an idle terminal closes itself', async () => {
    const owner = await ownerActor(d);
    const [u1, u2] = await Promise.all([quickActor(d, 'member'), quickActor(d, 'member')]);
    const repo = await registerRepo(owner);
    const wt = await createWorktree(u1, repo.id, { others_can: 'all' });
    const opened = [await open(u1.socket, wt.id), await open(u1.socket, wt.id)];
    assert.equal(await outcome(open(u1.socket, wt.id)), 'TooManyRequests', 'a third for one user');
    opened.push(await open(u2.socket, wt.id));
    assert.equal(await outcome(open(u2.socket, wt.id)), 'TooManyRequests', 'a fourth on the daemon');
    await waitFor(() => opened.every((t) => t.exit !== undefined), 4000, 'idle terminals to close');
    assert.equal(await outcome(open(u2.socket, wt.id).then((t) => terminals(u2.socket).remove(t.id))), 'ok', 'room again once they closed');
  });
});

describe('terminals: disabled', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ execution: { allow_web_terminal: false } });
  });
  after(async () => {
    await d.stop();
    cleanupTempDirs();
  });

  it('every call is Forbidden, for everyone, on both transports', async () => {
    const owner = await ownerActor(d);
    const repo = await registerRepo(owner);
    const wt = await createWorktree(owner, repo.id);
    const svc = terminals(owner.socket);
    assert.equal(await outcome(svc.create({ worktree_id: wt.id, cols: 80, rows: 24 })), 'Forbidden');
    assert.equal(await outcome(svc.input({ id: 'x', data: 'id\r' })), 'Forbidden');
    assert.equal(await outcome(svc.resize({ id: 'x', cols: 80, rows: 24 })), 'Forbidden');
    assert.equal(await outcome(svc.remove('x')), 'Forbidden');
    assert.equal(await outcome(owner.rest.service('terminals').create({ worktree_id: wt.id, cols: 80, rows: 24 })), 'Forbidden');
  });
});
