// The executor's positive environment allow-list (DESIGN §8): the only variables of its own
// environment an agent ever sees. The task's credentials are added per task by the adapter.

export const BASE_ENV_NAMES = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'TERM', 'TMPDIR'] as const;

/**
 * The git settings the spawn path pins for every identity (daemon/priv/sandbox.ts GIT_PINS: no
 * submodule recursion, no fsmonitor...), passed on so the agent's own git runs with them too.
 */
const GIT_PIN_NAME = /^GIT_CONFIG_(COUNT|KEY_[0-9]{1,2}|VALUE_[0-9]{1,2})$/;

/** Whether `name` is one the executor passes on from its own environment. */
export function isBaseEnvName(name: string): boolean {
  return (BASE_ENV_NAMES as readonly string[]).includes(name) || GIT_PIN_NAME.test(name);
}

/** The allow-listed variables of `env` that are set (and hold no NUL). */
export function baseEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!isBaseEnvName(name)) continue;
    if (typeof value === 'string' && value.length > 0 && !value.includes('\0')) base[name] = value;
  }
  return base;
}
