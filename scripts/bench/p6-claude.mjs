#!/usr/bin/env node
// P6 with the real Claude Agent SDK (not part of npm test). After `npm run build`:
//   node scripts/bench/p6-claude.mjs [--prompts 10]
// prompt → first message latency of the `claude-code` agent against the local fake Anthropic API
// (dist/test/fakes/anthropic.js, 127.0.0.1 only), two ways in the same run, prompts alternating:
//   daemon    a daemon (child process, simple mode, worktree_rbac on): POST /tasks to one
//             claude-code session, timed until the first `messages created` event of the task on
//             the prompter's Socket.IO connection (the message is persisted before it is published),
//             and until the task's `completed` (and, for the breakdown, its `running`). Includes the executor start, run_task, the SDK
//             spawning the Claude Code CLI, the model call, and the message's write + publish.
//   sdk       the same SDK query() called in this process (no daemon, no executor): timed until the
//             first assistant text message, and until the result. Same fake server, same kind of
//             environment (allow-list + key + base URL), each conversation resumed like the daemon's.
// Each side runs one untimed warm-up prompt first. Every wait is bounded; only our daemon child is
// signalled.
import { performance } from 'node:perf_hooks';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { query } from '@anthropic-ai/claude-agent-sdk';
import { dist, intOption, makeHome, percentile, printTable, requireBuilt, startClaudeBenchDaemon } from './lib.mjs';

requireBuilt('executor/agor-executor.mjs', 'test/fakes/anthropic.js');
const PROMPTS = intOption('prompts', 10);
const WAIT_MS = 120_000;
const KEY = 'sk-ant-fake-bench-key-0123456789';

const { startFakeAnthropic } = await import(dist('test/fakes/anthropic.js'));
const fake = await startFakeAnthropic();
const reply = (i) => ({ blocks: [{ type: 'text', text: `Hello from the fake model (${i}).` }], usage: { input_tokens: 100, output_tokens: 12 } });

const cliState = ['.claude', '.claude.json'].map((name) => {
  const file = path.join(os.userInfo().homedir, name);
  return [file, fs.existsSync(file)];
});
const home = await makeHome('agor-bench-p6c-');
// The SDK side gets a private HOME (the CLI keeps its transcripts in ~/.claude).
const sdkHome = fs.mkdtempSync(path.join(home.tmp, 'sdk-home-'));
const sdkCwd = fs.mkdtempSync(path.join(home.tmp, 'sdk-cwd-'));
let owned;
let worktreePath;

const withTimeout = (promise, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS).unref())]);

/** One prompt through query(); resolves with ms to the first text message and to the result. */
let sdkSession = null;
async function sdkPrompt(i) {
  fake.enqueue(reply(i));
  const me = os.userInfo();
  const env = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: sdkHome,
    USER: me.username,
    LOGNAME: me.username,
    SHELL: me.shell || '/bin/sh',
    LANG: 'C.UTF-8',
    TMPDIR: os.tmpdir(),
    ANTHROPIC_API_KEY: KEY,
    ANTHROPIC_BASE_URL: fake.url,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  };
  const options = { cwd: sdkCwd, env, permissionMode: 'default', settingSources: [], ...(sdkSession && { resume: sdkSession }) };
  const t0 = performance.now();
  let first;
  let result;
  await withTimeout(
    (async () => {
      for await (const msg of query({ prompt: `prompt ${i}`, options })) {
        if (msg.session_id) sdkSession = msg.session_id;
        if (msg.type === 'assistant' && first === undefined && msg.message.content.some((b) => b.type === 'text' && b.text)) first = performance.now() - t0;
        if (msg.type === 'result') {
          result = performance.now() - t0;
          if (msg.subtype !== 'success' || msg.is_error) throw new Error(`sdk prompt ${i}: ${msg.subtype} ${msg.result ?? ''}`);
        }
      }
    })(),
    `sdk prompt ${i}`,
  );
  if (first === undefined || result === undefined) throw new Error(`sdk prompt ${i}: no text or no result`);
  return { first, done: result };
}

try {
  owned = await startClaudeBenchDaemon(home, fake.url, KEY);
  const { api, worktree, socket } = owned;
  worktreePath = worktree.path;
  const seen = new Map();
  const at = (id) => (seen.has(id) ? seen.get(id) : seen.set(id, {}).get(id));
  socket.on('messages created', (m) => {
    const s = at(m.task_id);
    if (m.type === 'text') s.first ??= performance.now();
  });
  socket.on('tasks patched', (t) => {
    if (t.status === 'running') at(t.id).running ??= performance.now();
    if (['completed', 'failed', 'stopped'].includes(t.status)) {
      const s = at(t.id);
      s.done ??= performance.now();
      s.status = t.status;
      s.reason = t.reason;
    }
  });
  const session = await api('POST', '/sessions', { worktree_id: worktree.id, agent: 'claude-code' });
  async function daemonPrompt(i) {
    fake.enqueue(reply(i));
    const t0 = performance.now();
    const task = await api('POST', '/tasks', { session_id: session.id, prompt: `prompt ${i}` });
    const s = at(task.id);
    const deadline = Date.now() + WAIT_MS;
    while (s.done === undefined || (s.status === 'completed' && s.first === undefined)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for daemon prompt ${i}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    if (s.status !== 'completed') throw new Error(`daemon prompt ${i} ended ${s.status}: ${s.reason ?? ''}`);
    return { running: s.running - t0, first: s.first - t0, done: s.done - t0 };
  }

  console.log(`P6 claude-code (real Claude Agent SDK, fake Anthropic API): ${PROMPTS} prompts per side (Node ${process.version}, ${os.cpus().length} CPUs)`);
  await sdkPrompt('warm-up');
  await daemonPrompt('warm-up');
  const viaDaemon = [];
  const viaSdk = [];
  for (let i = 0; i < PROMPTS; i++) {
    viaSdk.push(await sdkPrompt(i));
    viaDaemon.push(await daemonPrompt(i));
  }
  const sorted = (xs, k) => xs.map((x) => x[k]).sort((a, b) => a - b);
  const ms = (x) => `${x.toFixed(0)} ms`;
  const running = sorted(viaDaemon, 'running');
  const rows = [['running (daemon only)', ms(percentile(running, 50)), ms(percentile(running, 99)), ms(running.at(-1))]];
  for (const [label, k] of [['first message', 'first'], ['completed', 'done']]) {
    const d = sorted(viaDaemon, k);
    const b = sorted(viaSdk, k);
    rows.push([`${label}: daemon`, ms(percentile(d, 50)), ms(percentile(d, 99)), ms(d.at(-1))]);
    rows.push([`${label}: sdk query()`, ms(percentile(b, 50)), ms(percentile(b, 99)), ms(b.at(-1))]);
    rows.push([`${label}: ratio`, `${(percentile(d, 50) / percentile(b, 50)).toFixed(2)}x`, `${(percentile(d, 99) / percentile(b, 99)).toFixed(2)}x`, '']);
  }
  printTable(['prompt →', 'p50', 'p99', 'max'], rows);
  const summary = (xs, k) => ({ p50: percentile(sorted(xs, k), 50), p99: percentile(sorted(xs, k), 99) });
  console.log(
    JSON.stringify({
      bench: 'p6-claude',
      prompts: PROMPTS,
      first_ms: { daemon: summary(viaDaemon, 'first'), sdk: summary(viaSdk, 'first') },
      completed_ms: { daemon: summary(viaDaemon, 'done'), sdk: summary(viaSdk, 'done') },
    }),
  );
} finally {
  await owned?.stop();
  await fake.close();
  // In simple mode the executor's HOME is the daemon user's own, where the CLI keeps its state:
  // what this run created there goes (~/.claude and ~/.claude.json if they did not exist before;
  // otherwise only this run's transcripts, ~/.claude/projects/<worktree path with '-' for '/' and '.'>).
  for (const [file, existed] of cliState) {
    if (!existed) fs.rmSync(file, { recursive: true, force: true });
  }
  if (worktreePath) {
    const transcripts = path.join(os.userInfo().homedir, '.claude', 'projects', worktreePath.replace(/[^A-Za-z0-9]/g, '-'));
    fs.rmSync(transcripts, { recursive: true, force: true });
  }
  home.cleanup();
}
