#!/usr/bin/env node
// P2 (not part of npm test). After a build:
//   node scripts/bench/p2-event-fanout.mjs [--sockets 200] [--events 20]
// A daemon (child process) with execution.worktree_rbac on; 200 users seeded straight into the
// database (sharing one cost-4 bcrypt hash so 200 logins are quick: login cost is not measured),
// each with one Socket.IO connection logged in over the socket. Visibility is mixed:
//   private  worktree (others_can none): its 40 owners (members, admins, a viewer) see it;
//   open     worktree (others_can view): everyone sees it, through the tier;
//   other    worktree (others_can none): 60 other users own it and must not hear about `private`;
//   the rest: members, viewers and admins who own nothing (admins get no implicit access).
// Then, one at a time, an owner creates a session over REST in `private`, N times, and in `open`,
// N times: delivery latency from the start of the REST call to each socket's receipt of
// `sessions created`, p50/p99/max, receivers vs expected, and a leak check: a socket that may not
// view a worktree must receive nothing about it. Every wait is bounded; only our child is signalled.
import crypto from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import bcrypt from 'bcryptjs';
import { feathers } from '@feathersjs/feathers';
import socketioClient from '@feathersjs/socketio-client';
import authClient from '@feathersjs/authentication-client';
import { io } from 'socket.io-client';
import {
  dist,
  insertChunked,
  intOption,
  login,
  makeHome,
  percentile,
  printTable,
  repoRow,
  requireBuild,
  sleep,
  spawnDaemon,
  userRows,
  worktreeRow,
} from './lib.mjs';

requireBuild();

const SOCKETS = intOption('sockets', 200);
const EVENTS = intOption('events', 20);
const DELIVERY_TIMEOUT_MS = 10_000;
const SETTLE_MS = 500;
const PASSWORD = 'bench-user-password-1';
const EVENT = 'sessions created';

if (SOCKETS < 110) {
  console.error('--sockets must be at least 110 (40 owners of private, 60 of other, and some more)');
  process.exit(2);
}

/** Users, roles and the worktrees each one owns; returns who may view which worktree. */
function plan() {
  const users = [];
  const add = (group, role) => users.push({ id: crypto.randomUUID(), email: `${group}-${users.length}@bench.agor.test`, role, group });
  for (let i = 0; i < 40; i++) add('private-owner', i < 34 ? 'member' : i < 39 ? 'admin' : 'viewer');
  for (let i = 0; i < 60; i++) add('other-owner', i < 55 ? 'member' : 'admin');
  const rest = SOCKETS - users.length;
  for (let i = 0; i < rest; i++) add('no-owner', i % 10 === 0 ? 'admin' : i % 4 === 1 ? 'viewer' : 'member');
  return users;
}

async function seed(runtime, users) {
  const { openDatabase } = await import(dist('daemon/db/database.js'));
  const db = await openDatabase(runtime.databaseFile);
  const hash = bcrypt.hashSync(PASSWORD, 4);
  const at = new Date().toISOString();
  const repoId = crypto.randomUUID();
  const privateOwners = users.filter((u) => u.group === 'private-owner');
  const otherOwners = users.filter((u) => u.group === 'other-owner');
  const wt = {
    private: worktreeRow({ id: crypto.randomUUID(), repoId, name: 'private', othersCan: 'none', createdBy: privateOwners[0].id, at }),
    open: worktreeRow({ id: crypto.randomUUID(), repoId, name: 'open', othersCan: 'view', createdBy: privateOwners[1].id, at }),
    other: worktreeRow({ id: crypto.randomUUID(), repoId, name: 'other', othersCan: 'none', createdBy: otherOwners[0].id, at }),
  };
  const owner = (w, u) => ({ worktree_id: w.id, user_id: u.id, added_by: w.created_by, added_at: at });
  await db.transaction(async (trx) => {
    await insertChunked(trx, 'users', userRows(users, hash, at));
    await trx('repos').insert(repoRow(repoId, 'bench-repo', privateOwners[0].id, at));
    await trx('worktrees').insert(Object.values(wt));
    await insertChunked(trx, 'worktree_owners', [
      ...privateOwners.map((u) => owner(wt.private, u)),
      owner(wt.open, privateOwners[1]),
      ...otherOwners.map((u) => owner(wt.other, u)),
    ]);
  });
  await db.destroy();
  return wt;
}

/** One socket per user, logged in over the socket (which joins its channels). */
async function connect(url, user) {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 20_000 });
  const app = feathers().configure(socketioClient(socket, { timeout: 20_000 })).configure(authClient());
  const client = { user, socket, events: [], received: new Map() };
  socket.onAny((event, ...args) => {
    const at = performance.now();
    client.events.push({ event, args });
    if (event === EVENT) {
      const id = args[0]?.id;
      if (id && !client.received.has(id)) client.received.set(id, at);
    }
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket of ${user.email} did not connect`)), 20_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  await app.authenticate({ strategy: 'local', email: user.email, password: PASSWORD });
  return client;
}

/** Creates a session in `worktree` over REST and waits (bounded) for every expected socket. */
async function fire(url, token, worktree, expected, label) {
  const t0 = performance.now();
  const res = await fetch(`${url}/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ worktree_id: worktree.id, agent: 'claude-code', title: label }),
    signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
  });
  const session = await res.json();
  const restMs = performance.now() - t0;
  if (res.status !== 201) throw new Error(`creating a session in ${worktree.name} answered ${res.status}: ${JSON.stringify(session)}`);
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  while (!expected.every((c) => c.received.has(session.id)) && Date.now() < deadline) await sleep(2);
  const latencies = expected.filter((c) => c.received.has(session.id)).map((c) => c.received.get(session.id) - t0);
  return { id: session.id, restMs, latencies, delivered: latencies.length };
}

/** Anything a socket received that concerns `worktreeId` (the worktree itself or anything in it). */
function about(client, worktreeId) {
  return client.events.filter(({ args }) => args.some((a) => a && typeof a === 'object' && (a.worktree_id === worktreeId || a.id === worktreeId)));
}

const fmt = (v) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a');

const home = await makeHome('agor-bench-p2-');
const clients = [];
let daemon;
let failed = false;
try {
  const users = plan();
  const wt = await seed(home.runtime(), users);
  daemon = await spawnDaemon(home.env);
  console.log(
    `P2 event fan-out: ${SOCKETS} authenticated Socket.IO connections (websocket), worktree_rbac on, ${EVENTS} events per worktree, ` +
      `one at a time (node ${process.version}, ${os.cpus().length} CPUs, loopback, daemon pid ${daemon.pid})`,
  );
  const t0 = performance.now();
  // Ten at a time: a burst of 200 handshakes is not what is measured here.
  for (let i = 0; i < users.length; i += 10) clients.push(...(await Promise.all(users.slice(i, i + 10).map((u) => connect(daemon.url, u)))));
  console.log(`${clients.length} sockets connected and logged in in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const privateOwners = users.filter((u) => u.group === 'private-owner');
  const creatorPrivate = (await login(daemon.url, privateOwners[0].email, PASSWORD)).accessToken;
  const creatorOpen = (await login(daemon.url, privateOwners[1].email, PASSWORD)).accessToken;
  const mayViewPrivate = (c) => c.user.group === 'private-owner';
  const expected = { private: clients.filter(mayViewPrivate), open: clients };

  // Channel joins happen right after each login; one unmeasured event per worktree proves them.
  for (const [name, token] of [['open', creatorOpen], ['private', creatorPrivate]]) {
    const warm = await fire(daemon.url, token, wt[name], expected[name], `warm-up ${name}`);
    if (warm.delivered !== expected[name].length) throw new Error(`warm-up in ${name}: ${warm.delivered}/${expected[name].length} sockets received it`);
  }

  const results = {};
  for (const [name, token] of [['private', creatorPrivate], ['open', creatorOpen]]) {
    const runs = [];
    for (let i = 0; i < EVENTS; i++) runs.push(await fire(daemon.url, token, wt[name], expected[name], `${name} ${i}`));
    results[name] = runs;
  }
  await sleep(SETTLE_MS); // late deliveries, to anyone, would show up in the leak check below

  const sessionIds = new Set(Object.values(results).flatMap((runs) => runs.map((r) => r.id)));
  const rows = [];
  for (const [name, runs] of Object.entries(results)) {
    const all = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const rest = runs.map((r) => r.restMs).sort((a, b) => a - b);
    const want = expected[name].length;
    const delivered = runs.reduce((n, r) => n + r.delivered, 0);
    const shouldNot = clients.filter((c) => !expected[name].includes(c));
    const leaked = shouldNot.filter((c) => about(c, wt[name].id).length > 0);
    const duplicates = expected[name].filter((c) => c.events.filter((e) => e.event === EVENT && runs.some((r) => r.id === e.args[0]?.id)).length !== runs.length);
    if (delivered !== want * runs.length || leaked.length > 0 || duplicates.length > 0) failed = true;
    rows.push([
      `${name} (others_can ${wt[name].others_can})`,
      runs.length,
      `${want}/${clients.length}`,
      `${delivered}/${want * runs.length}`,
      `${leaked.length}/${shouldNot.length}`,
      fmt(percentile(all, 50)),
      fmt(percentile(all, 99)),
      fmt(all.at(-1)),
      fmt(percentile(rest, 50)),
    ]);
  }
  // Every session event anyone received must be one they may see (the warm-ups included).
  const stray = clients.filter((c) => c.events.some((e) => e.event === EVENT && e.args[0]?.worktree_id === wt.private.id && !mayViewPrivate(c)));
  const otherHeard = clients.filter((c) => c.user.group === 'other-owner' && about(c, wt.private.id).length > 0);
  const adminsHeard = clients.filter((c) => c.user.role === 'admin' && !mayViewPrivate(c) && about(c, wt.private.id).length > 0);
  if (stray.length || otherHeard.length || adminsHeard.length) failed = true;

  console.log('');
  printTable(['worktree', 'events', 'may see', 'deliveries', 'leaks (sockets)', 'p50', 'p99', 'max', 'REST p50'], rows);
  console.log('');
  console.log('latency: from the start of the REST POST /sessions to each socket\'s receipt of "sessions created" (client and daemon on one box)');
  console.log(
    `leak check: sockets that may not view "private" and heard anything about it: ${new Set([...stray, ...otherHeard, ...adminsHeard]).size} ` +
      `(of them owners of "other": ${otherHeard.length}, admins without ownership: ${adminsHeard.length}); ` +
      `${sessionIds.size} measured sessions`,
  );
  const groups = ['private-owner', 'other-owner', 'no-owner'].map((g) => {
    const members = clients.filter((c) => c.user.group === g);
    const got = members.reduce((n, c) => n + c.events.filter((e) => e.event === EVENT).length, 0);
    return `${g} ${members.length} sockets, ${got} session events`;
  });
  console.log(`per group: ${groups.join('; ')}`);
  console.log(failed ? 'P2 FAILED: a socket missed an event, got one twice, or received one it may not see' : 'P2 OK: every permitted socket got each event exactly once; no other socket got any');
  if (failed) process.exitCode = 1;
} catch (error) {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
} finally {
  for (const c of clients) c.socket.close();
  if (daemon) await daemon.stop();
  home.cleanup();
}
