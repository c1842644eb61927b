// The strict argv parser: `<verb> --flag value ...` and nothing else. Every shape problem is a
// usage error (exit 64) before any value is looked at; what the values mean is checked by the verbs.
import { quote, usage } from './errors.js';

export const MAX_ARG_BYTES = 4096;
export const MAX_ARGS = 32;

interface VerbSpec {
  /** Every flag the verb accepts. */
  readonly flags: readonly string[];
  /** Flags that must be present (exec checks its mode-dependent ones itself). */
  readonly required: readonly string[];
}

export const VERBS = {
  'ensure-user': { flags: ['user'], required: ['user'] },
  'ensure-group': { flags: ['group'], required: ['group'] },
  'set-group-members': { flags: ['group', 'members'], required: ['group', 'members'] },
  'remove-group': { flags: ['group'], required: ['group'] },
  'prepare-worktree': { flags: ['path', 'group', 'others'], required: ['path', 'group', 'others'] },
  'remove-tree': { flags: ['path'], required: ['path'] },
  exec: { flags: ['mode', 'group', 'user', 'cwd', 'program', 'term', 'git-dir', 'git-common-dir', 'work-tree', 'objects-dir', 'network'], required: ['mode', 'cwd', 'program'] },
} as const satisfies Record<string, VerbSpec>;

export type Verb = keyof typeof VERBS;

export interface ParsedArgs {
  verb: Verb;
  flags: ReadonlyMap<string, string>;
}

const FLAG_TOKEN = /^--[a-z][a-z0-9-]*$/;
// NUL cannot reach us through execve, but a caller in-process (tests) could pass one; C0 controls
// and DEL have no business in a name or a path and would forge extra lines in logs.
const CONTROL = /[\u0000-\u001f\u007f]/;

function isVerb(value: string): value is Verb {
  return Object.prototype.hasOwnProperty.call(VERBS, value);
}

/** Checks one argument's bytes: length and control characters. */
function checkArgument(arg: unknown, index: number): string {
  if (typeof arg !== 'string') throw usage(`argument ${index} is not a string`);
  if (Buffer.byteLength(arg, 'utf8') > MAX_ARG_BYTES) throw usage(`argument ${index} is longer than ${MAX_ARG_BYTES} bytes`);
  if (CONTROL.test(arg)) throw usage(`argument ${index} contains a control character (NUL, newline, ...): ${quote(arg)}`);
  return arg;
}

export function usageText(): string {
  return `usage: agor-priv <verb> --flag value ...; verbs: ${Object.keys(VERBS).join(', ')}`;
}

/** Parses argv (without node and script paths). Throws PrivError('usage') on any deviation. */
export function parseArgv(argv: readonly unknown[]): ParsedArgs {
  if (argv.length === 0) throw usage(`no verb given; ${usageText()}`);
  if (argv.length > MAX_ARGS) throw usage(`too many arguments (${argv.length}, at most ${MAX_ARGS})`);
  const args = argv.map(checkArgument);
  const verbArg = args[0]!;
  if (!isVerb(verbArg)) throw usage(`unknown verb ${quote(verbArg)}; ${usageText()}`);
  const spec: VerbSpec = VERBS[verbArg];
  const flags = new Map<string, string>();
  for (let i = 1; i < args.length; i += 2) {
    const token = args[i]!;
    if (!token.startsWith('--')) throw usage(`unexpected argument ${quote(token)}: only --flag value pairs are accepted`);
    if (token.includes('=')) throw usage(`${quote(token)}: the --flag=value form is not accepted; give the value as the next argument`);
    if (!FLAG_TOKEN.test(token)) throw usage(`malformed flag ${quote(token)}`);
    const name = token.slice(2);
    if (!spec.flags.includes(name)) throw usage(`unknown flag --${name} for ${verbArg} (accepted: ${spec.flags.map((f) => `--${f}`).join(' ')})`);
    if (flags.has(name)) throw usage(`--${name} is given more than once`);
    const value = args[i + 1];
    if (value === undefined) throw usage(`--${name} needs a value`);
    if (value.startsWith('--')) throw usage(`--${name} needs a value (got the flag-like ${quote(value)})`);
    flags.set(name, value);
  }
  for (const name of spec.required) {
    if (!flags.has(name)) throw usage(`${verbArg} needs --${name}`);
  }
  return { verb: verbArg, flags };
}

/** The value of a flag the parser has already required. */
export function flag(args: ParsedArgs, name: string): string {
  const value = args.flags.get(name);
  if (value === undefined) throw usage(`${args.verb} needs --${name}`);
  return value;
}
