// The threat: whoever can write in a repository's git metadata or a worktree plants programs for
// git to run (hooks, core.hooksPath, core.fsmonitor, core.sshCommand, filters, includes, ...),
// then waits for the daemon to run git there. Each vector below is planted in a fresh repository,
// shown to be live (plain git runs it: the "control"), and then the daemon's operations are run
// through the git module: no planted program may run (a marker file per program proves it).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { GitError, UnsafeRepositoryError, ValidationError, WorktreeDirtyError } from './errors.js';
import { cloneRepo, inspectRepo, listBranches } from './repos.js';
import { runGit } from './runner.js';
import { addWorktree, removeWorktree, worktreeIsDirty } from './worktrees.js';
import { cleanupTempDirs, clearRan, commitFiles, evilProgram, isRoot, makeRepo, plainEnv, plainGit, plainGitTry, plantHooks, ranPrograms, tempDir } from './test-support.js';

after(cleanupTempDirs);

interface Fixture {
  root: string;
  src: string;
  repo: string;
  wts: string;
  markers: string;
  /** A worktree made before anything was planted, as an agent's worktree would be. */
  victim: string;
  victimAdmin: string;
}

const ATTRIBUTES = '*.txt filter=x diff=t merge=m\n*.dat filter=p\n*.odd filter=We=ird.Name diff=We=ird.Name\n';

function fixture(): Fixture {
  const root = tempDir();
  const markers = path.join(root, 'm');
  fs.mkdirSync(path.join(markers, 'ran'), { recursive: true });
  const src = makeRepo(path.join(root, 'src'), { '.gitattributes': ATTRIBUTES, 'a.txt': 'a\n', 'data.dat': 'd\n', 'x.odd': 'odd\n' });
  plainGit(src, 'branch', 'existing');
  plainGit(src, 'checkout', '-q', '-b', 'side1');
  commitFiles(src, { 'a.txt': 'side one\n' }, 'side1');
  plainGit(src, 'checkout', '-q', '-b', 'side2', 'main');
  commitFiles(src, { 'a.txt': 'side two\n' }, 'side2');
  plainGit(src, 'checkout', '-q', 'main');
  commitFiles(src, { 'a.txt': 'a, second version\n' }, 'second'); // HEAD touches a.txt: textconv runs on `show`
  const repo = path.join(root, 'repo');
  plainGit(root, 'clone', '-q', src, repo);
  plainGit(repo, 'remote', 'set-url', 'origin', `file://${src}`);
  for (const b of ['existing', 'side1', 'side2']) plainGit(repo, 'branch', '-q', b, `origin/${b}`);
  plainGit(repo, 'config', 'user.name', 'Daemon');
  plainGit(repo, 'config', 'user.email', 'daemon@example.invalid');
  const wts = path.join(root, 'wts');
  fs.mkdirSync(wts);
  const victim = path.join(wts, 'victim');
  plainGit(repo, 'worktree', 'add', '-q', '-b', 'victim', victim);
  return { root, src, repo, wts, markers, victim, victimAdmin: path.join(repo, '.git', 'worktrees', 'victim') };
}

function setConfig(fx: Fixture, key: string, value: string, file = path.join(fx.repo, '.git', 'config')): void {
  plainGit(fx.repo, 'config', '--file', file, key, value);
}

function bumpMtimes(dir: string): void {
  const later = new Date(Date.now() + 60_000);
  for (const f of ['a.txt', 'data.dat']) if (fs.existsSync(path.join(dir, f))) fs.utimesSync(path.join(dir, f), later, later);
}

type Outcome = 'ok' | Error;

/** Everything the daemon does with git, through the module; returns each step's outcome. */
async function exercise(fx: Fixture): Promise<Record<string, Outcome>> {
  const out: Record<string, Outcome> = {};
  const step = async (name: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      out[name] = 'ok';
    } catch (error) {
      out[name] = error as Error;
    }
  };
  const wt = path.join(fx.wts, 'new');
  await step('inspectRepo', () => inspectRepo(fx.repo));
  await step('listBranches', () => listBranches(fx.repo));
  await step('addWorktree new branch', () => addWorktree(fx.repo, wt, { branch: 'new', createBranch: true }));
  await step('addWorktree existing branch', () => addWorktree(fx.repo, path.join(fx.wts, 'ex'), { branch: 'existing', createBranch: false }));
  // A worktree is its own repository now: the identity it runs as sets its own name there.
  if (fs.existsSync(wt)) for (const [k, v] of [['user.name', 'Daemon'], ['user.email', 'daemon@example.invalid']]) plainGit(wt, 'config', k!, v!);
  bumpMtimes(wt);
  bumpMtimes(fx.victim);
  await step('worktreeIsDirty', () => worktreeIsDirty(fx.repo, wt));
  await step('worktreeIsDirty victim', () => worktreeIsDirty(fx.repo, fx.victim));
  await step('status (discovered)', () => runGit(['status', '--porcelain'], { cwd: wt }));
  await step('status victim (discovered)', () => runGit(['status', '--porcelain'], { cwd: fx.victim }));
  if (fs.existsSync(wt)) fs.writeFileSync(path.join(wt, 'a.txt'), 'changed by the daemon\n');
  await step('diff', () => runGit(['diff'], { cwd: wt }));
  await step('log -p', () => runGit(['log', '-p', '-2'], { cwd: fx.repo }));
  await step('show', () => runGit(['show', 'HEAD'], { cwd: fx.repo }));
  await step('log -p x.odd', () => runGit(['log', '-p', '--all', '--', 'x.odd'], { cwd: fx.repo }));
  await step('commit', () => runGit(['commit', '-q', '-am', 'daemon commit', '--trailer', 'sign: daemon'], { cwd: wt }));
  await step('commit without message', () => runGit(['commit', '--allow-empty'], { cwd: wt }));
  await step('fetch origin', () => runGit(['fetch', '-q', 'origin'], { cwd: fx.repo, allowProtocols: ['file'] }));
  await step('ls-remote over ssh', () => runGit(['ls-remote', 'ssh://example.invalid/r'], { cwd: fx.repo }));
  await step('alias', () => runGit(['st'], { cwd: fx.repo }));
  await step('addWorktree side1', () => addWorktree(fx.repo, path.join(fx.wts, 'side'), { branch: 'side1', createBranch: false }));
  await step('merge', () => runGit(['merge', '-q', '--no-edit', 'side2'], { cwd: path.join(fx.wts, 'side') }));
  fs.writeFileSync(path.join(fx.victim, 'untracked.txt'), 'x');
  await step('removeWorktree dirty', () => removeWorktree(fx.repo, fx.victim, { force: false }));
  await step('removeWorktree forced', () => removeWorktree(fx.repo, fx.victim, { force: true }));
  await step('removeWorktree clean', () => removeWorktree(fx.repo, path.join(fx.wts, 'ex'), { force: false }));
  await step('removeWorktree side', () => removeWorktree(fx.repo, path.join(fx.wts, 'side'), { force: true }));
  await step('clone', () => cloneRepo(fx.repo, path.join(fx.root, `clone-${Date.now()}`)));
  return out;
}

const MUST_SUCCEED = [
  'inspectRepo', 'listBranches', 'addWorktree new branch', 'addWorktree existing branch', 'worktreeIsDirty', 'worktreeIsDirty victim',
  'status (discovered)', 'diff', 'log -p', 'show', 'log -p x.odd', 'commit', 'fetch origin', 'addWorktree side1', 'removeWorktree forced',
  'removeWorktree clean', 'removeWorktree side', 'clone',
];

function assertExercised(out: Record<string, Outcome>, except: string[] = []): void {
  const failed = MUST_SUCCEED.filter((s) => !except.includes(s) && out[s] !== 'ok').map((s) => `${s}: ${(out[s] as Error)?.message}`);
  assert.deepEqual(failed, [], 'the daemon operations themselves still work');
  // The refusals that are part of the design:
  assert.ok(out['ls-remote over ssh'] instanceof GitError && /transport 'ssh' not allowed/.test(out['ls-remote over ssh'].message));
  assert.ok(out['alias'] instanceof ValidationError);
  assert.ok(out['commit without message'] instanceof GitError, 'editors are pinned to `false`');
  assert.ok(out['removeWorktree dirty'] instanceof WorktreeDirtyError);
}

interface Vector {
  name: string;
  plant(fx: Fixture): void;
  /** Plain git, to show the planted program is live; returns the programs expected to have run. */
  control(fx: Fixture): string[];
  /** Steps of the exercise the vector legitimately breaks. */
  breaks?: string[];
  check?: (out: Record<string, Outcome>) => void;
}

const vectors: Vector[] = [
  {
    name: 'executable hooks in .git/hooks',
    plant: (fx) => plantHooks(path.join(fx.repo, '.git', 'hooks'), fx.markers, 'hooks'),
    control: (fx) => {
      plainGitTry(fx.repo, ['worktree', 'add', '-q', '-b', 'ctl', path.join(fx.wts, 'ctl')]);
      plainGitTry(fx.repo, ['commit', '-q', '--allow-empty', '-m', 'ctl']);
      return ['hooks-post-checkout', 'hooks-pre-commit', 'hooks-reference-transaction'];
    },
  },
  {
    name: 'core.hooksPath',
    plant: (fx) => {
      plantHooks(path.join(fx.root, 'planted-hooks'), fx.markers, 'hookspath');
      setConfig(fx, 'core.hooksPath', path.join(fx.root, 'planted-hooks'));
    },
    control: (fx) => {
      plainGitTry(fx.repo, ['commit', '-q', '--allow-empty', '-m', 'ctl']);
      return ['hookspath-pre-commit', 'hookspath-post-commit'];
    },
  },
  {
    name: 'core.fsmonitor',
    plant: (fx) => setConfig(fx, 'core.fsmonitor', evilProgram(fx.markers, 'fsmonitor')),
    control: (fx) => {
      plainGitTry(fx.repo, ['status']);
      return ['fsmonitor'];
    },
  },
  {
    name: 'core.sshCommand',
    plant: (fx) => {
      setConfig(fx, 'core.sshCommand', evilProgram(fx.markers, 'ssh-command', 'exit'));
      setConfig(fx, 'remote.sshremote.url', 'ssh://example.invalid/r');
    },
    control: (fx) => {
      plainGitTry(fx.repo, ['ls-remote', 'sshremote']);
      return ['ssh-command'];
    },
  },
  {
    name: 'filter.<x>.smudge/clean with .gitattributes',
    plant: (fx) => {
      setConfig(fx, 'filter.x.smudge', evilProgram(fx.markers, 'smudge'));
      setConfig(fx, 'filter.x.clean', evilProgram(fx.markers, 'clean'));
    },
    control: (fx) => {
      plainGitTry(fx.repo, ['worktree', 'add', '-q', '-b', 'ctl', path.join(fx.wts, 'ctl')]);
      bumpMtimes(fx.victim);
      plainGitTry(fx.victim, ['status']);
      return ['clean', 'smudge'];
    },
  },
  {
    name: 'filter.<x>.process (required)',
    plant: (fx) => {
      setConfig(fx, 'filter.p.process', evilProgram(fx.markers, 'process-filter'));
      setConfig(fx, 'filter.p.required', 'true');
    },
    control: (fx) => {
      plainGitTry(fx.repo, ['worktree', 'add', '-q', '-b', 'ctl', path.join(fx.wts, 'ctl')]);
      return ['process-filter'];
    },
  },
  {
    name: 'a filter and textconv whose driver name holds "=", "." and capitals',
    plant: (fx) => {
      setConfig(fx, 'filter.We=ird.Name.smudge', evilProgram(fx.markers, 'odd-smudge'));
      setConfig(fx, 'diff.We=ird.Name.textconv', evilProgram(fx.markers, 'odd-textconv'));
    },
    control: (fx) => {
      plainGitTry(fx.repo, ['worktree', 'add', '-q', '-b', 'ctl', path.join(fx.wts, 'ctl')]);
      plainGitTry(fx.repo, ['log', '-p', '--all', '--', 'x.odd']);
      return ['odd-smudge', 'odd-textconv'];
    },
  },
  {
    name: 'diff.<x>.textconv',
    plant: (fx) => setConfig(fx, 'diff.t.textconv', evilProgram(fx.markers, 'textconv')),
    control: (fx) => {
      plainGitTry(fx.repo, ['show', 'HEAD']);
      return ['textconv'];
    },
  },
  {
    name: 'diff.external and diff.<x>.command',
    plant: (fx) => {
      setConfig(fx, 'diff.external', evilProgram(fx.markers, 'diff-external'));
      setConfig(fx, 'diff.t.command', evilProgram(fx.markers, 'diff-command'));
    },
    control: (fx) => {
      fs.writeFileSync(path.join(fx.victim, 'a.txt'), 'control\n'); // diff=t: the driver's command
      fs.writeFileSync(path.join(fx.victim, 'data.dat'), 'control\n'); // no diff driver: diff.external
      plainGitTry(fx.victim, ['diff']);
      plainGitTry(fx.victim, ['checkout', '--', 'a.txt', 'data.dat']);
      return ['diff-command', 'diff-external'];
    },
  },
  {
    name: 'merge.<x>.driver',
    plant: (fx) => setConfig(fx, 'merge.m.driver', evilProgram(fx.markers, 'merge-driver')),
    control: (fx) => {
      const ctl = path.join(fx.wts, 'ctl');
      plainGitTry(fx.repo, ['worktree', 'add', '-q', ctl, 'side1']);
      plainGitTry(ctl, ['merge', '--no-edit', 'side2']);
      plainGitTry(fx.repo, ['worktree', 'remove', '--force', ctl]);
      return ['merge-driver'];
    },
  },
  {
    name: 'gpg.program with commit.gpgSign',
    plant: (fx) => {
      setConfig(fx, 'commit.gpgSign', 'true');
      setConfig(fx, 'gpg.program', evilProgram(fx.markers, 'gpg'));
    },
    control: (fx) => {
      plainGitTry(fx.repo, ['commit', '-q', '--allow-empty', '-m', 'ctl']);
      return ['gpg'];
    },
  },
  {
    name: 'core.editor and sequence.editor',
    plant: (fx) => {
      setConfig(fx, 'core.editor', evilProgram(fx.markers, 'editor'));
      setConfig(fx, 'sequence.editor', evilProgram(fx.markers, 'sequence-editor'));
    },
    control: (fx) => {
      plainGitTry(fx.repo, ['commit', '-q', '--allow-empty']);
      return ['editor'];
    },
  },
  {
    name: 'remote.<x>.uploadpack and receivepack (refused when the file transport is allowed)',
    plant: (fx) => {
      setConfig(fx, 'remote.origin.uploadpack', evilProgram(fx.markers, 'uploadpack'));
      setConfig(fx, 'remote.origin.receivepack', evilProgram(fx.markers, 'receivepack'));
    },
    control: (fx) => {
      plainGitTry(fx.repo, ['fetch', 'origin']);
      plainGitTry(fx.repo, ['push', 'origin', 'existing']);
      return ['receivepack', 'uploadpack'];
    },
    breaks: ['fetch origin'],
    check: (out) => {
      assert.ok(out['fetch origin'] instanceof UnsafeRepositoryError && /remote\.origin\.(upload|receive)pack/.test(out['fetch origin'].message), String(out['fetch origin']));
    },
  },
  {
    name: 'alias.<x> = !command',
    plant: (fx) => setConfig(fx, 'alias.st', `!${evilProgram(fx.markers, 'alias')}`),
    control: (fx) => {
      plainGitTry(fx.repo, ['st']);
      return ['alias'];
    },
  },
  {
    name: 'trailer.<x>.command',
    plant: (fx) => setConfig(fx, 'trailer.sign.command', evilProgram(fx.markers, 'trailer')),
    control: (fx) => {
      plainGitTry(fx.repo, ['commit', '-q', '--allow-empty', '-m', 'ctl', '--trailer', 'sign: x']);
      return ['trailer'];
    },
  },
  {
    name: 'extensions.worktreeConfig + <admin>/config.worktree of the agent worktree',
    plant: (fx) => {
      setConfig(fx, 'extensions.worktreeConfig', 'true');
      const file = path.join(fx.victimAdmin, 'config.worktree');
      plantHooks(path.join(fx.root, 'wt-hooks'), fx.markers, 'wt-hookspath');
      setConfig(fx, 'core.fsmonitor', evilProgram(fx.markers, 'wt-fsmonitor'), file);
      setConfig(fx, 'core.hooksPath', path.join(fx.root, 'wt-hooks'), file);
      setConfig(fx, 'filter.x.clean', evilProgram(fx.markers, 'wt-clean'), file);
      setConfig(fx, 'filter.x.smudge', evilProgram(fx.markers, 'wt-smudge'), file);
    },
    control: (fx) => {
      bumpMtimes(fx.victim);
      plainGitTry(fx.victim, ['status']);
      plainGitTry(fx.victim, ['commit', '-q', '--allow-empty', '-m', 'ctl']);
      return ['wt-clean', 'wt-fsmonitor', 'wt-hookspath-pre-commit'];
    },
  },
  {
    name: "the agent worktree's .git file pointed at a repository of its making",
    plant: (fx) => {
      const fake = makeRepo(path.join(fx.root, 'fake'), { '.gitattributes': ATTRIBUTES, 'a.txt': 'fake\n' });
      plainGit(fake, 'config', 'core.fsmonitor', evilProgram(fx.markers, 'gitfile-fsmonitor'));
      plainGit(fake, 'config', 'filter.x.clean', evilProgram(fx.markers, 'gitfile-clean'));
      plainGit(fake, 'config', 'core.worktree', fx.victim);
      plantHooks(path.join(fake, '.git', 'hooks'), fx.markers, 'gitfile');
      fs.writeFileSync(path.join(fx.victim, '.git'), `gitdir: ${path.join(fake, '.git')}\n`);
    },
    control: (fx) => {
      bumpMtimes(fx.victim);
      plainGitTry(fx.victim, ['status']);
      return ['gitfile-fsmonitor'];
    },
  },
  {
    name: "the agent worktree admin dir's commondir pointed at a repository of its making",
    plant: (fx) => {
      const fake = makeRepo(path.join(fx.root, 'fakecommon'), { '.gitattributes': ATTRIBUTES, 'a.txt': 'fake\n' });
      plainGit(fake, 'config', 'core.fsmonitor', evilProgram(fx.markers, 'commondir-fsmonitor'));
      fs.writeFileSync(path.join(fx.victimAdmin, 'commondir'), `${path.join(fake, '.git')}\n`);
    },
    control: (fx) => {
      plainGitTry(fx.victim, ['status']);
      return ['commondir-fsmonitor'];
    },
  },
];

describe('planted git configuration does not run', { concurrency: 4 }, () => {
  for (const vector of vectors) {
    it(vector.name, async () => {
      const fx = fixture();
      vector.plant(fx);
      const expected = vector.control(fx);
      const ran = ranPrograms(fx.markers);
      for (const program of expected) assert.ok(ran.includes(program), `control: plain git runs ${program} (ran: ${ran.join(', ')})`);
      clearRan(fx.markers);
      // Put back what the control touched, so the daemon sees the planted state only.
      for (const ctl of ['ctl']) if (fs.existsSync(path.join(fx.wts, ctl))) plainGitTry(fx.repo, ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', 'worktree', 'remove', '--force', path.join(fx.wts, ctl)]);
      clearRan(fx.markers);
      const out = await exercise(fx);
      assert.deepEqual(ranPrograms(fx.markers), [], 'nothing planted ran through the git module');
      assertExercised(out, vector.breaks);
      vector.check?.(out);
    });
  }

  it('everything at once', async () => {
    const fx = fixture();
    for (const v of vectors) v.plant(fx);
    const out = await exercise(fx);
    assert.deepEqual(ranPrograms(fx.markers), []);
    assertExercised(out, vectors.flatMap((v) => v.breaks ?? []));
  });

  it('credential helpers and askpass are not consulted', async () => {
    const fx = fixture();
    setConfig(fx, 'credential.helper', `!${evilProgram(fx.markers, 'credential-helper')}`);
    setConfig(fx, 'core.askPass', evilProgram(fx.markers, 'askpass'));
    const server = http.createServer((_req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const url = `${base}/repo.git`;
    setConfig(fx, `credential.${base}.helper`, `!${evilProgram(fx.markers, 'url-credential-helper')}`);
    try {
      // Asynchronously: this process serves the HTTP requests.
      await new Promise<void>((resolve) => execFile('git', ['ls-remote', url], { cwd: fx.repo, env: plainEnv(), timeout: 20_000 }, () => resolve()));
      assert.deepEqual(ranPrograms(fx.markers), ['askpass', 'credential-helper', 'url-credential-helper'], 'control');
      clearRan(fx.markers);
      await assert.rejects(runGit(['ls-remote', url], { cwd: fx.repo, allowProtocols: ['http'] }), GitError);
      assert.deepEqual(ranPrograms(fx.markers), []);
    } finally {
      server.close();
    }
  });
});

describe('configuration git cannot be made to ignore is refused', { concurrency: true }, () => {
  const includes: Array<[string, (fx: Fixture, file: string) => void]> = [
    ['include.path', (fx, file) => setConfig(fx, 'include.path', file)],
    ['includeIf.gitdir:', (fx, file) => setConfig(fx, 'includeIf.gitdir:/.path', file)],
    ['includeIf.onbranch: (not matching now)', (fx, file) => setConfig(fx, 'includeIf.onbranch:later.path', file)],
  ];
  for (const [what, plant] of includes) {
    it(`${what}: every operation is refused and nothing runs`, async () => {
      const fx = fixture();
      const included = path.join(fx.root, 'included.gitconfig');
      fs.writeFileSync(included, `[core]\n\tfsmonitor = ${evilProgram(fx.markers, 'included-fsmonitor')}\n[filter "x"]\n\tsmudge = ${evilProgram(fx.markers, 'included-smudge')}\n\tclean = ${evilProgram(fx.markers, 'included-clean')}\n`);
      plant(fx, included);
      if (!what.includes('onbranch')) {
        plainGitTry(fx.repo, ['status']);
        assert.ok(ranPrograms(fx.markers).includes('included-fsmonitor'), 'control');
        clearRan(fx.markers);
      }
      const out = await exercise(fx);
      assert.deepEqual(ranPrograms(fx.markers), []);
      for (const s of ['inspectRepo', 'addWorktree new branch', 'worktreeIsDirty victim', 'status victim (discovered)', 'removeWorktree forced']) {
        assert.ok(out[s] instanceof UnsafeRepositoryError, `${s}: ${String(out[s])}`);
        assert.match((out[s] as Error).message, /includes other configuration/);
      }
      assert.ok(fs.existsSync(fx.victim), 'nothing was removed');
    });
  }
});

describe('who can write the configuration decides whether git runs', () => {
  async function refused(fx: Fixture, why: RegExp) {
    await assert.rejects(inspectRepo(fx.repo), (e: unknown) => e instanceof UnsafeRepositoryError && why.test((e as Error).message));
    await assert.rejects(worktreeIsDirty(fx.repo, fx.victim), UnsafeRepositoryError);
    await assert.rejects(runGit(['status'], { cwd: fx.victim }), UnsafeRepositoryError);
  }

  it('refuses a repository config writable by its group', async () => {
    const fx = fixture();
    fs.chmodSync(path.join(fx.repo, '.git', 'config'), 0o664);
    await refused(fx, /config .* is writable by its group or others \(mode 664\)/);
  });

  it('refuses a git directory writable by others (the config could be replaced)', async () => {
    const fx = fixture();
    fs.chmodSync(path.join(fx.repo, '.git'), 0o777);
    await refused(fx, /\.git, which holds the repository config, is writable by its group or others/);
  });

  it('refuses a non-sticky world-writable directory above, and accepts a sticky one', async () => {
    const fx = fixture();
    fs.chmodSync(fx.root, 0o777);
    await refused(fx, /which holds the repository config, is writable by its group or others \(mode 777\)/);
    fs.chmodSync(fx.root, 0o1777);
    assert.equal((await inspectRepo(fx.repo)).path, fx.repo);
  });

  it('refuses a repository config that is a symbolic link', async () => {
    const fx = fixture();
    const config = path.join(fx.repo, '.git', 'config');
    fs.renameSync(config, path.join(fx.root, 'real-config'));
    fs.symlinkSync(path.join(fx.root, 'real-config'), config);
    await refused(fx, /is a symbolic link/);
  });

  it('with extensions.worktreeConfig, git in a worktree whose admin dir others can write is refused; its changes are still checked, running nothing', async () => {
    const fx = fixture();
    setConfig(fx, 'extensions.worktreeConfig', 'true');
    fs.chmodSync(fx.victimAdmin, 0o777);
    fs.writeFileSync(path.join(fx.victimAdmin, 'config.worktree'), `[core]\n\tfsmonitor = ${evilProgram(fx.markers, 'worktree-fsmonitor')}\n`);
    await assert.rejects(runGit(['status'], { cwd: fx.victim }), (e: unknown) => e instanceof UnsafeRepositoryError && /per-worktree config/.test((e as Error).message));
    // The changes check never reads the worktree's configuration (changes.ts): nothing to refuse.
    bumpMtimes(fx.victim);
    assert.equal(await worktreeIsDirty(fx.repo, fx.victim), false);
    assert.deepEqual(ranPrograms(fx.markers), []);
  });

  it('without extensions.worktreeConfig, a worktree admin dir others can write is fine', async () => {
    const fx = fixture();
    fs.chmodSync(fx.victimAdmin, 0o777);
    assert.equal(await worktreeIsDirty(fx.repo, fx.victim), false);
  });

  describe('as another Unix identity (root only)', { skip: isRoot ? false : 'needs root to chown files to another user' }, () => {
    const NOBODY = 65534;
    const chownR = (p: string) => assert.equal(spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, p]).status, 0);

    it('refuses a repository whose config belongs to someone else', async () => {
      const fx = fixture();
      fs.chownSync(path.join(fx.repo, '.git', 'config'), NOBODY, NOBODY);
      await refused(fx, /owned by uid 65534, not by the daemon user/);
    });

    it("works on an agent-owned worktree and admin dir, ignoring everything the agent planted", async () => {
      const fx = fixture();
      // The agent owns its worktree and the metadata git needs to commit there.
      chownR(fx.victim);
      chownR(fx.victimAdmin);
      plantHooks(path.join(fx.victimAdmin, 'hooks'), fx.markers, 'agent');
      fs.writeFileSync(path.join(fx.victimAdmin, 'config.worktree'), `[core]\n\tfsmonitor = ${evilProgram(fx.markers, 'agent-fsmonitor')}\n`);
      const fake = makeRepo(path.join(fx.root, 'agent-repo'), { 'a.txt': 'x' });
      plainGit(fake, 'config', 'core.fsmonitor', evilProgram(fx.markers, 'agent-gitfile-fsmonitor'));
      chownR(fake);
      fs.writeFileSync(path.join(fx.victim, '.git'), `gitdir: ${path.join(fake, '.git')}\n`);
      bumpMtimes(fx.victim);
      assert.equal(await worktreeIsDirty(fx.repo, fx.victim), false);
      // Following the agent's .git file leads to the agent's repository: refused, not run.
      await assert.rejects(runGit(['status'], { cwd: fx.victim }), (e: unknown) => e instanceof UnsafeRepositoryError && /owned by uid 65534/.test((e as Error).message));
      await removeWorktree(fx.repo, fx.victim, { force: false });
      assert.equal(fs.existsSync(fx.victim), false);
      assert.deepEqual(ranPrograms(fx.markers), []);
    });

    it('refuses to discover a repository owned by someone else even without plants', async () => {
      const fx = fixture();
      const theirs = makeRepo(path.join(fx.root, 'theirs'));
      chownR(theirs);
      await assert.rejects(runGit(['status'], { cwd: theirs }), UnsafeRepositoryError);
      await assert.rejects(inspectRepo(theirs), UnsafeRepositoryError);
    });
  });
});
