#!/usr/bin/env node
// P6 (not part of npm test). After a build (npm run build: the executor bundle is needed):
//   node scripts/bench/p6-stream.mjs [--lines 20000] [--runs 3] [--prompts 30]
// A daemon (child process, worktree_rbac on, simple mode) with two command agents:
//   burst  prints --lines lines as fast as it can (node: one console.log per line)
//   hello  prints one line at once
// Throughput: one prompt to `burst` per run; every line is a message persisted (batched SQLite
// writes) and published to the worktree channel. Measured on the prompter's own Socket.IO connection
// (the events it receives), from the POST /tasks call: first message, last message, `completed`;
// the stored count is checked over REST.
// Latency: --prompts prompts to `hello`, one after another in one session: POST /tasks → `running`
// event, and → the first `messages created` event (executor start + run_task + the agent's first line).
// Every wait is bounded; only our own child is signalled.
import { performance } from 'node:perf_hooks';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dist, intOption, makeHome, percentile, printTable, requireBuild, startOwnedDaemon } from './lib.mjs';

requireBuild();
if (!fs.existsSync(dist('executor/agor-executor.mjs'))) {
  console.error('dist/executor/agor-executor.mjs not found: run npm run build');
  process.exit(1);
}

const LINES = intOption('lines', 20_000);
const RUNS = intOption('runs', 3);
const PROMPTS = intOption('prompts', 30);
const WAIT_MS = 120_000;

const agents = {
  burst: { type: 'command', command: [process.execPath, '-e', "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const n=Number(s);let out='';for(let i=0;i<n;i++){out+='line '+i+'\\n';if(out.length>65536){process.stdout.write(out);out=''}}process.stdout.write(out)})"] },
  hello: { type: 'command', command: [process.execPath, '-e', "console.log('hello')"] },
};

const home = await makeHome('agor-bench-p6-');
fs.appendFileSync(path.join(home.home, 'config.yaml'), `  max_concurrent_tasks: 4\nagents: ${JSON.stringify(agents)}\n`);
let owned;
try {
  owned = await startOwnedDaemon(home);
  const { api, worktree, socket } = owned;
  // task id -> { first, last, count, running, done }
  const seen = new Map();
  const at = (id) => (seen.has(id) ? seen.get(id) : seen.set(id, { count: 0 }).get(id));
  socket.on('messages created', (m) => {
    const s = at(m.task_id);
    s.count += 1;
    s.first ??= performance.now();
    s.last = performance.now();
  });
  socket.on('tasks patched', (t) => {
    const s = at(t.id);
    if (t.status === 'running') s.running ??= performance.now();
    if (['completed', 'failed', 'stopped'].includes(t.status)) {
      s.done = performance.now();
      s.status = t.status;
    }
  });
  const waitFor = async (pred, what) => {
    const deadline = Date.now() + WAIT_MS;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  console.log(`P6 streaming: ${LINES} lines per run x ${RUNS} runs; ${PROMPTS} single-line prompts (Node ${process.version}, ${os.cpus().length} CPUs)`);
  const burst = await api('POST', '/sessions', { worktree_id: worktree.id, agent: 'burst' });
  const rows = [];
  for (let run = 1; run <= RUNS; run++) {
    const t0 = performance.now();
    const task = await api('POST', '/tasks', { session_id: burst.id, prompt: String(LINES) });
    const s = at(task.id);
    await waitFor(() => s.done !== undefined && s.count >= LINES, `run ${run}`);
    if (s.status !== 'completed') throw new Error(`run ${run} ended ${s.status}`);
    const stored = (await api('GET', `/messages?task_id=${task.id}&$limit=1`)).total;
    const span = (s.last - s.first) / 1000;
    rows.push([
      run,
      stored,
      s.count,
      `${Math.round(s.first - t0)} ms`,
      `${Math.round(s.last - t0)} ms`,
      `${Math.round(s.done - t0)} ms`,
      `${Math.round(s.count / span)}/s`,
      `${Math.round(stored / ((s.done - t0) / 1000))}/s`,
    ]);
  }
  printTable(['run', 'stored', 'published', 'first msg', 'last msg', 'completed', 'msgs/s first→last', 'msgs/s prompt→done'], rows);

  const hello = await api('POST', '/sessions', { worktree_id: worktree.id, agent: 'hello' });
  const toRunning = [];
  const toFirst = [];
  const toDone = [];
  for (let i = 0; i < PROMPTS; i++) {
    const t0 = performance.now();
    const task = await api('POST', '/tasks', { session_id: hello.id, prompt: 'hi' });
    const s = at(task.id);
    await waitFor(() => s.done !== undefined && s.first !== undefined, `prompt ${i}`);
    toRunning.push(s.running - t0);
    toFirst.push(s.first - t0);
    toDone.push(s.done - t0);
  }
  const fmt = (xs) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return [`${percentile(sorted, 50).toFixed(1)} ms`, `${percentile(sorted, 90).toFixed(1)} ms`, `${percentile(sorted, 99).toFixed(1)} ms`, `${sorted.at(-1).toFixed(1)} ms`];
  };
  console.log('');
  printTable(['prompt →', 'p50', 'p90', 'p99', 'max'], [['running', ...fmt(toRunning)], ['first message', ...fmt(toFirst)], ['completed', ...fmt(toDone)]]);
} finally {
  await owned?.stop();
  home.cleanup();
}
