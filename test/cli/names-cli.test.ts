// Names instead of ids (repos, worktrees, sessions), errors as one sentence, and confirmation of
// what cannot be undone, through the built CLI (child processes, no terminal) against a real daemon.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { cleanupTempDirs, makeRepo, ownerActor, quickActor, tempDir, type Actor } from '../helpers/worktree-fixture.js';
import * as pty from 'node-pty';
import { CLI, runCli } from '../helpers/cli.js';
import type { PublicRepo } from '../../daemon/services/repos/repos.shared.js';
import type { PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';
import type { PublicSession } from '../../daemon/services/sessions/sessions.shared.js';
import type { PublicApiKey } from '../../daemon/services/api-keys/api-keys.shared.js';

let d: TestDaemon;
let alice: Actor;
let webApp: PublicRepo;
let api: PublicRepo;
let env: Record<string, string>;

before(async () => {
  d = await startTestDaemon({ agents: { echo: { type: 'command', command: ['/bin/cat'] } } });
  const owner = await ownerActor(d);
  alice = await quickActor(d, 'member', 'alice');
  const repo = async (name: string) => (await owner.rest.service('repos').create({ path: makeRepo(`${tempDir('agor-cli-names-')}/${name}`, { 'README.md': `# ${name}\n` }), name })) as PublicRepo;
  [webApp, api] = [await repo('web-app'), await repo('api')];
  const { key } = (await alice.rest.service('api-keys').create({ name: 'cli' })) as { key: string };
  env = { HOME: tempDir('agor-cli-names-home-'), AGOR_HOME: d.home, AGOR_URL: d.url, AGOR_API_KEY: key };
});

after(async () => {
  await d?.stop();
  cleanupTempDirs();
});

async function json<T>(args: string[]): Promise<T> {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `agor ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const count = async (path: string, query: Record<string, unknown> = {}) => ((await alice.rest.service(path).find({ query: { ...query, $limit: 0 } })) as { total: number }).total;
const firstLine = (s: string) => s.split('\n')[0];

describe('names where they are unambiguous', () => {
  let webX: PublicWorktree;
  let apiX: PublicWorktree;

  it('agor worktree create <repo name> <name>', async () => {
    webX = await json<PublicWorktree>(['worktree', 'create', 'web-app', 'feature-x']);
    apiX = await json<PublicWorktree>(['worktree', 'create', 'api', 'feature-x']);
    assert.equal(webX.repo_id, webApp.id);
    assert.equal(apiX.repo_id, api.id);
  });

  it('an ambiguous worktree name is refused with the candidates listed; nothing is created', async () => {
    const before = await count('sessions');
    const r = await runCli(['session', 'create', 'feature-x', '--agent', 'echo'], env);
    assert.equal(r.code, 1);
    assert.equal(firstLine(r.stderr), 'agor: "feature-x" matches 2 worktrees; give its id or repo/name:');
    assert.match(r.stderr, new RegExp(`${webX.id}  web-app/feature-x  branch feature-x`));
    assert.match(r.stderr, new RegExp(`${apiX.id}  api/feature-x  branch feature-x`));
    assert.equal(await count('sessions'), before);
  });

  it('repo/name, an id prefix and a unique name each pick one worktree', async () => {
    const a = await json<PublicSession>(['session', 'create', 'web-app/feature-x', '--agent', 'echo', '--title', 'twin']);
    assert.equal(a.worktree_id, webX.id);
    const b = await json<PublicSession>(['session', 'create', apiX.id.slice(0, 8), '--agent', 'echo', '--title', 'twin']);
    assert.equal(b.worktree_id, apiX.id);
    const unique = await json<PublicWorktree>(['worktree', 'create', 'web-app', 'only-one']);
    assert.equal((await json<PublicWorktree>(['worktree', 'show', 'only-one'])).id, unique.id);
  });

  it('an ambiguous session title is refused with ids, worktrees and creators; an id prefix or a unique title works', async () => {
    const sessions = (await json<(PublicSession & { status: string; creator: string; worktree: string })[]>(['session', 'list'])).filter((s) => s.title === 'twin');
    assert.equal(sessions.length, 2);
    const r = await runCli(['session', 'show', 'twin'], env);
    assert.equal(r.code, 1);
    assert.equal(firstLine(r.stderr), 'agor: "twin" matches 2 sessions; give its id (or a longer id prefix):');
    for (const s of sessions) assert.match(r.stderr, new RegExp(`${s.id}  "twin"  worktree feature-x  by ${alice.email}`));
    assert.equal((await json<PublicSession>(['session', 'show', sessions[1]!.id.slice(0, 6)])).id, sessions[1]!.id);
    assert.deepEqual(
      sessions.map((s) => [s.status, s.creator, s.worktree]),
      [
        ['idle', alice.email, 'feature-x'],
        ['idle', alice.email, 'feature-x'],
      ],
    );
  });

  it('lists show the repo and the creator', async () => {
    const r = await runCli(['worktree', 'list', '--repo', 'web-app'], env);
    assert.equal(r.code, 0, r.stderr);
    const [header, ...rows] = r.stdout.trim().split('\n');
    assert.match(header!, /^ID\s+REPO\s+NAME\s+BRANCH\s+OTHERS_CAN\s+OTHERS_FS_ACCESS\s+ARCHIVED\s+CREATOR$/);
    assert.equal(rows.length, 2);
    for (const row of rows) assert.match(row, new RegExp(`^\\S+\\s+web-app\\s+\\S+.*${alice.email}$`));
  });

  it('a name nobody has: one sentence', async () => {
    const r = await runCli(['worktree', 'create', 'no-such-repo', 'x'], env);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'agor: No repository named "no-such-repo" (agor repo list shows them)\n');
  });
});

describe('errors are one sentence, without class names', () => {
  it('invalid input names the field and the rule', async () => {
    const r = await runCli(['worktree', 'create', 'web-app', 'bad name!'], env);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'agor: name: must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit\n');
    const agent = await runCli(['session', 'create', 'web-app/feature-x', '--agent', 'nope'], env);
    assert.match(agent.stderr, /^agor: agent: unknown agent "nope"; known: .*echo/);
  });

  it('a bad credential says so, not "NotAuthenticated:"', async () => {
    const r = await runCli(['session', 'list'], { ...env, AGOR_API_KEY: `agor_sk_${'x'.repeat(43)}` });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'agor: Invalid API key\n');
    const jwt = await runCli(['session', 'list'], { ...env, AGOR_API_KEY: 'eyJhbGciOiJIUzI1NiJ9.e30.x' });
    assert.doesNotMatch(jwt.stderr, /NotAuthenticated|BadRequest|Error:/);
    assert.match(jwt.stderr, /^agor: Your login has expired or is no longer valid: run `agor login` again/);
  });
});

describe('what cannot be undone asks first', () => {
  it('worktree delete without --yes and without a terminal is refused, and nothing is deleted', async () => {
    const wt = await json<PublicWorktree>(['worktree', 'create', 'api', 'doomed']);
    const r = await runCli(['worktree', 'delete', 'api/doomed'], env);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `agor: Delete worktree doomed and its directory ${wt.path}: not without confirmation; pass --yes (there is no terminal to ask on)\n`);
    assert.equal(((await alice.rest.service('worktrees').get(wt.id)) as PublicWorktree).id, wt.id);
    assert.ok(fs.existsSync(wt.path), 'the directory is still there');

    const yes = await runCli(['worktree', 'delete', 'api/doomed', '--yes'], env);
    assert.equal(yes.code, 0, yes.stderr);
    assert.ok(!fs.existsSync(wt.path), 'deleted with --yes');
  });

  it('on a terminal it asks: "n" keeps the worktree, "y" deletes it', async () => {
    const wt = await json<PublicWorktree>(['worktree', 'create', 'api', 'asked']);
    const answer = async (reply: string) => {
      const term = pty.spawn(process.execPath, [CLI, 'worktree', 'delete', wt.id], { env: { ...env, PATH: process.env.PATH ?? '/usr/bin:/bin' }, cols: 200, rows: 20 });
      let output = '';
      let answered = false;
      term.onData((data) => {
        output += data;
        if (!answered && output.includes('[y/N]')) {
          answered = true;
          term.write(`${reply}\r`);
        }
      });
      const code = await new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
      return { code, output };
    };
    const kept = await answer('n');
    assert.equal(kept.code, 1);
    assert.match(kept.output, new RegExp(`Delete worktree asked and its directory ${wt.path}\\? \\[y/N\\]`));
    assert.match(kept.output, /Cancelled: nothing was changed/);
    assert.ok(fs.existsSync(wt.path), '"n" kept it');
    const deleted = await answer('y');
    assert.equal(deleted.code, 0, deleted.output);
    assert.ok(!fs.existsSync(wt.path), '"y" deleted it');
  });

  it('session delete likewise; archive hides a session from the list', async () => {
    const s = await json<PublicSession>(['session', 'create', 'only-one', '--agent', 'echo', '--title', 'short-lived']);
    const refused = await runCli(['session', 'delete', 'short-lived'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /pass --yes/);
    assert.equal(((await alice.rest.service('sessions').get(s.id)) as PublicSession).id, s.id);

    assert.equal((await json<PublicSession>(['session', 'archive', 'short-lived'])).archived, true);
    assert.ok(!(await json<PublicSession[]>(['session', 'list'])).some((x) => x.id === s.id), 'archived sessions are not listed by default');
    const all = await json<(PublicSession & { status: string })[]>(['session', 'list', '--archived']);
    assert.equal(all.find((x) => x.id === s.id)?.status, 'archived');

    assert.equal((await runCli(['session', 'delete', s.id, '--yes'], env)).code, 0);
    assert.equal(await count('sessions', { archived: true }), 0);
  });
});

describe('API keys made by the CLI', () => {
  it('expire after the same default as in the web UI (90 days), or never when asked', async () => {
    const key = await json<PublicApiKey>(['apikey', 'create', '--name', 'ci']);
    const days = (Date.parse(key.expires_at!) - Date.now()) / 86_400_000;
    assert.ok(days > 89.9 && days <= 90, `expires in ${days} days`);
    assert.equal((await json<PublicApiKey>(['apikey', 'create', '--name', 'forever', '--expires-in-days', 'never'])).expires_at, null);
    const bad = await runCli(['apikey', 'create', '--name', 'x', '--expires-in-days', 'soon'], env);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'agor: --expires-in-days must be a whole number of days or "never"\n');
  });
});
