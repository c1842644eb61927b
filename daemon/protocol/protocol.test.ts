import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { PassThrough } from 'node:stream';
import { LineReader } from './line-reader.js';
import { RpcHandlerError, RpcPeer, jsonDepth } from './peer.js';
import { DAEMON_TO_EXECUTOR, EXECUTOR_TO_DAEMON, MAX_JSON_DEPTH } from './methods.js';
import { RpcErrorCode } from './jsonrpc.js';

function collect(opts: { maxBytes: number; overflow?: 'drop' | 'split' }) {
  const lines: string[] = [];
  const oversized: number[] = [];
  const reader = new LineReader({ ...opts, onLine: (l) => lines.push(l), onOversized: (n) => oversized.push(n) });
  return { reader, lines, oversized };
}

describe('LineReader', () => {
  it('splits lines across chunk boundaries, strips \\r, keeps a last unterminated line', () => {
    const { reader, lines } = collect({ maxBytes: 100 });
    for (const chunk of ['ab', 'c\nde', 'f\r\n\n', 'g']) reader.push(chunk);
    reader.end();
    assert.deepEqual(lines, ['abc', 'def', '', 'g']);
  });

  it('drops an oversized line (in any chunking) and goes on with the next', () => {
    const { reader, lines, oversized } = collect({ maxBytes: 10 });
    reader.push('0123456789AB');
    reader.push('CDEF');
    reader.push('\nok\n');
    reader.push('x'.repeat(5));
    reader.push('y'.repeat(6) + '\nfine\n');
    assert.deepEqual(lines, ['ok', 'fine']);
    assert.deepEqual(oversized, [16, 11]);
  });

  it('split mode cuts long lines without breaking UTF-8 characters', () => {
    const { reader, lines } = collect({ maxBytes: 8, overflow: 'split' });
    const text = 'é'.repeat(10) + '€€' + 'abc';
    // byte by byte: the worst chunking
    for (const byte of Buffer.from(text + '\n')) reader.push(Buffer.from([byte]));
    assert.equal(lines.join(''), text);
    for (const l of lines) assert.ok(Buffer.byteLength(l) <= 8, `piece ${JSON.stringify(l)} fits`);
    assert.ok(!lines.join('').includes('\ufffd'), 'no replacement characters');
  });

  it('memory stays bounded by maxBytes for a newline-free flood', () => {
    const { reader, lines, oversized } = collect({ maxBytes: 1024 });
    const mb = Buffer.alloc(1024 * 1024, 0x61);
    for (let i = 0; i < 20; i++) reader.push(mb);
    reader.push('\n');
    assert.deepEqual(lines, []);
    assert.deepEqual(oversized, [20 * 1024 * 1024]);
  });
});

describe('jsonDepth', () => {
  it('measures without recursion, even absurdly deep values', () => {
    assert.equal(jsonDepth(1), 0);
    assert.equal(jsonDepth({ a: [1, { b: 2 }] }), 3);
    const deep = JSON.parse('['.repeat(200_000) + ']'.repeat(200_000));
    assert.ok(jsonDepth(deep) > MAX_JSON_DEPTH);
  });
});

/** A daemon-side peer and a raw "executor" end: what the test writes is what the peer reads. */
function daemonPeer() {
  const toDaemon = new PassThrough();
  const written: string[] = [];
  const logs: string[] = [];
  const peer = new RpcPeer({
    name: 'test',
    input: toDaemon,
    write: (line) => {
      written.push(line);
      return true;
    },
    incoming: EXECUTOR_TO_DAEMON,
    outgoing: DAEMON_TO_EXECUTOR,
    log: (l) => logs.push(l),
    maxLineBytes: 4096,
    maxLoggedErrors: 1000,
  });
  const responses = () => written.map((l) => JSON.parse(l) as { id?: unknown; error?: { code: number; message: string }; result?: unknown; method?: string });
  const send = async (line: string | Buffer) => {
    toDaemon.write(line);
    await new Promise((r) => setImmediate(r));
  };
  return { peer, toDaemon, written, logs, responses, send };
}

describe('RpcPeer', () => {
  it('answers malformed, oversized and wrong-typed lines with JSON-RPC errors and keeps working', async () => {
    const t = daemonPeer();
    const notes: unknown[] = [];
    t.peer.onNotification('message', (p) => notes.push(p));
    t.peer.onRequest('get_credentials', ({ names }) => ({ credentials: Object.fromEntries(names.map((n) => [n, 'v'])) }));
    const cases: [string, number | null, number | undefined][] = [
      ['{not json', null, RpcErrorCode.ParseError],
      ['[1,2,3]', null, RpcErrorCode.InvalidRequest],
      ['"a string"', null, RpcErrorCode.InvalidRequest],
      ['{"jsonrpc":"1.0","id":1,"method":"get_credentials","params":{"names":[]}}', 1, RpcErrorCode.InvalidRequest],
      ['{"jsonrpc":"2.0","id":2,"method":"rm_rf","params":{}}', 2, RpcErrorCode.MethodNotFound],
      ['{"jsonrpc":"2.0","id":3,"method":"get_credentials","params":{"names":"ANTHROPIC_API_KEY"}}', 3, RpcErrorCode.InvalidParams],
      ['{"jsonrpc":"2.0","id":4,"method":"get_credentials","params":{"names":["lower case"]}}', 4, RpcErrorCode.InvalidParams],
      ['{"jsonrpc":"2.0","id":5,"method":"get_credentials","params":{"names":[],"extra":1}}', 5, RpcErrorCode.InvalidParams],
      ['{"jsonrpc":"2.0","id":{"x":1},"method":"get_credentials"}', null, RpcErrorCode.InvalidRequest],
      [`{"jsonrpc":"2.0","id":6,"method":"get_credentials","params":{"names":[]},"pad":"${'x'.repeat(5000)}"}`, null, RpcErrorCode.InvalidRequest],
      [`{"jsonrpc":"2.0","id":7,"method":"get_credentials","params":${'['.repeat(100)}${']'.repeat(100)}}`, null, RpcErrorCode.InvalidRequest],
      // notifications are never answered, even when wrong
      ['{"jsonrpc":"2.0","method":"message","params":{"task_id":"t","message":{"type":"shout","content":{}}}}', null, undefined],
      ['{"jsonrpc":"2.0","method":"nope"}', null, undefined],
      // a stray response is never answered (no ping-pong of errors)
      ['{"jsonrpc":"2.0","id":99,"result":{}}', null, undefined],
      ['{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"x"}}', null, undefined],
    ];
    for (const [line, id, code] of cases) {
      const before = t.written.length;
      await t.send(line + '\n');
      const answered = t.responses().slice(before);
      if (code === undefined) {
        assert.equal(answered.length, 0, `no answer to ${line.slice(0, 60)}`);
        continue;
      }
      assert.equal(answered.length, 1, `one answer to ${line.slice(0, 60)}`);
      assert.equal(answered[0]!.id, id, line.slice(0, 60));
      assert.equal(answered[0]!.error?.code, code, `${line.slice(0, 60)}: ${answered[0]!.error?.message}`);
    }
    assert.equal(t.peer.stats.errors, cases.length);
    // Still serving: a valid request and notification work.
    await t.send('{"jsonrpc":"2.0","id":"ok","method":"get_credentials","params":{"names":["A_B"]}}\n');
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(t.responses().at(-1), { jsonrpc: '2.0', id: 'ok', result: { credentials: { A_B: 'v' } } });
    await t.send('{"jsonrpc":"2.0","method":"message","params":{"task_id":"t","message":{"type":"text","content":{"text":"hi"}}}}\n');
    assert.equal(notes.length, 1);
    // Logs say what was wrong, never the offending content.
    assert.ok(!t.logs.some((l) => l.includes('xxxxxxxxxx') || l.includes('ANTHROPIC_API_KEY')), t.logs.join('\n'));
  });

  it('survives random garbage', async () => {
    const t = daemonPeer();
    t.peer.onRequest('get_credentials', () => ({ credentials: {} }));
    t.peer.onNotification('message', () => undefined);
    t.peer.onNotification('done', () => undefined);
    const pieces = ['{', '}', '[', ']', '"', ':', ',', 'null', '1e999', '"jsonrpc"', '"2.0"', '"id"', '"method"', '"params"', '"done"', '"message"', '\n', '\\u0000', '\u2028', 'é'];
    const rand = (n: number) => crypto.randomInt(n);
    for (let i = 0; i < 2000; i++) {
      let line = '';
      for (let j = rand(30); j > 0; j--) line += pieces[rand(pieces.length)];
      await t.send(rand(10) === 0 ? crypto.randomBytes(rand(200)) : line + '\n');
    }
    await t.send('\n{"jsonrpc":"2.0","id":"still","method":"get_credentials","params":{"names":[]}}\n');
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(t.responses().at(-1), { jsonrpc: '2.0', id: 'still', result: { credentials: {} } });
  });

  it('handler errors become JSON-RPC errors; invalid results are refused; requests resolve and time out', async () => {
    const t = daemonPeer();
    t.peer.onRequest('tool_request', () => {
      throw new RpcHandlerError(RpcErrorCode.Refused, 'no tools today');
    });
    t.peer.onRequest('get_credentials', () => ({ credentials: { 'bad name': 'x' } }) as never);
    await t.send('{"jsonrpc":"2.0","id":1,"method":"tool_request","params":{"task_id":"t","tool":"Bash","input":{}}}\n');
    await t.send('{"jsonrpc":"2.0","id":2,"method":"get_credentials","params":{"names":[]}}\n');
    await new Promise((r) => setTimeout(r, 10));
    const [a, b] = t.responses();
    assert.deepEqual(a!.error, { code: RpcErrorCode.Refused, message: 'no tools today' });
    assert.equal(b!.error?.code, RpcErrorCode.InternalError);

    // Our own requests: answered, wrongly answered, never answered.
    const ok = t.peer.request('run_task', { task_id: 't', session_id: 's', cwd: '/tmp', agent: 'command', prompt: 'p', resume: null, options: {}, stop_grace_ms: 10 });
    const sent = JSON.parse(t.written.at(-1)!) as { id: number };
    await t.send(JSON.stringify({ jsonrpc: '2.0', id: sent.id, result: { accepted: true } }) + '\n');
    assert.deepEqual(await ok, { accepted: true });
    const wrong = t.peer.request('run_task', { task_id: 't', session_id: 's', cwd: '/tmp', agent: 'command', prompt: 'p', resume: null, options: {}, stop_grace_ms: 10 });
    const sent2 = JSON.parse(t.written.at(-1)!) as { id: number };
    const refused = assert.rejects(wrong, /invalid result/);
    await t.send(JSON.stringify({ jsonrpc: '2.0', id: sent2.id, result: { accepted: 'yes' } }) + '\n');
    await refused;
    const silent = t.peer.request('run_task', { task_id: 't', session_id: 's', cwd: '/tmp', agent: 'command', prompt: 'p', resume: null, options: {}, stop_grace_ms: 10 }, { timeoutMs: 30 });
    await assert.rejects(silent, /no answer within 30 ms/);
    // Invalid outgoing params are never sent.
    await assert.rejects(t.peer.request('run_task', { task_id: 't', cwd: 'relative' } as never), /refusing to send invalid params/);
    const pending = assert.rejects(
      t.peer.request('run_task', { task_id: 't', session_id: 's', cwd: '/tmp', agent: 'command', prompt: 'p', resume: null, options: {}, stop_grace_ms: 10 }),
      /connection closed/,
    );
    t.toDaemon.end();
    await pending;
  });
});
