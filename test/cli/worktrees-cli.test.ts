import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cleanupTempDirs, makeRepo, tempDir } from '../../daemon/git/test-support.js';
import { runCli } from '../helpers/cli.js';
import { isAlive } from '../../daemon/pidfile.js';

// The built CLI, driven the way a new user drives it: one child process per command, against a
const OWNER = { email: 'wt-owner@b.co', password: 'worktree-owner-password-1' };

/** Runs a command that must succeed and print JSON; returns the parsed value. */
async function json<T>(args: string[], env: Record<string, string>): Promise<T> {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `agor ${args.join(' ')} failed: ${r.stderr}`);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    assert.fail(`agor ${args.join(' ')} --json printed no valid JSON: ${r.stdout}`);
  }
}

/** The `key: value` lines of a non-JSON object print. */
function fields(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => /^([a-z_]+): (.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Repo {
  id: string;
  name: string;
  path: string;
  default_branch: string | null;
}
interface Worktree {
  id: string;
  repo_id: string;
  name: string;
  path: string;
  branch: string;
  others_can: string;
  others_fs_access: string;
  archived: boolean;
  created_by: string;
  owners: string[];
}
interface Session {
  id: string;
  worktree_id: string;
  agent: string;
  created_by: string;
  forked_from: string | null;
}

describe('worktrees from the CLI, as a new user', () => {
  let base: string;
  let env: Record<string, string>;
  let agorHome: string;
  let repoPath: string;
  let daemonPid: number | undefined;
  let repo: Repo;
  let worktree: Worktree;
  let session: Session;
  let ownerId: string;

  before(() => {
    base = tempDir('agor-cli-worktrees-');
    agorHome = path.join(base, 'agor');
    fs.mkdirSync(path.join(base, 'home'));
    env = { HOME: path.join(base, 'home'), AGOR_HOME: agorHome };
    repoPath = makeRepo(path.join(base, 'project'), { 'README.md': '# project\n', 'src/main.txt': 'one\n' });
  });

  after(async () => {
    // Only the daemon this test started, by the pid it printed.
    if (daemonPid && isAlive(daemonPid)) {
      process.kill(daemonPid, 'SIGTERM');
      for (let i = 0; i < 50 && isAlive(daemonPid); i++) await new Promise((r) => setTimeout(r, 100));
      if (isAlive(daemonPid)) process.kill(daemonPid, 'SIGKILL');
    }
    cleanupTempDirs();
  });

  it('init, daemon start and login', async () => {
    const init = await runCli(['init', '--email', OWNER.email, '--password-stdin'], env, OWNER.password + '\n');
    assert.equal(init.code, 0, init.stderr);
    assert.equal((await runCli(['config', 'set', 'daemon.port', '0'], env)).code, 0);
    const start = await runCli(['daemon', 'start'], env);
    assert.equal(start.code, 0, start.stderr);
    const match = /started \(pid (\d+)\) on (http:\/\/127\.0\.0\.1:\d+)/.exec(start.stdout);
    assert.ok(match, start.stdout);
    daemonPid = Number(match[1]);
    const login = await runCli(['login', '--email', OWNER.email, '--password-stdin'], env, OWNER.password);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /as wt-owner@b\.co \(owner\)/);
    const users = await json<{ id: string; email: string }[]>(['user', 'list'], env);
    ownerId = users.find((u) => u.email === OWNER.email)!.id;
    assert.match(ownerId, UUID);
  });

  it('repo add <path> --json registers the repository', async () => {
    repo = await json<Repo>(['repo', 'add', repoPath], env);
    assert.match(repo.id, UUID);
    assert.equal(repo.name, 'project');
    assert.equal(fs.realpathSync(repo.path), fs.realpathSync(repoPath));
    assert.equal(repo.default_branch, 'main');
    const listed = await json<Repo[]>(['repo', 'list'], env);
    assert.deepEqual(listed.map((r) => r.id), [repo.id]);
  });

  it('worktree create <repoId> feat-1 --json makes a git worktree the caller owns', async () => {
    worktree = await json<Worktree>(['worktree', 'create', repo.id, 'feat-1'], env);
    assert.match(worktree.id, UUID);
    assert.equal(worktree.repo_id, repo.id);
    assert.equal(worktree.name, 'feat-1');
    assert.equal(worktree.branch, 'feat-1');
    assert.equal(worktree.others_can, 'session');
    assert.equal(worktree.others_fs_access, 'read');
    assert.equal(worktree.archived, false);
    assert.equal(worktree.created_by, ownerId);
    assert.deepEqual(worktree.owners, [ownerId]);
    assert.equal(worktree.path, path.join(agorHome, 'data', 'worktrees', 'project', 'feat-1'));
    assert.equal(fs.readFileSync(path.join(worktree.path, 'src', 'main.txt'), 'utf8'), 'one\n', 'the checkout has the repo files');
    assert.ok(fs.statSync(path.join(worktree.path, '.git')).isDirectory(), 'a worktree is a repository of its own');
  });

  it('worktree list --json shows it', async () => {
    const list = await json<Worktree[]>(['worktree', 'list'], env);
    assert.ok(Array.isArray(list));
    assert.deepEqual(list.map((w) => [w.id, w.name, w.others_can]), [[worktree.id, 'feat-1', 'session']]);
  });

  it('worktree set --others-can view changes the tier', async () => {
    const set = await runCli(['worktree', 'set', worktree.id, '--others-can', 'view'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(fields(set.stdout).others_can, 'view');
    assert.equal(fields(set.stdout).id, worktree.id);
    const shown = await json<Worktree>(['worktree', 'show', worktree.id], env);
    assert.equal(shown.others_can, 'view');
    const bad = await runCli(['worktree', 'set', worktree.id, '--others-can', 'everyone'], env);
    assert.notEqual(bad.code, 0);
    assert.equal(bad.stderr, 'agor: others_can: must be one of "none", "view", "session", "prompt", "all"\n', 'one sentence, no class name');
    assert.equal((await json<Worktree>(['worktree', 'show', worktree.id], env)).others_can, 'view', 'a bad request changes nothing');
  });

  it('worktree owners list --json names the creator', async () => {
    const owners = await json<{ user_id: string; email: string }[]>(['worktree', 'owners', 'list', worktree.id], env);
    assert.equal(owners.length, 1);
    assert.equal(owners[0]!.user_id, ownerId);
    assert.equal(owners[0]!.email, OWNER.email);
  });

  it('session create --agent claude-code --json, then session list --json', async () => {
    session = await json<Session>(['session', 'create', worktree.id, '--agent', 'claude-code'], env);
    assert.match(session.id, UUID);
    assert.equal(session.worktree_id, worktree.id);
    assert.equal(session.agent, 'claude-code');
    assert.equal(session.created_by, ownerId);
    assert.equal(session.forked_from, null);
    const list = await json<Session[]>(['session', 'list'], env);
    assert.deepEqual(list.map((s) => s.id), [session.id]);
  });

  it('prompt <sessionId> "hello" records a queued task', async () => {
    const prompt = await runCli(['prompt', session.id, 'hello'], env);
    assert.equal(prompt.code, 0, prompt.stderr);
    const task = fields(prompt.stdout);
    assert.match(task.id ?? '', UUID);
    assert.equal(task.session_id, session.id);
    assert.equal(task.worktree_id, worktree.id);
    assert.equal(task.prompt, 'hello');
    assert.equal(task.status, 'queued');
    assert.equal(task.created_by, ownerId);
    assert.equal(task.executed_as, ownerId);
  });

  it('session fork --json makes a child of the session that runs as the caller', async () => {
    const fork = await json<Session>(['session', 'fork', session.id], env);
    assert.match(fork.id, UUID);
    assert.notEqual(fork.id, session.id);
    assert.equal(fork.forked_from, session.id);
    assert.equal(fork.worktree_id, worktree.id);
    assert.equal(fork.agent, 'claude-code');
    assert.equal(fork.created_by, ownerId);
    const list = await json<Session[]>(['session', 'list', '--worktree', worktree.id], env);
    assert.deepEqual(list.map((s) => s.id).sort(), [session.id, fork.id].sort());
  });

  it('repo remove is refused while the repo has worktrees', async () => {
    const refused = await runCli(['repo', 'remove', repo.id], env);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /^agor: [A-Z].*worktree/);
    assert.doesNotMatch(refused.stderr, /Conflict/);
    assert.equal((await json<Repo[]>(['repo', 'list'], env)).length, 1);
  });

  it('worktree archive, then worktree delete removes the record and the directory', async () => {
    const archive = await runCli(['worktree', 'archive', worktree.id], env);
    assert.equal(archive.code, 0, archive.stderr);
    assert.equal(fields(archive.stdout).archived, 'true');
    assert.equal((await json<Worktree>(['worktree', 'show', worktree.id], env)).archived, true);
    assert.ok(fs.existsSync(worktree.path), 'archiving keeps the checkout');

    const del = await runCli(['worktree', 'delete', worktree.id, '--yes'], env);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(fields(del.stdout).id, worktree.id);
    assert.equal(fs.existsSync(worktree.path), false, 'the directory is gone');
    assert.deepEqual(await json<Worktree[]>(['worktree', 'list'], env), []);
    assert.deepEqual(await json<Session[]>(['session', 'list'], env), [], 'its sessions went with it');
    const gone = await runCli(['worktree', 'show', worktree.id], env);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /^agor: No worktree/);
  });

  it('worktree delete refuses uncommitted changes without --force and accepts them with it', async () => {
    const dirty = await json<Worktree>(['worktree', 'create', repo.id, 'feat-2'], env);
    fs.writeFileSync(path.join(dirty.path, 'src', 'main.txt'), 'changed\n');
    fs.writeFileSync(path.join(dirty.path, 'new-file.txt'), 'untracked\n');

    const refused = await runCli(['worktree', 'delete', dirty.id, '--yes'], env);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /^agor: [A-Z].*uncommitted changes/);
    assert.equal(refused.stderr.trim().split('\n').length, 1, `one line: ${refused.stderr}`);
    assert.equal(fs.readFileSync(path.join(dirty.path, 'src', 'main.txt'), 'utf8'), 'changed\n', 'nothing was removed');
    assert.deepEqual((await json<Worktree[]>(['worktree', 'list'], env)).map((w) => w.id), [dirty.id]);

    const forced = await json<Worktree>(['worktree', 'delete', dirty.id, '--force', '--yes'], env);
    assert.equal(forced.id, dirty.id);
    assert.equal(fs.existsSync(dirty.path), false);
    assert.deepEqual(await json<Worktree[]>(['worktree', 'list'], env), []);
  });

  it('repo remove forgets the repository and leaves its files alone', async () => {
    const remove = await runCli(['repo', 'remove', repo.id], env);
    assert.equal(remove.code, 0, remove.stderr);
    assert.equal(fields(remove.stdout).id, repo.id);
    assert.deepEqual(await json<Repo[]>(['repo', 'list'], env), []);
    assert.equal(fs.readFileSync(path.join(repoPath, 'README.md'), 'utf8'), '# project\n', 'a registered local repo is not deleted');
  });

  it('daemon stop', async () => {
    const stop = await runCli(['daemon', 'stop'], env);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /stopped/);
    assert.equal(isAlive(daemonPid!), false);
    assert.deepEqual(fs.readdirSync(env.HOME!), [], 'nothing written to the user\'s home');
  });
});
