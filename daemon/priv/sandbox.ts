// The sandbox every executor and terminal runs in, in every mode (DESIGN §2): bubblewrap's argv,
// and the git settings every identity's git is pinned to. Pure (no I/O) and importing nothing, so
// agor-priv (insulated/strict) and the daemon (simple mode, unix/sandbox.ts) build it from this one
// place.
//
// What the sandbox shows (README, "What a sandbox shows"):
//   - new user, PID, IPC and mount namespaces (user namespaces nested inside stay possible: Codex runs
//     its own bubblewrap for its tools; the tmpfs covers are locked mounts a nested namespace cannot
//     remove);
//     a fresh /proc (only the sandbox's own processes) and a minimal /dev; the network is the host's
//     unless cut (then a namespace of its own with only loopback);
//   - the whole filesystem read-only, with these hidden by empty tmpfs: /home, /root, /run, /tmp,
//     /var/tmp and the `hide` list (the worktrees root, the private homes' root, the daemon's home
//     and AGOR_HOME);
//   - then bound back: `readOnly` (simple mode: the checkout and the Node running the executor),
//     `writable` (the worktree, and its repository's git metadata while worktrees share one), the
//     private HOME at the account's home path and the private TMPDIR at /tmp;
//   - --die-with-parent: when whoever started bwrap dies, the sandbox's init is SIGKILLed, and the
//     kernel then kills every process of the PID namespace — `setsid -f` and nohup'ed jobs included.

export const BWRAP_PATH = '/usr/bin/bwrap';

/** Always hidden (an empty tmpfs over them). */
export const ALWAYS_HIDDEN = ['/home', '/root', '/run', '/tmp', '/var/tmp'] as const;

export interface SandboxSpec {
  /** Bound read-write at the same path (the worktree, its git metadata). Must exist. */
  writable: readonly string[];
  /** Bound read-only at the same path after everything is hidden (simple mode: the code it runs). */
  readOnly: readonly string[];
  /** Extra directories hidden by an empty tmpfs (besides ALWAYS_HIDDEN). */
  hide: readonly string[];
  /** The private HOME: host directory, and where it appears (the account's home path). */
  home: { source: string; target: string };
  /** The private TMPDIR (host directory), shown at /tmp. */
  tmp: string;
  /** The directory the program starts in. */
  cwd: string;
  /** false → a network namespace of its own (loopback only). */
  network: boolean;
  /**
   * setsid() inside the sandbox, so nothing in it can reach the terminal of whoever started it
   * (TIOCSTI). Not for a web terminal's shell: it needs the PTY as its controlling terminal for job
   * control, and that PTY is private to this sandbox — node-pty made it for this one shell, and only
   * the daemon reads its other side — so what could be injected reaches only the sandbox itself.
   */
  newSession: boolean;
}

function isBelow(child: string, parent: string): boolean {
  return parent === '/' ? child !== '/' : child.startsWith(`${parent}/`);
}

/** Keeps only the outermost of a set of paths (a tmpfs over a hidden directory's child is pointless). */
function outermost(paths: readonly string[]): string[] {
  const unique = [...new Set(paths)].sort();
  return unique.filter((p) => !unique.some((q) => q !== p && isBelow(p, q)));
}

/** bwrap's arguments up to and including `--` (the program and its arguments follow). */
export function bwrapArgs(spec: SandboxSpec): string[] {
  const args = ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try'];
  if (!spec.network) args.push('--unshare-net');
  args.push('--die-with-parent');
  if (spec.newSession) args.push('--new-session');
  args.push('--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev');
  const hidden = outermost([...ALWAYS_HIDDEN, ...spec.hide]);
  for (const dir of hidden) args.push('--tmpfs', dir);
  // The private HOME and /tmp first: a worktree or the code below them is then bound on top. Each
  // is also shown at its own path (inside the hidden root, nothing else of it): tools that resolve
  // a mount back to its source (Codex's own bubblewrap, from mountinfo) then find it writable.
  args.push('--bind', spec.home.source, spec.home.target, '--bind', spec.tmp, '/tmp');
  if (spec.home.source !== spec.home.target) args.push('--bind', spec.home.source, spec.home.source);
  if (spec.tmp !== '/tmp') args.push('--bind', spec.tmp, spec.tmp);
  // Parents before children, so a bind inside another one lands on top of it.
  const byDepth = (a: string, b: string) => a.length - b.length;
  for (const p of [...spec.readOnly].sort(byDepth)) args.push('--ro-bind', p, p);
  for (const p of [...spec.writable].sort(byDepth)) args.push('--bind', p, p);
  // What a bind brought back is hidden again where it holds a hidden directory.
  const bound = [...spec.readOnly, ...spec.writable];
  const rehidden = [...new Set(spec.hide)].sort(byDepth).filter((dir) => bound.some((p) => isBelow(dir, p)));
  for (const dir of rehidden) args.push('--tmpfs', dir);
  // agor's own hidden directories are read-only too (once every bind is in place): nothing written
  // there would reach the host, but a write that seems to succeed where the real file (a mirror's
  // config, say) lives would mislead whoever reads the sandbox's view.
  for (const dir of [...hidden.filter((d) => spec.hide.includes(d)), ...rehidden]) args.push('--remount-ro', dir);
  args.push('--chdir', spec.cwd, '--');
  return args;
}

/**
 * Git configuration pinned for every identity's git (executors and terminals), through
 * GIT_CONFIG_COUNT/KEY/VALUE: above every config file, so neither the repository's config nor a
 * ~/.gitconfig can turn it back on. Submodules are never entered (a nested repository's own config
 * — a clean filter, an fsmonitor — would run as whoever runs `git status` there, e.g. another user
 * sharing the worktree), no fsmonitor, no repository reached over the file protocol.
 */
export const GIT_PINS: ReadonlyArray<readonly [string, string]> = [
  ['submodule.recurse', 'false'],
  ['diff.ignoreSubmodules', 'all'],
  ['status.submoduleSummary', 'false'],
  ['fetch.recurseSubmodules', 'false'],
  ['push.recurseSubmodules', 'no'],
  ['core.fsmonitor', 'false'],
  ['protocol.file.allow', 'never'],
  // Hooks live in the worktree's .git, which every identity of a shared worktree can write: one
  // person's hook would run as the next person who commits (DESIGN §8). No hooks, no planted ssh.
  ['core.hooksPath', '/dev/null'],
  ['core.sshCommand', 'ssh'],
];

/** GIT_PINS as environment assignments (NAME=value). */
export function gitPinEnvironment(): string[] {
  const env = [`GIT_CONFIG_COUNT=${GIT_PINS.length}`];
  GIT_PINS.forEach(([key, value], i) => env.push(`GIT_CONFIG_KEY_${i}=${key}`, `GIT_CONFIG_VALUE_${i}=${value}`));
  return env;
}
