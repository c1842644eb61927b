import type { AgorConfig } from './config/schema.js';
import type { Runtime } from './config/load.js';
import { isolationChecks, realProbes, sandboxCheck, type Probes } from './unix/checks.js';

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

/** The one-line [SECURITY] warnings for a configuration that runs but trades safety away. */
export function startupWarnings({ config, userCount }: { config: AgorConfig; userCount: number }): string[] {
  const { execution } = config;
  const isolated = execution.unix_user_mode !== 'simple';
  const warnings: string[] = [];
  if (!isolated && execution.allow_web_terminal && (userCount > 1 || execution.worktree_rbac)) {
    warnings.push(
      '[SECURITY] The web terminal is enabled in simple mode with more than one user: terminals run as the daemon user (their sandbox hides its database and keys, but every worktree shares that uid). Use unix_user_mode insulated/strict or set execution.allow_web_terminal: false.',
    );
  }
  return warnings;
}
