import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type fs from 'node:fs';
import { validateConfig, type Runtime } from '../config/load.js';
import { resolveAgorPaths } from '../config/paths.js';
import { refuseUnsafeStartup, StartupRefusal } from '../startup-checks.js';
import { agentRuntimeCheck, isolationChecks, type Probes } from './checks.js';

const PRIV = '/usr/local/libexec/agor/agor-priv';

function runtimeFor(execution: Record<string, unknown>, dataDir = '/srv/agor/data'): Runtime {
  const config = validateConfig({ execution: { worktree_rbac: true, ...execution }, daemon: { data_dir: dataDir } }, 'test');
  const paths = resolveAgorPaths({ env: { AGOR_HOME: '/var/lib/agor/home/.agor' } });
  return { paths, config, databaseFile: `${paths.home}/agor.db`, dataDir };
}

function stat(uid: number, mode: number, kind: 'file' | 'dir' | 'link' = 'file'): fs.Stats {
  return { uid, mode, isFile: () => kind === 'file', isDirectory: () => kind === 'dir', isSymbolicLink: () => kind === 'link' } as fs.Stats;
}

/** A healthy installation, seen by the daemon user (uid 995); `change` breaks one thing. */
function probes(change: Partial<Probes> & { files?: Record<string, fs.Stats | null> } = {}): Probes {
  const files: Record<string, fs.Stats | null> = {
    [PRIV]: stat(0, 0o100755),
    '/usr/local/libexec/agor': stat(0, 0o40755, 'dir'),
    '/usr/local/libexec': stat(0, 0o40755, 'dir'),
    '/usr/local': stat(0, 0o40755, 'dir'),
    '/usr': stat(0, 0o40755, 'dir'),
    '/': stat(0, 0o40755, 'dir'),
    ...change.files,
  };
  return {
    uid: 995,
    username: 'agor',
    lstat: (p) => files[p] ?? null,
    writable: () => false,
    sudoAllows: () => ({ ok: true, detail: PRIV }),
    privConfig: () => ({ config: { daemon_user: 'agor', executor_user: 'agor_executor', worktrees_root: '/srv/agor/data' }, error: null }),
    userExists: () => true,
    ...change,
  };
}

function refusal(runtime: Runtime, p: Probes, uid = 995): string {
  try {
    refuseUnsafeStartup({ config: runtime.config, uid, runtime, probes: p });
  } catch (error) {
    assert.ok(error instanceof StartupRefusal, String(error));
    return error.message;
  }
  return '';
}

describe('startup refusals of insulated/strict, each with its fix', () => {
  const insulated = runtimeFor({ unix_user_mode: 'insulated' });

  it('a healthy installation starts', () => {
    assert.equal(refusal(insulated, probes()), '');
    assert.equal(refusal(runtimeFor({ unix_user_mode: 'strict' }), probes()), '');
    assert.ok(isolationChecks(insulated, probes()).every((c) => c.status === 'ok'));
  });

  it('refuses worktree_rbac off and root (what existed before)', () => {
    const noRbac = validateConfig({ execution: { worktree_rbac: false, unix_user_mode: 'strict' } }, 't');
    assert.throws(() => refuseUnsafeStartup({ config: noRbac, uid: 995 }), /worktree_rbac: true/);
    assert.match(refusal(insulated, probes(), 0), /must not run as root.*runuser/);
  });

  const cases: Array<[string, Partial<Probes> & { files?: Record<string, fs.Stats | null> }, RegExp]> = [
    ['agor-priv missing', { files: { [PRIV]: null } }, /agor-priv: .*is missing\. Fix: run scripts\/install-unix-isolation\.sh/],
    ['agor-priv not root-owned', { files: { [PRIV]: stat(995, 0o100755) } }, /owned by uid 995, not root.*Fix: chown root:root/],
    ['agor-priv group-writable', { files: { [PRIV]: stat(0, 0o100775) } }, /writable by its group or others \(mode 775\)\. Fix: chmod go-w/],
    ['agor-priv writable by the daemon user (ACL)', { writable: (p: string) => p === PRIV }, /writable by the daemon user agor.*Fix: setfacl -b/],
    ['agor-priv a symlink', { files: { [PRIV]: stat(0, 0o120777, 'link') } }, /is a symbolic link/],
    ['its directory not root-owned', { files: { '/usr/local/libexec/agor': stat(995, 0o40755, 'dir') } }, /\/usr\/local\/libexec\/agor \(holding agor-priv\) is owned by uid 995.*Fix: chown root:root/],
    ['the sudo rule missing', { sudoAllows: () => ({ ok: false, detail: 'sudo: a password is required' }) }, /sudo -n -l .*agor-priv` fails for agor: sudo: a password is required\. Fix: install the sudoers rule/],
    ['priv.yaml names another daemon user', { privConfig: () => ({ config: { daemon_user: 'other', worktrees_root: '/srv/agor/data' }, error: null }) }, /serves the daemon user other.*Fix: run the daemon as other/],
    ['worktrees outside worktrees_root', { privConfig: () => ({ config: { daemon_user: 'agor', worktrees_root: '/elsewhere' }, error: null }) }, /only prepares directories inside \/elsewhere.*Fix: set daemon\.data_dir/],
    ['executor user missing', { userExists: () => false }, /executor user: agor_executor does not exist\. Fix:/],
  ];
  for (const [what, change, message] of cases) {
    it(`refuses: ${what}`, () => assert.match(refusal(insulated, probes(change)), message));
  }

  it('refuses a data dir inside the private AGOR_HOME', () => {
    const inside = runtimeFor({ unix_user_mode: 'strict' }, '/var/lib/agor/home/.agor/data');
    assert.match(refusal(inside, probes({ privConfig: () => ({ config: null, error: 'x' }) })), /inside AGOR_HOME.*Fix: set daemon\.data_dir to the worktrees_root of \/etc\/agor\/priv\.yaml/);
  });

  it('simple mode checks none of it', () => {
    const simple = runtimeFor({ unix_user_mode: 'simple' });
    assert.deepEqual(isolationChecks(simple, probes({ files: { [PRIV]: null } })), []);
    assert.equal(refusal(simple, probes({ files: { [PRIV]: null } }), 0), '');
  });

  it('every mode refuses to start without a working sandbox (fail closed)', () => {
    const noSandbox = probes({ sandbox: () => '/usr/bin/bwrap is missing (apt-get install -y bubblewrap)' });
    for (const mode of ['simple', 'insulated', 'strict'] as const) {
      assert.match(refusal(runtimeFor({ unix_user_mode: mode }), noSandbox), /without its sandbox: \/usr\/bin\/bwrap is missing.*Fix: apt-get install -y bubblewrap/, mode);
    }
    assert.equal(refusal(runtimeFor({ unix_user_mode: 'simple' }), probes({ sandbox: () => null }), 0), '');
  });
});

describe('agent runtime check', () => {
  const executor = '/usr/local/libexec/agor/executor/agor-executor.mjs';
  const pkg = (name: string) => `/usr/local/libexec/agor/node_modules/${name}/package.json`;
  const all = { [pkg('@anthropic-ai/claude-agent-sdk')]: stat(0, 0o100644), [pkg('@openai/codex-sdk')]: stat(0, 0o100644), [pkg('@google/gemini-cli')]: stat(0, 0o100644) };

  it('ok when the SDKs are installed beside the executor; a warning naming the agents otherwise', () => {
    assert.equal(agentRuntimeCheck(executor, probes({ files: all })).status, 'ok');
    const missing = agentRuntimeCheck(executor, probes({ files: { ...all, [pkg('@openai/codex-sdk')]: null } }));
    assert.equal(missing.status, 'WARN');
    assert.match(missing.message, /@openai\/codex-sdk missing .*codex agent will fail/);
    assert.match(missing.fix ?? '', /install-unix-isolation/);
  });

  it('isolationChecks includes it when priv.yaml names the executor', () => {
    const runtime = runtimeFor({ unix_user_mode: 'insulated' });
    const withPath = (files: Record<string, fs.Stats | null>) =>
      probes({ files, privConfig: () => ({ config: { daemon_user: 'agor', executor_user: 'agor_executor', worktrees_root: '/srv/agor/data', executor_path: executor }, error: null }) });
    assert.equal(isolationChecks(runtime, withPath({})).find((c) => c.name === 'agent runtime')?.status, 'WARN');
    assert.equal(isolationChecks(runtime, withPath(all)).find((c) => c.name === 'agent runtime')?.status, 'ok');
    assert.equal(isolationChecks(runtime, probes()).find((c) => c.name === 'agent runtime'), undefined);
  });
});
