#!/usr/bin/env node
// Tool approvals latency (issue 16) with the real Claude Agent SDK (not part of npm test). After
// `npm run build`:   node scripts/bench/p-approvals.mjs [--prompts 10]
// A daemon child (simple mode, worktree_rbac on) runs `claude-code` against the local fake
// Anthropic API; each prompt makes the model call Bash once. Two sessions, prompts alternating:
//   ask        permission mode `ask`: the call is asked. Timed on the owner's Socket.IO connection:
//              tool_use message → `approvals created` (the policy, the request row, its message,
//              the task's awaiting_permission, the audit event, all published), then the answer
//              (PATCH /approvals/:id, allow once) → the PATCH's response, → the task `running`
//              again, → the tool's `tool_result` message (the CLI ran Bash and reported back).
//   allow-all  the same call, allowed by the policy without asking (the baseline, same run):
//              tool_use message → tool_result message.
// The ratio compares "answer → tool_result" with the baseline's "tool_use → tool_result": what an
// answered ask adds once a person has clicked. Every wait is bounded; only our daemon child is
// signalled.
import { performance } from 'node:perf_hooks';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dist, intOption, makeHome, percentile, printTable, requireBuilt, startClaudeBenchDaemon } from './lib.mjs';

requireBuilt('executor/agor-executor.mjs', 'test/fakes/anthropic.js');
const PROMPTS = intOption('prompts', 10);
const WAIT_MS = 120_000;
const KEY = 'sk-ant-fake-bench-key-0123456789';

const { startFakeAnthropic, toolUseId } = await import(dist('test/fakes/anthropic.js'));
const fake = await startFakeAnthropic();
const cliState = ['.claude', '.claude.json'].map((name) => {
  const file = path.join(os.userInfo().homedir, name);
  return [file, fs.existsSync(file)];
});
const home = await makeHome('agor-bench-approvals-');
let owned;
let worktreePath;

async function until(pick, what) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = pick();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

try {
  owned = await startClaudeBenchDaemon(home, fake.url, KEY);
  const { api, worktree, socket } = owned;
  worktreePath = worktree.path;
  await api('PATCH', `/worktrees/${worktree.id}`, { tool_policy: { allow_all: true, rules: [] } });
  const seen = new Map();
  const at = (id) => (seen.has(id) ? seen.get(id) : seen.set(id, {}).get(id));
  socket.on('messages created', (m) => {
    const s = at(m.task_id);
    if (m.type === 'tool_use') s.toolUse ??= performance.now();
    if (m.type === 'tool_result') s.toolResult ??= performance.now();
  });
  socket.on('approvals created', (a) => {
    const s = at(a.task_id);
    s.asked ??= performance.now();
    s.approvalId ??= a.id;
  });
  socket.on('tasks patched', (t) => {
    const s = at(t.id);
    if (t.status === 'running' && s.answered !== undefined) s.resumed ??= performance.now();
    if (['completed', 'failed', 'stopped'].includes(t.status)) {
      s.done ??= performance.now();
      s.status = t.status;
      s.reason = t.reason;
    }
  });
  const askSession = await api('POST', '/sessions', { worktree_id: worktree.id, agent: 'claude-code', permission_mode: 'ask' });
  const allowSession = await api('POST', '/sessions', { worktree_id: worktree.id, agent: 'claude-code', permission_mode: 'allow-all' });

  async function prompt(session, i) {
    fake.enqueue(
      { blocks: [{ type: 'tool_use', id: toolUseId(), name: 'Bash', input: { command: `echo ${i} >> bench.txt`, description: 'bench' } }] },
      { blocks: [{ type: 'text', text: `done ${i}` }] },
    );
    const task = await api('POST', '/tasks', { session_id: session.id, prompt: `prompt ${i}` });
    const s = at(task.id);
    if (session === askSession) {
      await until(() => s.asked !== undefined && s.toolUse !== undefined, `the ask of prompt ${i}`);
      s.answered = performance.now();
      await api('PATCH', `/approvals/${s.approvalId}`, { decision: 'allow' });
      s.patched = performance.now();
    }
    await until(() => s.done !== undefined, `prompt ${i} to end`);
    if (s.status !== 'completed' || s.toolResult === undefined) throw new Error(`prompt ${i} ended ${s.status}: ${s.reason ?? ''}`);
    return s;
  }

  console.log(`P-approvals claude-code (real Claude Agent SDK, fake Anthropic API): ${PROMPTS} prompts per mode (Node ${process.version}, ${os.cpus().length} CPUs)`);
  await prompt(askSession, 'warm-up-ask');
  await prompt(allowSession, 'warm-up-allow');
  const ask = [];
  const allow = [];
  for (let i = 0; i < PROMPTS; i++) {
    ask.push(await prompt(askSession, i));
    allow.push(await prompt(allowSession, i));
  }
  const series = (xs, f) => xs.map(f).sort((a, b) => a - b);
  const ms = (x) => `${x.toFixed(1)} ms`;
  const rowOf = (label, xs) => [label, ms(percentile(xs, 50)), ms(percentile(xs, 99)), ms(xs.at(-1))];
  const asked = series(ask, (s) => s.asked - s.toolUse);
  const patched = series(ask, (s) => s.patched - s.answered);
  const resumed = series(ask, (s) => s.resumed - s.answered);
  const answeredToResult = series(ask, (s) => s.toolResult - s.answered);
  const baseline = series(allow, (s) => s.toolResult - s.toolUse);
  printTable(
    ['', 'p50', 'p99', 'max'],
    [
      rowOf('ask: tool_use → approvals created', asked),
      rowOf('ask: answer → PATCH answered', patched),
      rowOf('ask: answer → task running again', resumed),
      rowOf('ask: answer → tool_result', answeredToResult),
      rowOf('allow-all: tool_use → tool_result', baseline),
      ['ratio answer→result / baseline', `${(percentile(answeredToResult, 50) / percentile(baseline, 50)).toFixed(2)}x`, `${(percentile(answeredToResult, 99) / percentile(baseline, 99)).toFixed(2)}x`, ''],
    ],
  );
  const sum = (xs) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) });
  console.log(JSON.stringify({ bench: 'p-approvals', prompts: PROMPTS, ask_ms: sum(asked), patch_ms: sum(patched), resumed_ms: sum(resumed), answer_to_result_ms: sum(answeredToResult), baseline_ms: sum(baseline) }));
} finally {
  await owned?.stop();
  await fake.close();
  for (const [file, existed] of cliState) {
    if (!existed) fs.rmSync(file, { recursive: true, force: true });
  }
  if (worktreePath) fs.rmSync(path.join(os.userInfo().homedir, '.claude', 'projects', worktreePath.replace(/[^A-Za-z0-9]/g, '-')), { recursive: true, force: true });
  home.cleanup();
}
