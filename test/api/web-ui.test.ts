// The built UI as the daemon serves it: only its own paths, with its security headers, and
// never in the way of the API, /health or Socket.IO.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { DEFAULT_UI_DIR, logResponseError } from '../../daemon/http/static-ui.js';
import net from 'node:net';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => d.stop());

describe('web UI files', () => {
  it('GET / is the page, with a CSP that allows scripts from the daemon only, and no caching', async () => {
    const res = await fetch(`${d.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const html = await res.text();
    assert.match(html, /<div id="root"><\/div>/);
    assert.doesNotMatch(html, /<script>(?!<\/script>)/, 'no inline script (the CSP would refuse it)');
  });

  it('assets are long-cached and sent gzipped to browsers that accept it', async () => {
    const js = fs.readdirSync(path.join(DEFAULT_UI_DIR, 'assets')).find((f) => f.startsWith('index-') && f.endsWith('.js'));
    assert.ok(js, 'the build produced the entry script');
    const gz = await fetch(`${d.url}/assets/${js}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers.get('content-encoding'), 'gzip');
    assert.match(gz.headers.get('cache-control') ?? '', /immutable/);
    assert.ok((await gz.text()).length > 1000, 'fetch decodes it back to the script');
    const plain = await fetch(`${d.url}/assets/${js}`, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.headers.get('content-encoding'), null);
  });

  it('does not shadow anything else: services, /health, Socket.IO, unknown paths, other methods', async () => {
    assert.equal((await fetch(`${d.url}/users`)).status, 401);
    assert.equal(((await (await fetch(`${d.url}/health`)).json()) as { status: string }).status, 'ok');
    const io = await fetch(`${d.url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(io.status, 200);
    assert.match(await io.text(), /"sid"/);
    for (const p of ['/board', '/settings', '/assets/../package.json', '/assets/%2e%2e/%2e%2e/package.json', '/.agor']) {
      const res = await fetch(`${d.url}${p}`);
      assert.equal(res.status, 404, p);
      assert.equal(((await res.json()) as { name: string }).name, 'NotFound', p);
    }
    const post = await fetch(`${d.url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(post.status, 404);
    // Credentials in a query string are refused here as everywhere.
    assert.equal((await fetch(`${d.url}/?access_token=abc`)).status, 401);
  });

  it('traversal and malformed names under /assets/ are a quiet 404, unauthenticated: no 500, no stack in the log', async () => {
    const logged: string[] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => void logged.push(args.map(String).join(' '));
    try {
      // Sent as written (fetch would normalise "..").
      const attempts = ['/assets/../package.json', '/assets/..%2f..%2fpackage.json', '/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/assets/%E0%A4%A', '/assets/a%00b.js', '/assets/..\\..\\package.json', `/assets/${'../'.repeat(50)}etc/passwd`];
      for (let round = 0; round < 20; round += 1) {
        for (const p of attempts) {
          const { status, body } = await rawGet(p);
          assert.equal(status, 404, p);
          assert.equal((JSON.parse(body) as { name: string }).name, 'NotFound', p);
          assert.doesNotMatch(body, /root:|"dependencies"|\bat\b.*\.js/, p);
        }
      }
    } finally {
      console.error = consoleError;
    }
    assert.deepEqual(logged, [], 'an unauthenticated caller can write to the daemon log');
    assert.ok(!d.logs.some((l) => /Malicious|stack|at .*\.js/i.test(l)));
  });
});

describe('a browser that goes away mid-download (reload, closed tab)', () => {
  /** console.error calls made while `fn` runs. */
  async function consoleErrorsDuring(fn: () => Promise<void>): Promise<unknown[][]> {
    const calls: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void calls.push(args);
    try {
      await fn();
    } finally {
      console.error = original;
    }
    return calls;
  }

  it('is not logged as an error with a stack trace (ERR_STREAM_PREMATURE_CLOSE / ECONNRESET)', { timeout: 20_000 }, async () => {
    // The largest file, sent uncompressed, so the client is gone long before it is all sent.
    const assets = fs.readdirSync(path.join(DEFAULT_UI_DIR, 'assets')).filter((f) => f.endsWith('.js'));
    const big = assets.sort((a, b) => fs.statSync(path.join(DEFAULT_UI_DIR, 'assets', b)).size - fs.statSync(path.join(DEFAULT_UI_DIR, 'assets', a)).size)[0]!;
    let reported: (Error & { code?: string }) | undefined;
    const logged = await consoleErrorsDuring(async () => {
      // Koa reports it to the app's 'error' listeners; this one runs after the daemon's own.
      const seen = new Promise<Error>((resolve) => d.app.once('error', resolve));
      const socket = net.connect(Number(new URL(d.url).port), '127.0.0.1');
      socket.once('connect', () => socket.write(`GET /assets/${big} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: identity\r\n\r\n`));
      // A TCP reset after the first bytes, as a browser cancelling the request does.
      socket.once('data', () => socket.resetAndDestroy());
      reported = await seen;
    });
    assert.match(reported?.code ?? '', /^(ERR_STREAM_PREMATURE_CLOSE|ECONNRESET|EPIPE)$/, 'the abort really happened mid-body');
    assert.deepEqual(logged, []);
    assert.equal(((await (await fetch(`${d.url}/health`)).json()) as { status: string }).status, 'ok');
  });

  it('any other error while sending a response is still logged', async () => {
    const logged = await consoleErrorsDuring(async () => logResponseError(new Error('disk read failed')));
    assert.equal(logged.length, 1);
    assert.match(String(logged[0]![1]), /disk read failed/);
  });
});

/** A GET with the path exactly as given, over a plain HTTP request. */
function rawGet(pathname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(d.url + '/', { path: pathname, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
