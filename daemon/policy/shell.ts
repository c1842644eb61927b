// Just enough shell reading for the policy: split a command line into its simple commands and
// their words. It does not try to be a shell: anything it cannot read simply (substitutions,
// redirections, here-docs) makes the command "not simple", and a not-simple command is never
// allowed by a prefix (rules or session grants); deny and ask rules still look at every part.

/** Operators that join simple commands. */
const SEPARATORS = /(?:\|\||&&|;|\||&|\n)/;
/**
 * What makes a command more than "words" plus redirections: chaining, pipes, background jobs,
 * substitutions, subshells, braces, escapes. (A redirection only writes where the command could.)
 */
const NOT_SIMPLE = /[`$(){}\\;|&\n]/;

/** Words of one simple command, with single and double quotes removed (no expansion). */
export function wordsOf(command: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote: '"' | "'" | null = null;
  let inWord = false;
  for (const ch of command) {
    if (quote) {
      if (ch === quote) quote = null;
      else current += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
      continue;
    }
    if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
      continue;
    }
    current += ch;
    inWord = true;
  }
  if (inWord) words.push(current);
  return words;
}

/** The simple commands of a command line (split on ; && || | & and newlines, quotes respected roughly). */
export function partsOf(command: string): string[][] {
  const parts: string[][] = [];
  let current = '';
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < command.length; i += 1) {
    const ch = command[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      current += ch;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    if (!quote && SEPARATORS.test(ch)) {
      parts.push(wordsOf(current));
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(wordsOf(current));
  return parts.map(stripWrappers).filter((w) => w.length > 0);
}

/** `sudo x`, `env A=1 x`, `command x`, `nohup x`, `time x` run x: rules about x apply to them. */
function stripWrappers(words: string[]): string[] {
  let w = words;
  for (let guard = 0; guard < 8 && w.length > 0; guard += 1) {
    const first = w[0]!;
    if (['sudo', 'command', 'nohup', 'time', 'exec', 'builtin'].includes(first)) w = w.slice(1);
    else if (first === 'env' || /^[A-Za-z_][A-Za-z0-9_]*=/.test(first)) w = w.slice(1);
    else break;
  }
  return w;
}

/** Whether the command is plain words (a prefix may allow it). */
export function isSimple(command: string): boolean {
  return !NOT_SIMPLE.test(command);
}

/** Whether `words` begins with the words of `prefix` (whole words: "git st" does not match "git status"). */
export function startsWithWords(words: string[], prefix: string): boolean {
  const want = wordsOf(prefix);
  return want.length > 0 && want.length <= words.length && want.every((w, i) => words[i] === w);
}

/** `bash -lc '<script>'` (how Codex reports its commands) → the script; anything else unchanged. */
export function unwrapShell(command: string): string {
  const words = wordsOf(command);
  if (words.length === 3 && /^(?:\/(?:usr\/)?bin\/)?(?:ba|z|da)?sh$/.test(words[0]!) && /^-l?c$|^-cl$/.test(words[1]!)) return words[2]!;
  return command;
}
