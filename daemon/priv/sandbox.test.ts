import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bwrapArgs, gitPinEnvironment, type SandboxSpec } from './sandbox.js';

const base: SandboxSpec = {
  writable: ['/srv/wt/repo/a'],
  readOnly: [],
  hide: ['/srv/wt', '/srv/sandboxes'],
  home: { source: '/srv/sandboxes/g/u/home', target: '/home/u' },
  tmp: '/srv/sandboxes/g/u/tmp',
  cwd: '/srv/wt/repo/a',
  network: true,
  newSession: true,
};

/** The arguments as [flag, ...operands] steps. */
function steps(args: string[]): string[] {
  const arity: Record<string, number> = { '--ro-bind': 2, '--bind': 2, '--tmpfs': 1, '--remount-ro': 1, '--proc': 1, '--dev': 1, '--chdir': 1 };
  const out: string[] = [];
  for (let i = 0; i < args.length; ) {
    const n = arity[args[i]!] ?? 0;
    out.push(args.slice(i, i + 1 + n).join(' '));
    i += 1 + n;
  }
  return out;
}

describe('bwrapArgs: the sandbox of every executor and terminal', () => {
  it('new namespaces, read-only root, hidden homes and runtime dirs, then the worktree, HOME and /tmp bound back', () => {
    const s = steps(bwrapArgs(base));
    for (const flag of ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--die-with-parent', '--new-session', '--ro-bind / /', '--proc /proc', '--dev /dev']) assert.ok(s.includes(flag), flag);
    assert.ok(!s.includes('--unshare-net'), 'the network is kept by default');
    for (const dir of ['/home', '/root', '/run', '/tmp', '/var/tmp', '/srv/wt', '/srv/sandboxes']) assert.ok(s.includes(`--tmpfs ${dir}`), dir);
    const at = (step: string) => s.indexOf(step);
    assert.ok(at('--bind /srv/wt/repo/a /srv/wt/repo/a') > at('--tmpfs /srv/wt'), 'the worktree is bound after its root is hidden');
    assert.ok(at('--remount-ro /srv/wt') > at('--bind /srv/wt/repo/a /srv/wt/repo/a'), "agor's hidden dirs become read-only once every bind is in place");
    assert.ok(!s.includes('--remount-ro /tmp') && !s.includes('--remount-ro /home'), 'the system ones stay as they are (HOME and /tmp are bound there)');
    assert.ok(at('--bind /srv/sandboxes/g/u/home /home/u') > at('--tmpfs /home'));
    assert.ok(at('--bind /srv/sandboxes/g/u/tmp /tmp') > at('--tmpfs /tmp'));
    assert.ok(at('--bind /srv/sandboxes/g/u/tmp /srv/sandboxes/g/u/tmp') > at('--tmpfs /srv/sandboxes'), 'also at its own path (Codex resolves mounts to their source)');
    assert.equal(s.at(-1), '--', 'the program follows');
  });
  it('cuts the network, keeps a PTY session when asked, and re-hides a hidden directory a bind brought back', () => {
    const args = bwrapArgs({ ...base, network: false, newSession: false, readOnly: ['/opt/app'], hide: [...base.hide, '/opt/app/.agor', '/srv/wt/repo/a/.secret'] });
    const s = steps(args);
    assert.ok(s.includes('--unshare-net'));
    assert.ok(!s.includes('--new-session'));
    assert.ok(s.lastIndexOf('--tmpfs /opt/app/.agor') > s.indexOf('--ro-bind /opt/app /opt/app'));
    assert.ok(s.lastIndexOf('--tmpfs /srv/wt/repo/a/.secret') > s.indexOf('--bind /srv/wt/repo/a /srv/wt/repo/a'));
  });
  it('pins git: no submodule recursion, no fsmonitor, no file protocol', () => {
    const env = Object.fromEntries(gitPinEnvironment().map((a) => a.split('=', 2) as [string, string]));
    const pins = new Map<string, string>();
    for (let i = 0; i < Number(env.GIT_CONFIG_COUNT); i += 1) pins.set(env[`GIT_CONFIG_KEY_${i}`]!, env[`GIT_CONFIG_VALUE_${i}`]!);
    assert.equal(pins.get('submodule.recurse'), 'false');
    assert.equal(pins.get('diff.ignoreSubmodules'), 'all');
    assert.equal(pins.get('core.fsmonitor'), 'false');
    assert.equal(pins.get('protocol.file.allow'), 'never');
  });
});
