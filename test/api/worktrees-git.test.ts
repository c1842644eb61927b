// Repos and worktrees against real git repositories made in the test: registering and cloning,
// worktrees on new and existing branches, archive, delete (dirty refused unless forced), name
// validation, owners, and server-set created_by.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Paginated } from '@feathersjs/feathers';
import { startTestDaemon, waitFor, type TestDaemon } from '../helpers/daemon.js';
import {
  TRANSPORTS,
  cleanupTempDirs,
  client,
  commitFiles,
  createSession,
  createTask,
  createWorktree,
  makeRepo,
  quickActor,
  outcome,
  ownerActor,
  plainGit,
  tempDir,
  uniqueName,
  type Actor,
} from '../helpers/worktree-fixture.js';
import type { PublicRepo } from '../../daemon/services/repos/repos.shared.js';
import type { PublicWorktree } from '../../daemon/services/worktrees/worktrees.shared.js';
import type { WorktreeOwner } from '../../daemon/services/worktree-owners/worktree-owners.shared.js';

let d: TestDaemon;
let owner: Actor;
let admin: Actor;
let member: Actor;
let member2: Actor;
/** A registered repository shared by the worktree tests: main plus a branch `existing`. */
let repo: PublicRepo;
let repoDir: string;
let existingHead: string;

before(async () => {
  d = await startTestDaemon({ execution: { worktree_rbac: true } });
  owner = await ownerActor(d);
  admin = await quickActor(d, 'admin');
  member = await quickActor(d, 'member');
  member2 = await quickActor(d, 'member');
  repoDir = makeRepo(path.join(tempDir('agor-wt-git-'), 'shared'), { 'README.md': 'hello\n', 'src/app.txt': 'v1\n' });
  plainGit(repoDir, 'checkout', '-q', '-b', 'existing');
  commitFiles(repoDir, { 'only-on-existing.txt': 'from the existing branch\n' }, 'work on existing');
  existingHead = plainGit(repoDir, 'rev-parse', 'HEAD').trim();
  plainGit(repoDir, 'checkout', '-q', 'main');
  repo = (await admin.rest.service('repos').create({ path: repoDir })) as PublicRepo;
});
after(async () => {
  await d.stop();
  cleanupTempDirs();
});

const worktreesDir = (repoName: string) => path.join(d.runtime.dataDir, 'worktrees', repoName);
const git = (dir: string, ...args: string[]) => plainGit(dir, ...args).trim();
const branches = () => git(repoDir, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/').split('\n').sort();

describe('repos', () => {
  it('an admin registers a local repository by path', async () => {
    const dir = makeRepo(path.join(tempDir('agor-wt-git-'), 'by-path'));
    const created = (await admin.rest.service('repos').create({ path: dir })) as PublicRepo;
    assert.equal(created.name, 'by-path');
    assert.equal(created.path, fs.realpathSync(dir));
    assert.equal(created.default_branch, 'main');
    assert.equal(created.managed, false);
    assert.equal(created.created_by, admin.id);
    // Registering leaves the repository where it is: nothing is copied into the data dir.
    assert.equal(fs.existsSync(path.join(d.runtime.dataDir, 'repos', 'by-path')), false);
    assert.equal(((await member.rest.service('repos').get(created.id)) as PublicRepo).id, created.id);
  });

  it('an admin clones a file:// URL; the progress lines reach only the caller\'s socket', async () => {
    const source = makeRepo(path.join(tempDir('agor-wt-git-'), 'upstream'), { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    commitFiles(source, { 'c.txt': 'c\n' }, 'second');
    const others = [owner.socket, member.socket, member2.socket];
    const mark = others.map((s) => s.events.length);
    const callerMark = admin.socket.events.length;
    const created = (await admin.socket.app.service('repos').create({ url: pathToFileURL(source).href, name: 'cloned' })) as PublicRepo;
    assert.equal(created.managed, true);
    assert.equal(created.path, path.join(fs.realpathSync(d.runtime.dataDir), 'repos', 'cloned'));
    assert.equal(git(created.path, 'log', '-1', '--format=%s'), 'second');
    await waitFor(() => admin.socket.events.slice(callerMark).some((e) => e.event === 'repos progress'), 3000, 'clone progress on the caller\'s socket');
    const progress = admin.socket.events.slice(callerMark).filter((e) => e.event === 'repos progress').map((e) => e.args[0] as { user_id: string; name: string; line: string });
    assert.ok(progress.every((p) => p.user_id === admin.id && p.name === 'cloned' && typeof p.line === 'string'));
    // Everyone signed in hears that a repo was created, but nobody else hears its progress.
    await waitFor(() => others.every((s) => s.events.some((e) => e.event === 'repos created')), 3000, 'the created event');
    others.forEach((s, i) => assert.deepEqual(s.events.slice(mark[i]).filter((e) => e.event === 'repos progress'), [], 'progress on another user\'s socket'));
  });

  it('a member may not add a local path or a file:// URL (Forbidden), on either transport', async () => {
    const dir = makeRepo(path.join(tempDir('agor-wt-git-'), 'member-local'));
    const before = await d.app.get('db')('repos').count({ n: '*' });
    for (const transport of TRANSPORTS) {
      assert.equal(await outcome(client(member, transport).service('repos').create({ path: dir, name: `member-path-${transport}` })), 'Forbidden');
      assert.equal(await outcome(client(member, transport).service('repos').create({ url: pathToFileURL(dir).href, name: `member-url-${transport}` })), 'Forbidden');
    }
    assert.deepEqual(await d.app.get('db')('repos').count({ n: '*' }), before);
    assert.equal(fs.existsSync(path.join(d.runtime.dataDir, 'repos', 'member-url-rest')), false);
  });

  it('a repo with worktrees cannot be removed (409); once they are gone it can', async () => {
    const dir = makeRepo(path.join(tempDir('agor-wt-git-'), 'removable'));
    const r = (await admin.rest.service('repos').create({ path: dir })) as PublicRepo;
    const wt = await createWorktree(member, r.id);
    const refused = await admin.rest.service('repos').remove(r.id).catch((e: { name: string; code: number }) => e);
    assert.deepEqual([(refused as { name: string }).name, (refused as { code: number }).code], ['Conflict', 409]);
    assert.equal(((await admin.rest.service('repos').get(r.id)) as PublicRepo).id, r.id);
    await member.rest.service('worktrees').remove(wt.id);
    await admin.socket.app.service('repos').remove(r.id);
    assert.equal(await outcome(admin.rest.service('repos').get(r.id)), 'NotFound');
    // An unmanaged repository stays on disk: agor only forgets it.
    assert.ok(fs.existsSync(path.join(dir, '.git')));
  });
});

describe('worktrees on real branches', () => {
  it('on a new branch: made under <data_dir>/worktrees/<repo>/<name>, the new branch checked out from HEAD', async () => {
    const name = uniqueName('feature');
    const wt = (await member.rest.service('worktrees').create({ repo_id: repo.id, name })) as PublicWorktree;
    const dir = path.join(worktreesDir(repo.name), name);
    assert.equal(wt.path, dir);
    assert.equal(wt.branch, name);
    assert.ok(fs.statSync(dir).isDirectory());
    assert.equal(git(dir, 'rev-parse', '--abbrev-ref', 'HEAD'), name);
    assert.equal(git(dir, 'rev-parse', 'HEAD'), git(repoDir, 'rev-parse', 'main'));
    assert.equal(fs.readFileSync(path.join(dir, 'src/app.txt'), 'utf8'), 'v1\n');
    // Its own repository: the branch is in it, not in the shared repository.
    assert.ok(!branches().includes(name));
    assert.ok(fs.statSync(path.join(dir, '.git')).isDirectory());
    // Defaults, and the creator is the owner.
    assert.deepEqual([wt.others_can, wt.others_fs_access, wt.dangerously_allow_session_sharing, wt.archived], ['session', 'read', false, false]);
    assert.deepEqual(wt.owners, [member.id]);
    assert.equal(wt.created_by, member.id);
  });

  it('on a new branch from a base, named differently from the worktree', async () => {
    const name = uniqueName('based');
    const branch = `topic/${name}`;
    const wt = (await member.socket.app.service('worktrees').create({ repo_id: repo.id, name, branch, base: 'existing' })) as PublicWorktree;
    assert.equal(wt.branch, branch);
    assert.equal(git(wt.path, 'rev-parse', '--abbrev-ref', 'HEAD'), branch);
    assert.equal(git(wt.path, 'rev-parse', 'HEAD'), existingHead);
  });

  it('on an existing branch: that branch and its commits are checked out', async () => {
    const name = uniqueName('on-existing');
    const before = branches();
    const wt = (await member.rest.service('worktrees').create({ repo_id: repo.id, name, branch: 'existing' })) as PublicWorktree;
    assert.equal(wt.branch, 'existing');
    assert.equal(git(wt.path, 'rev-parse', '--abbrev-ref', 'HEAD'), 'existing');
    assert.equal(git(wt.path, 'rev-parse', 'HEAD'), existingHead);
    assert.equal(fs.readFileSync(path.join(wt.path, 'only-on-existing.txt'), 'utf8'), 'from the existing branch\n');
    assert.deepEqual(branches(), before, 'no branch was created');
    // A branch name is used by one worktree of a repository at a time.
    const again = await member.rest.service('worktrees').create({ repo_id: repo.id, name: uniqueName('again'), branch: 'existing' }).catch((e: { name: string }) => e);
    assert.equal((again as { name: string }).name, 'Conflict');
    await member.rest.service('worktrees').remove(wt.id);
  });

  it('archive keeps the directory and the branch; the record says archived', async () => {
    const wt = await createWorktree(member, repo.id);
    const patched = (await member.socket.app.service('worktrees').patch(wt.id, { archived: true })) as PublicWorktree;
    assert.equal(patched.archived, true);
    assert.ok(fs.existsSync(wt.path));
    assert.equal(git(wt.path, 'rev-parse', '--abbrev-ref', 'HEAD'), wt.branch);
    const archived = (await member.rest.service('worktrees').find({ query: { archived: true, repo_id: repo.id, $limit: 1000 } })) as Paginated<PublicWorktree>;
    assert.ok(archived.data.some((w) => w.id === wt.id));
    const active = (await member.rest.service('worktrees').find({ query: { archived: false, repo_id: repo.id, $limit: 1000 } })) as Paginated<PublicWorktree>;
    assert.ok(!active.data.some((w) => w.id === wt.id));
  });

  it('delete: refused with uncommitted or untracked changes (409) unless force=true; then the directory is gone', async () => {
    for (const transport of TRANSPORTS) {
      const wt = await createWorktree(member, repo.id);
      fs.writeFileSync(path.join(wt.path, 'README.md'), 'edited, not committed\n');
      fs.writeFileSync(path.join(wt.path, 'untracked.txt'), 'new\n');
      const app = client(member, transport);
      const refused = await app.service('worktrees').remove(wt.id).catch((e: { name: string; code: number }) => e);
      assert.deepEqual([(refused as { name: string }).name, (refused as { code: number }).code], ['Conflict', 409], transport);
      assert.ok(fs.existsSync(path.join(wt.path, 'untracked.txt')), 'nothing was removed');
      assert.equal(((await app.service('worktrees').get(wt.id)) as PublicWorktree).id, wt.id);
      await app.service('worktrees').remove(wt.id, { query: { force: true } });
      assert.equal(fs.existsSync(wt.path), false);
      assert.equal(await outcome(app.service('worktrees').get(wt.id)), 'NotFound');
      assert.ok(!git(repoDir, 'worktree', 'list', '--porcelain').includes(wt.path), 'the repository never knew it as a linked worktree');
    }
  });

  it('delete of a clean worktree needs no force', async () => {
    const wt = await createWorktree(member, repo.id);
    await member.rest.service('worktrees').remove(wt.id);
    assert.equal(fs.existsSync(wt.path), false);
  });

  it('concurrent creates and deletes in one repository all succeed', async () => {
    // git cannot add and remove worktrees of one repository at the same time; the daemon queues them.
    let live = await Promise.all(Array.from({ length: 8 }, () => createWorktree(member, repo.id)));
    for (let round = 0; round < 3; round++) {
      const gone = live;
      const results = await Promise.all([
        ...gone.map((w, i) => (i % 2 ? member.rest : member.socket.app).service('worktrees').remove(w.id).then(() => null)),
        ...Array.from({ length: 8 }, () => createWorktree(member, repo.id)),
      ]);
      live = results.filter((r): r is PublicWorktree => r !== null);
      assert.equal(live.length, 8);
      assert.ok(gone.every((w) => !fs.existsSync(w.path)) && live.every((w) => fs.existsSync(w.path)));
    }
    await Promise.all(live.map((w) => member.rest.service('worktrees').remove(w.id)));
  });

  it('bad names are 400 and create no directory, branch or record', async () => {
    const bad = ['../x', 'a b', '-rf', 'x/y', '', 'n'.repeat(65), '.hidden', 'a..b', '/abs', 'tab\tname', 'x\u0000y'];
    const listing = () => (fs.existsSync(worktreesDir(repo.name)) ? fs.readdirSync(worktreesDir(repo.name)).sort() : []);
    const beforeDirs = listing();
    const beforeData = fs.readdirSync(d.runtime.dataDir).sort();
    const beforeWorktreesRoot = fs.readdirSync(path.join(d.runtime.dataDir, 'worktrees')).sort();
    const beforeBranches = branches();
    const beforeRows = await d.app.get('db')('worktrees').count({ n: '*' });
    for (const transport of TRANSPORTS) {
      for (const name of bad) {
        const error = await client(member, transport).service('worktrees').create({ repo_id: repo.id, name }).catch((e: { name: string; code: number }) => e);
        assert.deepEqual([(error as { name?: string }).name, (error as { code?: number }).code], ['BadRequest', 400], `${transport} ${JSON.stringify(name)}`);
      }
      // A bad branch is refused the same way, before git runs.
      for (const branch of ['-rf', 'a b', '../x', 'x..y', 'x~1']) {
        assert.equal(await outcome(client(member, transport).service('worktrees').create({ repo_id: repo.id, name: uniqueName('badbranch'), branch })), 'BadRequest', `branch ${branch}`);
      }
    }
    assert.deepEqual(listing(), beforeDirs);
    assert.deepEqual(fs.readdirSync(d.runtime.dataDir).sort(), beforeData);
    assert.deepEqual(fs.readdirSync(path.join(d.runtime.dataDir, 'worktrees')).sort(), beforeWorktreesRoot);
    assert.equal(fs.existsSync(path.join(worktreesDir(repo.name), '..', 'x')), false);
    assert.deepEqual(branches(), beforeBranches);
    assert.deepEqual(await d.app.get('db')('worktrees').count({ n: '*' }), beforeRows);
  });
});

describe("a new worktree's base is a branch the caller may see", () => {
  it("from an invisible worktree's branch: 400 with the same sentence as a missing branch, nothing created; from a viewable one: its files", async () => {
    const secret = await createWorktree(member, repo.id, { others_can: 'none' });
    commitFiles(secret.path, { 'secret.txt': 'only for member\n' }, 'private work');
    const shared = await createWorktree(member, repo.id, { others_can: 'view' });
    commitFiles(shared.path, { 'shared.txt': 'for everyone who may view\n' }, 'shared work');
    const rows = async () => Number((await d.app.get('db')('worktrees').count({ n: '*' }))[0].n);
    const listing = () => fs.readdirSync(worktreesDir(repo.name)).sort();
    const [rowsBefore, dirsBefore] = [await rows(), listing()];
    for (const transport of TRANSPORTS) {
      for (const base of [secret.branch, 'no-such-branch']) {
        const name = uniqueName('stolen');
        const error = await client(member2, transport).service('worktrees').create({ repo_id: repo.id, name, base }).catch((e: { name: string; code: number; message: string }) => e);
        assert.deepEqual([(error as { name: string }).name, (error as { code: number }).code], ['BadRequest', 400], `${transport} base ${base}`);
        assert.match((error as { message: string }).message, /is not a branch you may see in repo/);
      }
    }
    assert.deepEqual([await rows(), listing()], [rowsBefore, dirsBefore], 'nothing was created');
    // The viewable worktree's branch is a fine base; the invisible one's commits are not in the result.
    const mine = (await member2.rest.service('worktrees').create({ repo_id: repo.id, name: uniqueName('from-shared'), base: shared.branch })) as PublicWorktree;
    assert.equal(fs.readFileSync(path.join(mine.path, 'shared.txt'), 'utf8'), 'for everyone who may view\n');
    assert.equal(fs.existsSync(path.join(mine.path, 'secret.txt')), false);
    const secretHead = git(secret.path, 'rev-parse', 'HEAD');
    assert.notEqual(spawnSync('git', ['-C', mine.path, 'cat-file', '-e', secretHead]).status, 0, "the invisible worktree's commit is not reachable from the new one");
    // The owner may base on its own private worktree; the repository's own branches are for everyone.
    const own = (await member.rest.service('worktrees').create({ repo_id: repo.id, name: uniqueName('from-secret'), base: secret.branch })) as PublicWorktree;
    assert.ok(fs.existsSync(path.join(own.path, 'secret.txt')));
    const fromMain = (await member2.rest.service('worktrees').create({ repo_id: repo.id, name: uniqueName('from-main'), base: 'main' })) as PublicWorktree;
    assert.equal(git(fromMain.path, 'rev-parse', 'HEAD'), git(repoDir, 'rev-parse', 'main'));
  });
});

describe('a nested repository planted in a worktree', () => {
  it('deleting the worktree without force runs none of its filters (marker never appears)', async () => {
    const wt = await createWorktree(member, repo.id);
    const markerDir = tempDir('agor-wt-marker-');
    const marker = path.join(markerDir, 'ran');
    const nested = path.join(wt.path, 'nested');
    fs.mkdirSync(nested);
    git(nested, 'init', '-q', '-b', 'main');
    commitFiles(nested, { 'inner.txt': 'inner\n', '.gitattributes': '* filter=x\n' }, 'nested');
    fs.writeFileSync(path.join(wt.path, '.gitattributes'), '* filter=x\n');
    git(wt.path, 'add', '.gitattributes', 'nested');
    git(wt.path, 'commit', '-q', '-m', 'nested repository');
    const filter = `sh -c 'touch ${marker}; cat'`;
    git(nested, 'config', 'filter.x.clean', filter);
    git(wt.path, 'config', 'filter.x.clean', filter);
    fs.writeFileSync(path.join(nested, 'inner.txt'), 'changed inside\n');
    // Control: plain git recursing into the nested repository runs the filter.
    spawnSync('git', ['-C', wt.path, 'status', '--ignore-submodules=none'], { env: { PATH: '/usr/bin:/bin', HOME: markerDir, GIT_CONFIG_NOSYSTEM: '1' } });
    assert.ok(fs.existsSync(marker), 'the planted filter is live');
    fs.rmSync(marker);
    await member.rest.service('worktrees').remove(wt.id);
    assert.equal(fs.existsSync(wt.path), false);
    assert.equal(fs.existsSync(marker), false, 'the daemon ran the planted filter');
  });
});

describe('owners', () => {
  const owners = async (wtId: string) => ((await member2.rest.service(`worktrees/${wtId}/owners`).find()) as WorktreeOwner[]).map((o) => o.user_id).sort();

  it('add and remove owners; a worktree always keeps at least one', async () => {
    const wt = await createWorktree(member, repo.id);
    const svc = (a: Actor) => a.socket.app.service(`worktrees/${wt.id}/owners`);
    await svc(member).create({ user_id: member2.id });
    assert.deepEqual(await owners(wt.id), [member.id, member2.id].sort());
    // The second owner can act as one at once; the first may step down.
    await svc(member2).remove(member.id);
    assert.deepEqual(await owners(wt.id), [member2.id]);
    // The last owner cannot leave.
    const last = await svc(member2).remove(member2.id).catch((e: { name: string; message: string }) => e);
    assert.equal((last as { name: string }).name, 'Forbidden');
    assert.match((last as { message: string }).message, /at least one owner/);
    assert.deepEqual(await owners(wt.id), [member2.id]);
    // The former owner is an ordinary user now (others_can defaults to session: owner acts are refused).
    assert.equal(await outcome(svc(member).create({ user_id: member.id })), 'Forbidden');
    assert.equal(await outcome(member.rest.service('worktrees').remove(wt.id)), 'Forbidden');
    // Removing someone who is not an owner is NotFound; adding an unknown user is 400.
    assert.equal(await outcome(svc(member2).remove(admin.id)), 'NotFound');
    assert.equal(await outcome(svc(member2).create({ user_id: 'no-such-user' })), 'BadRequest');
    assert.equal(await outcome(svc(member2).create({ user_id: member.id, role: 'owner' })), 'BadRequest');
  });
});

describe('break-glass', () => {
  it("an admin making itself an owner is logged, and the worktree's owners (only) read it in the audit log", async () => {
    const wt = await createWorktree(member, repo.id, { others_can: 'none' });
    const lines: string[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
    try {
      await admin.socket.app.service(`worktrees/${wt.id}/owners`).create({ user_id: admin.id });
    } finally {
      console.warn = warn;
    }
    assert.equal(lines.filter((l) => l.startsWith('[SECURITY]') && l.includes(wt.id) && l.includes(admin.email)).length, 1);
    const query = { query: { action: 'worktree.break_glass', worktree_id: wt.id } };
    const seen = (await member.rest.service('audit').find(query)) as Paginated<{ actor: string; worktree_id: string }>;
    assert.deepEqual(seen.data.map((e) => [e.actor, e.worktree_id]), [[admin.id, wt.id]]);
    // An owner's view of the log is its own worktrees' events, nothing else.
    const all = (await member.rest.service('audit').find({ query: { $limit: 1000 } })) as Paginated<{ worktree_id: string | null }>;
    const owned = new Set<string>(await d.app.get('db')('worktree_owners').where('user_id', member.id).pluck('worktree_id'));
    assert.ok(all.data.length > 0 && all.data.every((e) => e.worktree_id !== null && owned.has(e.worktree_id)));
    // A member who owns nothing reads nothing.
    const outsider = await quickActor(d, 'member', 'outsider');
    assert.equal(await outcome(outsider.rest.service('audit').find(query)), 'Forbidden');
  });
});

describe('created_by is the server\'s', () => {
  it('a client-supplied created_by on a session or a task is 400 and creates nothing; it cannot be patched either', async () => {
    const wt = await createWorktree(member, repo.id, { others_can: 'all' });
    const session = await createSession(member, wt.id);
    const db = d.app.get('db');
    const count = async (table: string) => Number((await db(table).count({ n: '*' }))[0].n);
    const [sessionsBefore, tasksBefore] = [await count('sessions'), await count('tasks')];
    for (const transport of TRANSPORTS) {
      const app = client(member2, transport);
      const forged = [
        () => app.service('sessions').create({ worktree_id: wt.id, agent: 'claude-code', created_by: member.id }),
        () => app.service('sessions').create({ worktree_id: wt.id, agent: 'claude-code', created_by: member2.id }),
        () => app.service('sessions').create({ fork_from: session.id, created_by: member.id }),
        () => app.service('tasks').create({ session_id: session.id, prompt: 'hi', created_by: member.id }),
        () => app.service('tasks').create({ session_id: session.id, prompt: 'hi', executed_as: member2.id }),
        () => app.service('sessions').patch(session.id, { created_by: member2.id }),
      ];
      for (const [i, call] of forged.entries()) {
        const error = await call().catch((e: { name: string; message: string }) => e);
        assert.equal((error as { name?: string }).name, 'BadRequest', `${transport} forged call #${i}`);
      }
    }
    assert.deepEqual([await count('sessions'), await count('tasks')], [sessionsBefore, tasksBefore]);
    assert.equal(((await member.rest.service('sessions').get(session.id)) as { created_by: string }).created_by, member.id);
    // Without it, the server sets the caller.
    const mine = await createSession(member2, wt.id, 'socket');
    assert.equal(mine.created_by, member2.id);
    const task = await createTask(member2, session.id);
    assert.deepEqual([task.created_by, task.executed_as], [member2.id, member.id]);
  });
});

describe('pagination', () => {
  it('a page past the end is empty but still reports the total (worktrees, sessions, repos, boards)', async () => {
    const wt = await createWorktree(member, repo.id);
    await createSession(member, wt.id);
    await createSession(member, wt.id);
    await member.rest.service('boards').create({ name: uniqueName('board') });
    const lists: [string, Record<string, unknown>][] = [
      ['worktrees', { repo_id: repo.id }],
      ['sessions', { worktree_id: wt.id }],
      ['repos', {}],
      ['boards', {}],
    ];
    for (const [service, filter] of lists) {
      const all = (await member.rest.service(service).find({ query: { ...filter, $limit: 1000 } })) as Paginated<unknown>;
      assert.ok(all.total >= 1 && all.total === all.data.length, `${service}: ${all.total} rows listed`);
      const past = (await member.rest.service(service).find({ query: { ...filter, $skip: all.total + 5, $limit: 10 } })) as Paginated<unknown>;
      assert.deepEqual(past.data, [], service);
      assert.equal(past.total, all.total, `${service}: the total of a page past the end`);
    }
    // Scoped: the other member, who cannot view this worktree's sessions, is told 0 — not the count.
    await member.rest.service('worktrees').patch(wt.id, { others_can: 'none' });
    const hidden = (await member2.rest.service('sessions').find({ query: { worktree_id: wt.id, $skip: 5 } })) as Paginated<unknown>;
    assert.equal(hidden.total, 0);
  });
});
