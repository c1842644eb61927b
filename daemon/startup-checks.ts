import type { AgorConfig } from './config/schema.js';
import type { Runtime } from './config/load.js';
import { isolationChecks, realProbes, sandboxCheck, type Probes } from './unix/checks.js';
import type { Application } from './declarations.js';

/** A configuration the daemon must not run with. The message says how to fix it. */
export class StartupRefusal extends Error {
  override name = 'StartupRefusal';
}

export interface StartupCheckInput {
  config: AgorConfig;
  uid: number;
  /** With it, insulated/strict prerequisites (agor-priv, the sudo rule, priv.yaml, data dir) are checked too. */
  runtime?: Runtime;
  probes?: Probes;
}

/** Throws when the configured mode cannot be run safely. Runs before anything is created. */
export function refuseUnsafeStartup({ config, uid, runtime, probes }: StartupCheckInput): void {
  const { execution } = config;
  const isolated = execution.unix_user_mode !== 'simple';
  if (isolated && !execution.worktree_rbac) {
    throw new StartupRefusal(
      `execution.unix_user_mode is "${execution.unix_user_mode}" but execution.worktree_rbac is false: Unix isolation needs worktree RBAC to decide who runs where. Set execution.worktree_rbac: true, or unix_user_mode: simple.`,
    );
  }
  if (isolated && uid === 0) {
    throw new StartupRefusal(
      `The daemon must not run as root in ${execution.unix_user_mode} mode: run it as the daemon user created by scripts/install-unix-isolation.sh (e.g. \`runuser -u agor -- agor daemon start\`).`,
    );
  }
  if (runtime) {
    const sandbox = sandboxCheck(probes ?? realProbes());
    if (sandbox.status === 'FAIL') throw new StartupRefusal(`No executor or terminal can run without its sandbox: ${sandbox.message}. Fix: ${sandbox.fix}`);
  }
  if (isolated && runtime) {
    const failures = isolationChecks({ ...runtime, config }, probes ?? realProbes()).filter((c) => c.status === 'FAIL');
    if (failures.length > 0) {
      const lines = failures.map((c) => `${c.name}: ${c.message}. Fix: ${c.fix}`);
      throw new StartupRefusal(`${execution.unix_user_mode} mode cannot start: ${lines.join('; ')}`);
    }
  }
}

/**
 * DESIGN §3: the web terminal in simple mode with more than one user — every terminal is a shell
 * as the daemon user, which can read the database and keys, so one user's terminal reaches all
 * users' data. worktree_rbac on counts as "more than one" from the first user: it is the setting
 * for a team, whose members are added while the daemon runs. The text names the trigger it saw.
 */
export function webTerminalWarning(config: AgorConfig, userCount: number): string | null {
  const { execution } = config;
  if (execution.unix_user_mode !== 'simple' || !execution.allow_web_terminal) return null;
  const risk =
    "terminals run as the daemon user: their sandbox hides its database and keys, but every worktree's shells share that one uid (files a shell leaves readable to its uid, abstract Unix sockets while the network is shared). Use unix_user_mode insulated/strict or set execution.allow_web_terminal: false.";
  if (userCount > 1) return `[SECURITY] The web terminal is enabled in simple mode and this daemon has ${userCount} users: ${risk}`;
  if (execution.worktree_rbac) return `[SECURITY] The web terminal is enabled in simple mode with worktree_rbac on (a setup for several users; ${userCount} so far): ${risk}`;
  return null;
}

/** The one-line [SECURITY] warnings for a configuration that runs but trades safety away. */
export function startupWarnings({ config, userCount }: { config: AgorConfig; userCount: number }): string[] {
  const terminal = webTerminalWarning(config, userCount);
  return terminal ? [terminal] : [];
}

/**
 * The user count changes while the daemon runs: the web-terminal warning is also printed (once)
 * when a user is added and the condition starts to hold, not only at the next start.
 */
export function warnWhenUsersGrow(app: Application, log: (line: string) => void, userCountAtStart: number): void {
  let warned = webTerminalWarning(app.get('runtime').config, userCountAtStart) !== null;
  app.service('users').on('created', () => {
    if (warned) return;
    void (async () => {
      const [{ count }] = await app.get('db')('users').count({ count: '*' });
      const warning = webTerminalWarning(app.get('runtime').config, Number(count));
      if (warning && !warned) {
        warned = true;
        log(warning);
      }
    })().catch((error: unknown) => console.error('[error] counting users for the web-terminal warning:', error));
  });
}
