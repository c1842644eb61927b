// GET /metrics (daemon/http/metrics.ts): who may read it, per metrics.access (applied live), and
// that the text is Prometheus' format with the metrics the issue names.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { stringify } from 'yaml';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { newActor, ownerActor, type Actor } from '../helpers/worktree-fixture.js';
import { liveConfigOf } from '../../daemon/config/live.js';

let d: TestDaemon;
let owner: Actor;
let admin: Actor;
let member: Actor;

const get = (token?: string) => fetch(`${d.url}/metrics`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});

before(async () => {
  d = await startTestDaemon({}, {});
  owner = await ownerActor(d);
  admin = await newActor(d, 'admin', 'ada');
  member = await newActor(d, 'member', 'mel');
});

after(async () => {
  await d?.stop();
});

describe('GET /metrics', () => {
  it('refuses a member (403) and an anonymous caller (401); an admin gets the text format with the named metrics', async () => {
    const refused = await get(member.token);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /Only admins and owners read metrics/);
    assert.equal((await get()).status, 401);
    assert.equal((await get('not-a-token')).status, 401);

    // Something to count: a refused login (audited) and a few requests.
    const bad = await fetch(`${d.url}/authentication`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ strategy: 'local', email: member.email, password: 'wrong-password' }) });
    assert.equal(bad.status, 401);
    const res = await get(admin.token);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const name of [
      'agor_http_requests_total',
      'agor_socket_connections',
      'agor_tasks',
      'agor_task_queue_length',
      'agor_executor_spawn_seconds',
      'agor_nodejs_eventloop_lag_seconds',
      'agor_login_failures_total',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exposed`);
    }
    assert.match(text, /^agor_login_failures_total 1$/m);
    assert.match(text, /^agor_http_requests_total\{route="metrics",method="GET",status="403"\} 1$/m);
    assert.match(text, /^agor_socket_connections [1-9]\d*$/m, 'the actors\' sockets are counted');
    assert.equal(text.includes(member.email), false, 'no emails in labels');
    // The owner too (owners are admins and more).
    assert.equal((await get(owner.token)).status, 200);
  });

  it('metrics.access applies live: loopback serves local callers without a credential; off is a 404', async () => {
    const configPath = d.runtime.paths.configPath;
    const original = fs.readFileSync(configPath, 'utf8');
    try {
      fs.writeFileSync(configPath, stringify({ daemon: { host: '127.0.0.1', port: 0 }, metrics: { access: 'loopback' } }));
      await liveConfigOf(d.app).reload('api');
      const local = await get();
      assert.equal(local.status, 200, 'this test calls from 127.0.0.1');
      fs.writeFileSync(configPath, stringify({ daemon: { host: '127.0.0.1', port: 0 }, metrics: { access: 'off' } }));
      await liveConfigOf(d.app).reload('api');
      assert.equal((await get(admin.token)).status, 404);
    } finally {
      fs.writeFileSync(configPath, original);
      await liveConfigOf(d.app).reload('api');
    }
    assert.equal((await get(member.token)).status, 403);
  });
});
