// Config edits take effect while the daemon runs (daemon/config/live.ts): a file edit, SIGHUP-free
// here (the in-process daemon), and the admin-only config-reload call. Real daemon, real executors.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { cleanupTempDirs, createWorktree, newActor, ownerActor, registerRepo, type Actor } from '../helpers/worktree-fixture.js';
import { nodeAgent, until } from '../runner/support.js';
import type { PublicSession } from '../../daemon/services/sessions/sessions.shared.js';
import type { PublicTask } from '../../daemon/services/tasks/tasks.shared.js';
import type { PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';
import type { ReloadResult } from '../../daemon/config/config-reload.shared.js';
import { runnerOf } from '../../daemon/runner/index.js';

const SLEEPER = nodeAgent(`console.log('pid '+process.pid);setInterval(()=>{},1000)`);
/** A marker that must never be written to the audit log: only key names are. */
const VALUE_MARKER = 'value-marker-7f3a';

const baseConfig = {
  daemon: { host: '127.0.0.1', port: 0 },
  execution: { stop_grace_seconds: 1, max_concurrent_tasks: 1, max_tasks_per_user: 1 },
  agents: { sleeper: SLEEPER },
};

let d: TestDaemon;
let owner: Actor;
let alice: Actor;
let wt: PublicWorktree;
let configPath: string;

/** Writes the file as editors that save safely do: a new file renamed over the old one. */
function replaceConfig(text: string): void {
  const tmp = path.join(path.dirname(configPath), '.config.yaml.swp');
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, configPath);
}

async function logLine(pattern: RegExp, from: number): Promise<string> {
  return until(() => d.logs.slice(from).find((l) => pattern.test(l)), `a log line matching ${pattern}`);
}

async function taskStatus(id: string): Promise<string> {
  return ((await alice.rest.service('tasks').get(id)) as PublicTask).status;
}

before(async () => {
  d = await startTestDaemon(baseConfig, { runTasks: true });
  configPath = d.runtime.paths.configPath;
  owner = await ownerActor(d);
  alice = await newActor(d, 'member', 'alice');
  const repo = await registerRepo(owner);
  wt = await createWorktree(alice, repo.id, { others_can: 'none' });
});

after(async () => {
  await d?.stop();
  cleanupTempDirs();
});

describe('config reload', () => {
  it('a valid edit of the file applies live (limits, agents) without dropping a running task or a socket; audited by key name', async () => {
    const s1 = (await alice.rest.service('sessions').create({ worktree_id: wt.id, agent: 'sleeper' })) as PublicSession;
    const s2 = (await alice.rest.service('sessions').create({ worktree_id: wt.id, agent: 'sleeper' })) as PublicSession;
    const t1 = (await alice.rest.service('tasks').create({ session_id: s1.id, prompt: 'first' })) as PublicTask;
    await until(async () => (await taskStatus(t1.id)) === 'running', 'the first task to run');
    const pid = await until(() => runnerPid(t1.id), 'the executor pid');
    const t2 = (await alice.rest.service('tasks').create({ session_id: s2.id, prompt: 'second' })) as PublicTask;
    assert.equal(await taskStatus(t2.id), 'queued', 'max_tasks_per_user 1 holds the second task back');
    const socket = await d.socket(alice.token);
    const before = (await alice.rest.service('info').find()) as { agents: string[] };
    assert.ok(!before.agents.includes('echoer'));

    const from = d.logs.length;
    const edited = {
      ...baseConfig,
      execution: { ...baseConfig.execution, max_concurrent_tasks: 2, max_tasks_per_user: 2 },
      agents: { sleeper: SLEEPER, echoer: nodeAgent(`console.log('${VALUE_MARKER}')`) },
    };
    replaceConfig(stringify(edited));
    const line = await logLine(/^\[config\] reloaded \(file\)/, from);
    assert.match(line, /execution\.max_tasks_per_user/);

    // Raised limits: the queued task starts; the running one was not touched.
    await until(async () => (await taskStatus(t2.id)) !== 'queued', 'the second task to start under the raised limit');
    assert.equal(await taskStatus(t2.id), 'running', d.logs.join('\n'));
    assert.equal(await taskStatus(t1.id), 'running');
    assert.equal(runnerPid(t1.id), pid, 'the first task keeps its executor');
    // The socket stayed connected and still serves calls; the new agent is known.
    assert.equal(socket.socket.connected, true);
    const after = (await socket.app.service('info').find()) as { agents: string[] };
    assert.ok(after.agents.includes('echoer'), 'the new agent applies at once');

    const audit = (await owner.rest.service('audit').find({ query: { action: 'config.reloaded' } })) as { data: { details: Record<string, unknown> }[] };
    const row = audit.data.at(-1)!;
    assert.ok((row.details.changed as string[]).includes('execution.max_concurrent_tasks'));
    assert.ok((row.details.changed as string[]).some((k) => k.startsWith('agents.echoer')));
    assert.equal(JSON.stringify(audit.data).includes(VALUE_MARKER), false, 'values never reach the audit log');
    await alice.rest.service('tasks').patch(t1.id, { status: 'stopped' });
    await alice.rest.service('tasks').patch(t2.id, { status: 'stopped' });
  });

  it('an invalid edit is refused with its line named; the daemon keeps its running config', async () => {
    const running = structuredClone(d.app.get('runtime').config);
    const from = d.logs.length;
    replaceConfig('daemon:\n  host: 127.0.0.1\n  port: 0\nexecution:\n  max_terminals: many\n');
    const line = await logLine(/^\[config\] reload \(file\) refused/, from);
    assert.match(line, /line 5: "execution\.max_terminals" must be a number/);
    assert.equal(line.includes('\n'), false, 'one line');
    assert.deepEqual(d.app.get('runtime').config, running, 'nothing changed');
    // The same refusal through the API, in a sentence an admin can act on.
    await assert.rejects(owner.rest.service('config-reload').create({}), (e: Error & { name: string }) => {
      assert.equal(e.name, 'BadRequest');
      assert.match(e.message, /keeps its running config.*line 5/);
      return true;
    });
    assert.deepEqual(d.app.get('runtime').config, running);
    // YAML syntax errors name their line too.
    await assert.rejects(
      (replaceConfig('daemon:\n  port: 0\n   host: [\n'), owner.rest.service('config-reload').create({})),
      /line \d+, column \d+: invalid YAML/,
    );
    // A deleted file is not "all defaults".
    fs.rmSync(configPath);
    await assert.rejects(owner.rest.service('config-reload').create({}), /missing/);
    assert.deepEqual(d.app.get('runtime').config, running);
  });

  it('a restart-only key is reported as pending restart and not applied; a member may not reload', async () => {
    replaceConfig(stringify({ ...baseConfig, daemon: { host: '127.0.0.1', port: 1 }, execution: { ...baseConfig.execution, max_terminals: 7 } }));
    const result = (await owner.rest.service('config-reload').create({})) as ReloadResult;
    assert.ok(result.pending_restart.includes('daemon.port'), JSON.stringify(result));
    assert.equal(result.pending_restart.includes('execution.max_terminals'), false);
    const config = d.app.get('runtime').config;
    assert.equal(config.daemon.port, 0, 'the port needs a restart');
    assert.equal(config.execution.max_terminals, 7, 'the limit applied live');
    await assert.rejects(alice.rest.service('config-reload').create({}), (e: Error & { name: string }) => e.name === 'Forbidden');
  });
});

function runnerPid(taskId: string): number | undefined {
  return runnerOf(d.app).executorPid(taskId);
}
