// The executor's positive environment allow-list (DESIGN §8): the only variables of its own
// environment an agent ever sees. The task's credentials are added per task by the adapter.

export const BASE_ENV_NAMES = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'TERM', 'TMPDIR'] as const;

/** The allow-listed variables of `env` that are set (and hold no NUL). */
export function baseEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const base: Record<string, string> = {};
  for (const name of BASE_ENV_NAMES) {
    const value = env[name];
    if (typeof value === 'string' && value.length > 0 && !value.includes('\0')) base[name] = value;
  }
  return base;
}
