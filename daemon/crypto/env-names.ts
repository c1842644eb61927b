// The one place that decides which names a user secret may have. Every secret ends up as an
// environment variable of the process that runs the user's agent, so a name that changes how
// programs load, where they look, or who they think they are would let a stored "secret" plant
// code in the executor, the agent, git, or the shells they start. Those names are refused.

export const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]{0,127}$/;

const LOADER = 'it controls which libraries the dynamic loader injects into every program';
const NODE = 'it makes every Node.js process load code or modules from elsewhere';
const PYTHON = 'it makes every Python process load code from elsewhere';
const PERL = 'it makes every Perl process load code from elsewhere';
const RUBY = 'it makes every Ruby process load code from elsewhere';
const JAVA = 'it makes every Java process load agents or options from elsewhere';
const SHELL = 'it makes shells run code at startup or while they run';
const GIT = 'git reads it to change its configuration, hooks, SSH command, pager or repository location';
const LOOKUP = 'it changes where programs look for commands, configuration or files';
const IDENTITY = 'it changes who programs think they run as or where their home is';
const GLIBC = 'the C library reads it to load modules or configuration (glibc ignores it in setuid programs for this reason)';
const RUNS_PROGRAM = 'it names a program that other tools run';
const TLS = 'it makes programs load crypto engines or configuration from elsewhere';

/** Exact names refused, each with the reason shown to the user. */
const REFUSED_NAMES: Readonly<Record<string, string>> = {
  NODE_OPTIONS: NODE,
  NODE_PATH: NODE,
  NODE_REPL_EXTERNAL_MODULE: NODE,
  NPM_CONFIG_NODE_OPTIONS: NODE,
  BASH_ENV: SHELL,
  ENV: SHELL,
  SHELLOPTS: SHELL,
  BASHOPTS: SHELL,
  PS4: SHELL,
  PROMPT_COMMAND: SHELL,
  IFS: SHELL,
  CDPATH: SHELL,
  ZDOTDIR: SHELL,
  INPUTRC: SHELL,
  PYTHONPATH: PYTHON,
  PYTHONSTARTUP: PYTHON,
  PYTHONHOME: PYTHON,
  PYTHONUSERBASE: PYTHON,
  PYTHONWARNINGS: PYTHON,
  PYTHONBREAKPOINT: PYTHON,
  PYTHONINSPECT: PYTHON,
  PERL5LIB: PERL,
  PERL5OPT: PERL,
  PERLLIB: PERL,
  PERL5DB: PERL,
  RUBYOPT: RUBY,
  RUBYLIB: RUBY,
  JAVA_TOOL_OPTIONS: JAVA,
  _JAVA_OPTIONS: JAVA,
  JDK_JAVA_OPTIONS: JAVA,
  PATH: LOOKUP,
  TMPDIR: LOOKUP,
  XDG_CONFIG_HOME: LOOKUP,
  HOME: IDENTITY,
  USER: IDENTITY,
  LOGNAME: IDENTITY,
  SHELL: IDENTITY,
  GCONV_PATH: GLIBC,
  GETCONF_DIR: GLIBC,
  HOSTALIASES: GLIBC,
  LOCALDOMAIN: GLIBC,
  LOCPATH: GLIBC,
  MALLOC_TRACE: GLIBC,
  NIS_PATH: GLIBC,
  NLSPATH: GLIBC,
  RESOLV_HOST_CONF: GLIBC,
  RES_OPTIONS: GLIBC,
  TZDIR: GLIBC,
  OPENSSL_CONF: TLS,
  OPENSSL_ENGINES: TLS,
  EDITOR: RUNS_PROGRAM,
  VISUAL: RUNS_PROGRAM,
  PAGER: RUNS_PROGRAM,
  SSH_ASKPASS: RUNS_PROGRAM,
  SSH_AUTH_SOCK: 'it points ssh and git at another SSH agent',
};

/** Whole families refused by prefix. */
const REFUSED_PREFIXES: ReadonlyArray<readonly [prefix: string, reason: string]> = [
  ['LD_', LOADER],
  ['DYLD_', LOADER],
  ['GIT_', GIT],
  ['SUDO_', 'sudo sets and trusts these; a program must not see forged ones'],
  ['AGOR_', "the AGOR_ names are reserved for agor's own settings (master secret, home, config)"],
  ['BASH_FUNC_', SHELL],
  ['NPM_CONFIG_', 'npm reads it as configuration, including which shell and node options run scripts'],
  ['MALLOC_', GLIBC],
];

/** Names of agent API keys; a secret with one of these names defaults to kind "agent_key". */
export const AGENT_KEY_NAMES: ReadonlySet<string> = new Set(['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY']);

/**
 * Why `name` cannot be a secret's name, or null when it can. The text names the variable (only
 * once it has the shape of a name, so a value pasted by mistake is never echoed) and says why.
 */
export function whyRefusedEnvName(name: unknown): string | null {
  if (typeof name !== 'string' || !ENV_NAME_PATTERN.test(name)) {
    return 'must be an environment variable name: capital letters A-Z, digits and _, not starting with a digit, at most 128 characters';
  }
  const reason = (Object.hasOwn(REFUSED_NAMES, name) ? REFUSED_NAMES[name] : undefined) ?? REFUSED_PREFIXES.find(([prefix]) => name.startsWith(prefix))?.[1];
  return reason ? `${name} is refused: ${reason}` : null;
}

/** Every exactly-refused name and prefix, for documentation and tests. */
export function refusedEnvNames(): { names: string[]; prefixes: string[] } {
  return { names: Object.keys(REFUSED_NAMES), prefixes: REFUSED_PREFIXES.map(([p]) => p) };
}
