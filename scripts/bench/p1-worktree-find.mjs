#!/usr/bin/env node
// P1 (not part of npm test). After a build:
//   node scripts/bench/p1-worktree-find.mjs [--worktrees 10000] [--users 200] [--seconds 5] [--concurrency 10] [--scenario mixed|owned|open]
// Seeds a temp AGOR_HOME straight through the database (no git: worktree rows have fake paths):
// N worktrees with 1-2 owners each and others_can spread over none/view/session/prompt/all
// (--scenario mixed, the default); or others_can `none` on all, the measuring member owning one
// in 100 (--scenario owned: the owner-scoped list at scale); or `view` on all, same owners (open);
// U users sharing one bcrypt hash. Then, in the same run, starts the daemon (a child process)
// with execution.worktree_rbac on and off and drives `GET /worktrees?$limit=50` as a member over
// loopback with a fixed concurrency for a fixed time: requests/s, p50, p99, and the on/off ratio.
// Finally it starts the daemon in-process (dist/daemon/main.js startDaemon), attaches a knex
// 'query' listener and counts the SQL statements of one find: authentication's and find's own.
import crypto from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import bcrypt from 'bcryptjs';
import {
  dist,
  insertChunked,
  intOption,
  login,
  makeHome,
  percentile,
  printTable,
  prng,
  repoRow,
  requireBuild,
  sleep,
  spawnDaemon,
  userRows,
  worktreeRow,
  writeConfig,
} from './lib.mjs';

requireBuild();

const WORKTREES = intOption('worktrees', 10_000);
const USERS = intOption('users', 200);
const SECONDS = intOption('seconds', 5);
const CONCURRENCY = intOption('concurrency', 10);
const WARMUP_MS = 1000;
const MAX_REQUESTS = 2_000_000; // a hard bound besides the time
const PAGE = 50;
const TIERS = ['none', 'view', 'session', 'prompt', 'all'];
const SCENARIO = process.argv.includes('--scenario') ? process.argv[process.argv.indexOf('--scenario') + 1] : 'mixed';
if (!['mixed', 'owned', 'open'].includes(SCENARIO)) {
  console.error('--scenario is one of mixed, owned, open');
  process.exit(2);
}
/** others_can of worktree i, and whether the measuring member (users[0]) is its first owner. */
const tierOf = (i) => (SCENARIO === 'owned' ? 'none' : SCENARIO === 'open' ? 'view' : TIERS[i % TIERS.length]);
const memberOwns = (i) => SCENARIO !== 'mixed' && i % 100 === 0;
const PASSWORD = 'bench-user-password-1';
const ROUNDS = 12; // as the daemon hashes; done once
const { BCRYPT_ROUNDS } = await import(dist('daemon/services/users/users.schema.js'));

/** Seeds users, one repo, worktrees and owners; returns the member who measures, and counts. */
async function seed(runtime) {
  const { openDatabase } = await import(dist('daemon/db/database.js'));
  const db = await openDatabase(runtime.databaseFile);
  const random = prng(42);
  const hash = bcrypt.hashSync(PASSWORD, BCRYPT_ROUNDS ?? ROUNDS);
  const t0 = performance.now();
  const at = new Date().toISOString();
  // Mostly members, some viewers and admins: the measuring user is a member (users[0]).
  const roleOf = (i) => (i === 0 ? 'member' : i % 10 === 1 ? 'viewer' : i % 25 === 2 ? 'admin' : 'member');
  const users = Array.from({ length: USERS }, (_, i) => ({ id: crypto.randomUUID(), email: `u${i}@bench.agor.test`, role: roleOf(i) }));
  const repoId = crypto.randomUUID();
  const worktrees = [];
  const owners = [];
  const base = Date.parse('2025-01-01T00:00:00.000Z');
  for (let i = 0; i < WORKTREES; i++) {
    const id = crypto.randomUUID();
    let first = users[Math.floor(random() * users.length)];
    if (memberOwns(i)) first = users[0];
    else if (SCENARIO !== 'mixed' && first === users[0]) first = users[1];
    const created = new Date(base + i * 1000).toISOString();
    worktrees.push(worktreeRow({ id, repoId, name: `wt-${i}`, othersCan: tierOf(i), createdBy: first.id, at: created }));
    owners.push({ worktree_id: id, user_id: first.id, added_by: first.id, added_at: created });
    if (random() < 0.5 && SCENARIO === 'mixed') {
      let second = users[Math.floor(random() * users.length)];
      if (second.id === first.id) second = users[(users.indexOf(first) + 1) % users.length];
      owners.push({ worktree_id: id, user_id: second.id, added_by: first.id, added_at: created });
    }
  }
  await db.transaction(async (trx) => {
    await insertChunked(trx, 'users', userRows(users, hash, at));
    await trx('repos').insert(repoRow(repoId, 'bench-repo', users[0].id, at));
  });
  await db.transaction(async (trx) => insertChunked(trx, 'worktrees', worktrees, 400));
  await db.transaction(async (trx) => insertChunked(trx, 'worktree_owners', owners, 500));
  const member = users[0];
  const [{ n: visible }] = await db('worktrees as w')
    .where((q) => q.whereIn('w.others_can', TIERS.slice(1)).orWhereExists((o) => o.select(1).from('worktree_owners as o').whereRaw('o.worktree_id = w.id').andWhere('o.user_id', member.id)))
    .count({ n: '*' });
  const [{ n: owned }] = await db('worktree_owners').where('user_id', member.id).count({ n: '*' });
  await db.destroy();
  return { member, ms: performance.now() - t0, owners: owners.length, visible: Number(visible), owned: Number(owned) };
}

/** Bounded closed-loop load: CONCURRENCY workers, each one request at a time, until the deadline. */
async function load(url, token, ms) {
  const { hostname, port } = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies = [];
  let errors = 0;
  let firstBody;
  const get = () =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = http.get(
        { hostname, port, path: `/worktrees?$limit=${PAGE}`, agent, headers: { authorization: `Bearer ${token}` }, timeout: 10_000 },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const ms = performance.now() - t0;
            if (res.statusCode === 200) {
              latencies.push(ms);
              firstBody ??= Buffer.concat(chunks).toString('utf8');
            } else errors++;
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  const t0 = performance.now();
  const deadline = t0 + ms;
  let issued = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline && issued < MAX_REQUESTS) {
        issued++;
        await get();
      }
    }),
  );
  const elapsed = performance.now() - t0;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const page = firstBody ? JSON.parse(firstBody) : undefined;
  return {
    requests: latencies.length,
    errors,
    rps: latencies.length / (elapsed / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1),
    total: page?.total,
    rows: page?.data?.length,
  };
}

async function measure(ctx, rbac) {
  writeConfig(ctx.home, { rbac });
  const daemon = await spawnDaemon(ctx.env);
  try {
    const { accessToken } = await login(daemon.url, ctx.member.email, PASSWORD);
    await load(daemon.url, accessToken, WARMUP_MS);
    return await load(daemon.url, accessToken, SECONDS * 1000);
  } finally {
    await daemon.stop();
  }
}

/**
 * In-process daemon: every statement knex runs is recorded. A around-hook on worktrees.find marks
 * when the service call begins and ends, so the statements of one REST `GET /worktrees` split into
 * authentication's (before) and find's own (inside). A direct internal call (no transport, no
 * authentication) is counted too.
 */
async function countQueries(ctx, rbac) {
  writeConfig(ctx.home, { rbac });
  const { startDaemon } = await import(dist('daemon/main.js'));
  const daemon = await startDaemon(ctx.runtime(), { log: () => undefined, env: ctx.env });
  try {
    const db = daemon.app.get('db');
    let phase = 'idle';
    const seen = [];
    db.on('query', (q) => seen.push({ phase, sql: q.sql, bindings: q.bindings ?? [] }));
    daemon.app.service('worktrees').hooks({
      around: {
        find: [
          async (_context, next) => {
            phase = 'find';
            try {
              await next();
            } finally {
              phase = 'after';
            }
          },
        ],
      },
    });
    const { accessToken, user } = await login(daemon.url, ctx.member.email, PASSWORD);
    const REPEAT = 5;
    const perRequest = [];
    for (let i = 0; i < REPEAT; i++) {
      seen.length = 0;
      phase = 'auth';
      const res = await fetch(`${daemon.url}/worktrees?$limit=${PAGE}`, { headers: { authorization: `Bearer ${accessToken}` } });
      const body = await res.json();
      if (res.status !== 200 || body.data.length !== PAGE) throw new Error(`find answered ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
      phase = 'idle';
      perRequest.push({
        total: seen.length,
        auth: seen.filter((q) => q.phase === 'auth').length,
        find: seen.filter((q) => q.phase === 'find').length,
        after: seen.filter((q) => q.phase === 'after').length,
        findSql: seen.filter((q) => q.phase === 'find').map((q) => q.sql),
        findBindings: seen.filter((q) => q.phase === 'find').map((q) => q.bindings),
        authSql: seen.filter((q) => q.phase === 'auth').map((q) => q.sql),
      });
    }
    seen.length = 0;
    phase = 'direct';
    await daemon.app.service('worktrees').find({ user, query: { $limit: PAGE } });
    const direct = seen.filter((q) => q.phase === 'find').length;
    const plan = await db.raw(`EXPLAIN QUERY PLAN ${perRequest[0].findSql[0]}`, perRequest[0].findBindings[0]).catch(() => null);
    return { perRequest, direct, findSql: perRequest[0].findSql, authSql: perRequest[0].authSql, plan };
  } finally {
    await daemon.close();
  }
}

const fmtMs = (v) => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : 'n/a');

const home = await makeHome('agor-bench-p1-');
let failed = false;
try {
  console.log(
    `P1 worktree find (${SCENARIO}): ${WORKTREES} worktrees, ${USERS} users, GET /worktrees?$limit=${PAGE} as a member, ` +
      `concurrency ${CONCURRENCY}, ${SECONDS} s each after ${WARMUP_MS} ms warm-up (node ${process.version}, ${os.cpus().length} CPUs, loopback)`,
  );
  const seeded = await seed(home.runtime());
  console.log(
    `seeded in ${(seeded.ms / 1000).toFixed(1)} s: ${WORKTREES} worktrees, ${seeded.owners} owner rows, tiers ${TIERS.join('/')} (${WORKTREES / TIERS.length} each); ` +
      `the member owns ${seeded.owned} and may view ${seeded.visible} with RBAC on`,
  );
  const ctx = { ...home, member: seeded.member };

  // Interleaved on, off, on, off so that drifts in machine load touch both alike; best of two kept.
  const runs = { on: [], off: [] };
  for (const rbac of [true, false, true, false]) {
    const r = await measure(ctx, rbac);
    runs[rbac ? 'on' : 'off'].push(r);
    console.log(`  rbac ${rbac ? 'on ' : 'off'}: ${r.rps.toFixed(0)} req/s, p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)}, ${r.errors} errors`);
  }
  const best = (list) => list.reduce((a, b) => (b.rps > a.rps ? b : a));
  const on = best(runs.on);
  const off = best(runs.off);
  for (const r of [on, off]) if (r.errors > 0 || r.rows !== PAGE) failed = true;

  const countOn = await countQueries(ctx, true);
  const countOff = await countQueries(ctx, false);

  console.log('');
  console.log(`GET /worktrees?$limit=${PAGE} (best of 2 runs each)`);
  printTable(
    ['worktree_rbac', 'requests', 'errors', 'req/s', 'p50', 'p99', 'max', 'total visible', 'rows/page', 'SQL/request', 'auth SQL', 'find SQL'],
    [
      ['on', on.requests, on.errors, on.rps.toFixed(0), fmtMs(on.p50), fmtMs(on.p99), fmtMs(on.max), on.total, on.rows, countOn.perRequest[0].total, countOn.perRequest[0].auth, countOn.perRequest[0].find],
      ['off', off.requests, off.errors, off.rps.toFixed(0), fmtMs(off.p50), fmtMs(off.p99), fmtMs(off.max), off.total, off.rows, countOff.perRequest[0].total, countOff.perRequest[0].auth, countOff.perRequest[0].find],
      ['on/off', '', '', `${(on.rps / off.rps).toFixed(2)}x`, `${(on.p50 / off.p50).toFixed(2)}x`, `${(on.p99 / off.p99).toFixed(2)}x`, '', '', '', '', '', ''],
    ],
  );
  console.log('');
  for (const [label, c] of [['on', countOn], ['off', countOff]]) {
    const stable = c.perRequest.every((p) => p.find === c.perRequest[0].find && p.auth === c.perRequest[0].auth && p.after === 0);
    const ok = c.direct === 1 && c.perRequest.every((p) => p.find === 1);
    if (!ok || !stable) failed = true;
    console.log(
      `SQL per find, rbac ${label}: ${c.perRequest.length} REST requests each ran ${c.perRequest[0].total} statements = ` +
        `${c.perRequest[0].auth} authentication (${c.authSql.map((s) => s.replace(/\s+/g, ' ').slice(0, 60)).join('; ')}) + ` +
        `${c.perRequest[0].find} find; internal find call (no transport): ${c.direct} -> ${ok && stable ? 'OK (1)' : 'FAIL (must be 1)'}`,
    );
  }
  console.log(`find SQL (rbac on): ${countOn.findSql[0]}`);
  console.log(`find SQL (rbac off): ${countOff.findSql[0]}`);
  if (countOn.plan) console.log(`query plan (rbac on): ${countOn.plan.map((r) => r.detail).join(' | ')}`);
  if (failed) {
    console.error('P1 FAILED: errors during load, a short page, or find did not run exactly one SQL statement');
    process.exitCode = 1;
  }
} catch (error) {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
} finally {
  await sleep(10);
  home.cleanup();
}
