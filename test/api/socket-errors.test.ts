// Every answer to a bad call is a Feathers error with a sentence, on both transports (issue 14):
// ids of the wrong type or shape are refused before any service runs, nothing internal (a stack, a
// file path, SQL text) reaches the caller, and a method no service offers is answered, not ignored.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import feathersModule from '@feathersjs/feathers';
import { startTestDaemon, type SocketClient, type TestDaemon } from '../helpers/daemon.js';
import { cleanupTempDirs, ownerActor, type Actor } from '../helpers/worktree-fixture.js';

const { getServiceOptions } = feathersModule;

let d: TestDaemon;
let root: Actor;
const errorLines: string[] = [];
const consoleError = console.error;

before(async () => {
  d = await startTestDaemon();
  root = await ownerActor(d);
  console.error = (...args: unknown[]) => void errorLines.push(args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(' '));
});
after(async () => {
  console.error = consoleError;
  await d.stop();
  cleanupTempDirs();
});

type Answer = { error: Record<string, unknown> | null; result: unknown };

function emit(sock: SocketClient, ...args: unknown[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(args).slice(0, 120)}`)), 5000);
    sock.socket.emit(...(args as [string]), (error: Record<string, unknown> | null, result: unknown) => {
      clearTimeout(timer);
      resolve({ error, result });
    });
  });
}

const FEATHERS_ERRORS = new Set(['BadRequest', 'NotAuthenticated', 'Forbidden', 'NotFound', 'MethodNotAllowed', 'Conflict', 'Unprocessable', 'GeneralError', 'TooManyRequests']);
/** What must never reach a client: stack frames, source paths, SQL. */
const INTERNALS = /\n\s+at |\.[jt]s:\d+|node_modules|\/work\/|\/tmp\/|sqlite|FOREIGN KEY|\b(select|insert|update|delete) .*\b(from|into|set|where)\b/i;

/** Why `error` is not a clean Feathers error answer, or null. */
function whyUnclean(error: Record<string, unknown> | null): string | null {
  if (!error) return 'no error (the call succeeded)';
  if (!FEATHERS_ERRORS.has(String(error.name))) return `not a Feathers error: ${String(error.name)}`;
  if ('stack' in error) return 'carries a stack';
  if (typeof error.message !== 'string' || error.message.length < 10) return `no sentence: ${JSON.stringify(error.message)}`;
  if (INTERNALS.test(JSON.stringify(error))) return `internal details: ${JSON.stringify(error).slice(0, 200)}`;
  return null;
}

/** Every registered service path, with its :params filled in. */
function services(): { path: string; methods: string[] }[] {
  return Object.entries(d.app.services).map(([path, service]) => ({
    path: path.replace(/:[a-z_]+/g, '00000000-0000-4000-8000-000000000000'),
    methods: [...getServiceOptions(service).methods!],
  }));
}

const BAD_IDS: [string, unknown][] = [
  ['an object with toString', { toString: 'x' }],
  ['an object with valueOf', { valueOf: 1 }],
  ['an array', ['a', 'b']],
  ['a boolean', true],
  ['an empty string', ''],
  ['a long string', 'x'.repeat(5000)],
  ['control characters', 'a\u0000b'],
];

describe('errors on sockets', () => {
  it('a bad id on any service and method is a clean BadRequest, as a signed-in owner and anonymously', async () => {
    const anonymous = await d.socket();
    const problems: string[] = [];
    let cases = 0;
    for (const { path, methods } of services()) {
      for (const method of methods.filter((m) => ['get', 'update', 'patch', 'remove'].includes(m))) {
        for (const [what, id] of BAD_IDS) {
          const args = method === 'get' || method === 'remove' ? [id, {}] : [id, { name: 'x' }, {}];
          for (const [who, sock] of [['owner', root.socket], ['anonymous', anonymous]] as const) {
            cases += 1;
            const { error } = await emit(sock, method, path, ...args);
            const why = whyUnclean(error) ?? (error!.name === 'BadRequest' ? null : `${String(error!.name)}, expected BadRequest`);
            if (why) problems.push(`${who} ${method} ${path} with ${what}: ${why}`);
          }
        }
      }
    }
    console.log(`socket errors: ${cases} calls with bad ids`);
    assert.deepEqual(problems, []);
    assert.ok(cases > 100);
    anonymous.close();
  });

  it('bad data and queries of every shape on every method answer with a clean error, never a stack or SQL', async () => {
    const nasty: unknown[] = [{ toString: 'x' }, { $limit: { toString: 'x' } }, { $sort: { id: { $gt: 1 } } }, [1, 2], 'text', 42, null, { __proto__: { admin: true }, constructor: 'x' }];
    const problems: string[] = [];
    // Not `authentication`: its remove would sign this socket out, as it should.
    for (const { path, methods } of services().filter((s) => s.path !== 'authentication')) {
      for (const method of methods) {
        for (const value of nasty) {
          const args = method === 'find' ? [value] : method === 'create' ? [value, {}] : method === 'get' || method === 'remove' ? ['x', value] : ['x', value, {}];
          const { error } = await emit(root.socket, method, path, ...args);
          // Some of these are valid calls (a find with an ignored query); an answer that is an error must be clean.
          if (error && whyUnclean(error)) problems.push(`${method} ${path} ${JSON.stringify(value)}: ${whyUnclean(error)}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('over REST a too long id is a BadRequest too; encoded control characters find nothing; both answer cleanly', async () => {
    for (const [id, status] of [['x'.repeat(300), 400], ['a%00b', 404], ['a%0Ab', 404]] as const) {
      const res = await fetch(`${d.url}/users/${id}`, { headers: { authorization: `Bearer ${root.token}` } });
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(res.status, status, id.slice(0, 20));
      assert.equal(whyUnclean(body), null);
    }
  });

  it('unexpected errors are logged in the daemon log and answered as a GeneralError without details', async () => {
    // A service that fails inside: its error must reach the log, and the caller only a sentence.
    const before = errorLines.length;
    let failing = true;
    d.app.service('info').hooks({
      before: {
        find: [
          () => {
            if (failing) throw new TypeError("Cannot read properties of undefined (reading 'x') at /work/secret/path.js:1:2");
          },
        ],
      },
    });
    try {
      const { error } = await emit(root.socket, 'find', 'info', {});
      assert.equal(error?.name, 'GeneralError');
      assert.equal(whyUnclean(error), null);
      assert.ok(errorLines.slice(before).some((l) => l.includes('/work/secret/path.js')), 'the details are in the log');
    } finally {
      failing = false;
    }
  });
});

describe('unknown socket methods and paths', () => {
  it('are answered: MethodNotAllowed for a method no service offers or this one lacks, NotFound for a path', async () => {
    const anonymous = await d.socket();
    for (const sock of [root.socket, anonymous]) {
      assert.equal((await emit(sock, 'frobnicate', 'users', {}, {})).error?.name, 'MethodNotAllowed');
      assert.equal((await emit(sock, 'setup', 'users', {})).error?.name, 'MethodNotAllowed');
      assert.equal((await emit(sock, 'create', 'info', {}, {})).error?.name, 'MethodNotAllowed');
      assert.equal((await emit(sock, 'find', 'no-such-service', {})).error?.name, 'NotFound');
      for (const answer of [await emit(sock, 'frobnicate', 'users', {}, {}), await emit(sock, 'find', 'no-such-service', {})]) assert.equal(whyUnclean(answer.error), null);
    }
    anonymous.close();
  });
});
