import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { GitError, ValidationError } from './errors.js';
import { buildEnv, gitPrivateDirs, HARDENED_CONFIG } from './exec.js';
import { parseConfigList } from './config-audit.js';
import { runGit } from './runner.js';
import { locateRepository } from './location.js';
import { cleanupTempDirs, clearRan, evilProgram, makeRepo, plainGit, ranPrograms, tempDir } from './test-support.js';

after(cleanupTempDirs);

async function withProcessEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('runGit environment', () => {
  it('builds the environment from nothing: no variable of the daemon reaches git', () => {
    const poison = { GIT_DIR: '/x', GIT_SSH_COMMAND: 'evil', GIT_ASKPASS: 'evil', SSH_ASKPASS: 'evil', LD_PRELOAD: '/evil.so', GIT_CONFIG_PARAMETERS: "'core.hookspath'='/x'", GIT_EXEC_PATH: '/x', SECRET_TOKEN: 'abc' };
    Object.assign(process.env, poison);
    try {
      const env = buildEnv({ repo: 'none' }, gitPrivateDirs().empty);
      for (const key of Object.keys(poison)) assert.equal(env[key], undefined, key);
      assert.equal(env.PATH, '/usr/local/bin:/usr/bin:/bin');
      assert.equal(env.LANG, 'C');
      assert.equal(env.GIT_TERMINAL_PROMPT, '0');
      assert.equal(env.GIT_CONFIG_NOSYSTEM, '1');
      assert.equal(env.GIT_CONFIG_GLOBAL, '/dev/null');
      assert.equal(env.GIT_OPTIONAL_LOCKS, '0');
      assert.equal(env.GIT_ALLOW_PROTOCOL, '');
      const home = fs.statSync(env.HOME!);
      assert.equal(home.mode & 0o777, 0o700);
      assert.deepEqual(fs.readdirSync(env.HOME!), []);
      assert.notEqual(env.HOME, process.env.HOME);
    } finally {
      for (const key of Object.keys(poison)) delete process.env[key];
    }
  });

  it('ignores a poisoned daemon environment in a real run', async () => {
    const root = tempDir();
    const repo = makeRepo(path.join(root, 'repo'));
    const markers = path.join(root, 'm');
    const globalConfig = path.join(root, 'global.gitconfig');
    fs.writeFileSync(globalConfig, `[core]\n\tfsmonitor = ${evilProgram(markers, 'global-fsmonitor')}\n\thooksPath = ${markers}\n`);
    const out = await withProcessEnv(
      {
        GIT_DIR: '/nonexistent',
        GIT_WORK_TREE: '/nonexistent',
        GIT_CONFIG_GLOBAL: globalConfig,
        GIT_CONFIG_PARAMETERS: `'core.fsmonitor'='${evilProgram(markers, 'params-fsmonitor')}'`,
        GIT_EXEC_PATH: '/nonexistent',
      },
      () => runGit(['status', '--porcelain'], { cwd: repo }),
    );
    assert.equal(out.stdout, '');
    assert.deepEqual(ranPrograms(markers), []);
  });

  it('pins its hardened settings over the repository config', async () => {
    const repo = makeRepo(path.join(tempDir(), 'repo'));
    plainGit(repo, 'config', 'core.hooksPath', '/somewhere/else');
    plainGit(repo, 'config', 'core.fsmonitor', '/somewhere/else');
    for (const [key, value] of HARDENED_CONFIG) {
      const { stdout } = await runGit(['config', '--get', key], { cwd: repo });
      assert.equal(stdout.trim(), value, key);
    }
  });
});

describe('runGit refusals', () => {
  for (const args of [[], ['st'], ['-c', 'core.hooksPath=/x', 'status'], ['--exec-path=/tmp', 'status'], ['--git-dir=/x', 'status'], ['difftool'], ['submodule', 'update'], ['status\0']]) {
    it(`refuses ${JSON.stringify(args)} before git starts`, async () => {
      await assert.rejects(runGit(args, { cwd: tempDir() }), ValidationError);
    });
  }

  it('refuses a relative cwd', async () => {
    await assert.rejects(runGit(['status'], { cwd: 'relative' }), ValidationError);
  });

  it('allows no transport unless asked, and never ext:: even when the repository allows it', async () => {
    const root = tempDir();
    const repo = makeRepo(path.join(root, 'repo'));
    await assert.rejects(runGit(['ls-remote', `file://${repo}`], { cwd: repo }), (e: unknown) => e instanceof GitError && /transport 'file' not allowed/.test(e.message));
    const ok = await runGit(['ls-remote', `file://${repo}`], { cwd: repo, allowProtocols: ['file'] });
    assert.match(ok.stdout, /refs\/heads\/main/);
    plainGit(repo, 'config', 'protocol.ext.allow', 'always');
    const markers = path.join(root, 'm');
    const evil = evilProgram(markers, 'ext');
    await assert.rejects(
      runGit(['ls-remote', `ext::${evil}`], { cwd: repo, allowProtocols: ['file', 'https'] }),
      (e: unknown) => e instanceof GitError && /transport 'ext' not allowed/.test(e.message),
    );
    assert.deepEqual(ranPrograms(markers), []);
  });
});

describe('runGit results and errors', () => {
  it('phrases a failure for a person and keeps the details', async () => {
    const repo = makeRepo(path.join(tempDir(), 'repo'));
    await assert.rejects(runGit(['rev-parse', '--verify', 'no-such-rev'], { cwd: repo }), (e: unknown) => {
      assert.ok(e instanceof GitError);
      assert.equal(e.message, 'git rev-parse failed: Needed a single revision (exit code 128)');
      assert.equal(e.command, 'git rev-parse --verify no-such-rev');
      assert.equal(e.exitCode, 128);
      assert.equal(e.stderrLine, 'Needed a single revision');
      assert.equal(e.code, 500);
      assert.ok(!e.message.includes('core.hooksPath'), 'hardening flags are not part of the message');
      return true;
    });
  });

  it('picks the fatal line, not the usage text after it', async () => {
    const repo = makeRepo(path.join(tempDir(), 'repo'));
    await assert.rejects(runGit(['rev-parse', 'no-such-rev'], { cwd: repo }), (e: unknown) => e instanceof GitError && /ambiguous argument 'no-such-rev'/.test(e.message));
  });

  it('masks credentials in URLs', async () => {
    await assert.rejects(runGit(['ls-remote', 'https://alice:s3cret@127.0.0.1:9/x'], { cwd: tempDir() }), (e: unknown) => {
      assert.ok(e instanceof GitError);
      assert.equal(e.command, 'git ls-remote https://***@127.0.0.1:9/x');
      assert.ok(!JSON.stringify({ ...e, message: e.message }).includes('s3cret'));
      return true;
    });
  });

  it('accepts the exit codes it is told are answers', async () => {
    const repo = makeRepo(path.join(tempDir(), 'repo'));
    const r = await runGit(['show-ref', '--verify', '--quiet', 'refs/heads/nope'], { cwd: repo, allowExitCodes: [1] });
    assert.equal(r.exitCode, 1);
  });

  it('feeds input on stdin when given', async () => {
    const repo = makeRepo(path.join(tempDir(), 'repo'));
    const r = await runGit(['hash-object', '--stdin'], { cwd: repo, input: 'hello\n' });
    assert.equal(r.stdout.trim(), 'ce013625030ba8dba906f756967f9e9ca394464a');
  });

  it('stops git when it takes too long', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const started = Date.now();
      await assert.rejects(runGit(['ls-remote', `http://127.0.0.1:${port}/x`], { cwd: tempDir(), allowProtocols: ['http'], timeoutMs: 400 }), (e: unknown) => {
        assert.ok(e instanceof GitError);
        assert.equal(e.timedOut, true);
        assert.match(e.message, /^git ls-remote failed: it took longer than 400ms and was stopped$/);
        return true;
      });
      assert.ok(Date.now() - started < 10_000);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});

describe('runGit repository resolution', () => {
  it('finds the repository from a subdirectory and pins it', async () => {
    const repo = makeRepo(path.join(tempDir(), 'repo'), { 'sub/dir/f.txt': 'x\n' });
    const r = await runGit(['rev-parse', '--show-prefix'], { cwd: path.join(repo, 'sub', 'dir') });
    assert.equal(r.stdout.trim(), 'sub/dir/');
  });

  it('runs commands without a repository in its private empty directory', async () => {
    const repo = makeRepo(path.join(tempDir(), 'repo'));
    await assert.rejects(runGit(['rev-parse', '--git-dir'], { cwd: repo, repo: null }), (e: unknown) => e instanceof GitError && /not a git repository/.test(e.message));
    const r = await runGit(['check-ref-format', '--branch', 'ok/name'], { cwd: tempDir() });
    assert.equal(r.stdout.trim(), 'ok/name');
  });

  it('uses a located repository as given', async () => {
    const repo = makeRepo(path.join(tempDir(), 'repo'));
    const location = await locateRepository(repo);
    const r = await runGit(['rev-parse', '--absolute-git-dir'], { cwd: repo, repo: location });
    assert.equal(r.stdout.trim(), path.join(repo, '.git'));
  });
});

describe('parseConfigList', () => {
  it('reads scope, origin, key and value, including valueless keys', () => {
    const raw = 'local\0file:/r/.git/config\0core.bare\nfalse\0local\0file:/r/.git/config\0x.flag\0worktree\0file:/r/.git/worktrees/a/config.worktree\0a.b.c\nmulti\nline\0';
    assert.deepEqual(parseConfigList(raw), [
      { scope: 'local', origin: 'file:/r/.git/config', key: 'core.bare', value: 'false' },
      { scope: 'local', origin: 'file:/r/.git/config', key: 'x.flag', value: null },
      { scope: 'worktree', origin: 'file:/r/.git/worktrees/a/config.worktree', key: 'a.b.c', value: 'multi\nline' },
    ]);
  });
});

describe('runGit hardening sanity', () => {
  it('does not run a planted hook during a commit', async () => {
    const root = tempDir();
    const repo = makeRepo(path.join(root, 'repo'));
    const markers = path.join(root, 'm');
    fs.copyFileSync(evilProgram(markers, 'pre-commit'), path.join(repo, '.git', 'hooks', 'pre-commit'));
    fs.chmodSync(path.join(repo, '.git', 'hooks', 'pre-commit'), 0o755);
    plainGit(repo, 'config', 'user.name', 'Test');
    plainGit(repo, 'config', 'user.email', 'test@example.invalid');
    plainGit(repo, 'commit', '-q', '--allow-empty', '-m', 'control');
    assert.deepEqual(ranPrograms(markers), ['pre-commit'], 'the planted hook is live for plain git');
    clearRan(markers);
    await runGit(['commit', '--allow-empty', '-q', '-m', 'x'], { cwd: repo });
    assert.deepEqual(ranPrograms(markers), []);
  });
});
