// THE tool policy (DESIGN §10), pure: for one tool call of an agent, given the session's permission
// mode, the admin's rules (config.yaml, the ceiling), the worktree owners' rules (tighten only)
// and what was already allowed for this session, answer allow / ask / deny with the rule that
// decided. The runner asks it for every `tool_request`; tests drive it as a table.
//
// Order: (1) built-in denials nobody turns off; (2) the first matching admin rule, else the mode's
// default; (3) the first matching owner rule, which can only make (2) stricter; (4) an `ask` that a
// session grant covers becomes `allow`; (5) an agent that cannot pause a tool before it runs (Codex)
// gets `deny` for what would be asked.
import path from 'node:path';
import type { PermissionMode, PolicyRule, ToolDecision, ToolKind, WorktreeToolPolicy } from './rules.js';
import { isSimple, partsOf, startsWithWords, wordsOf } from './shell.js';
import { isInside, type ToolCall } from './tool-call.js';

/** "Allow this tool (or this command prefix) for the rest of the session". */
export interface SessionGrant {
  tool: string;
  /** Shell tools: only commands starting with these words (and nothing chained to them). */
  command_prefix?: string | null;
}

export interface ToolPolicyContext {
  mode: PermissionMode;
  /** Absolute path of the worktree. */
  worktree: string;
  adminRules: readonly PolicyRule[];
  worktreePolicy: WorktreeToolPolicy;
  grants: readonly SessionGrant[];
  /** False for agents whose gate runs after the tool has started (Codex): asks become denials. */
  canPauseBeforeRun: boolean;
}

export interface ToolPolicyDecision {
  decision: ToolDecision;
  reason: string;
  /** Which rule decided: `builtin:<name>`, `admin:<name|#n>`, `owner:<name|#n>`, `mode:<mode>`, `grant`. */
  rule: string;
}

const STRICTNESS: Record<ToolDecision, number> = { allow: 0, ask: 1, deny: 2 };

/** What each mode does by itself, per kind of call (inside / outside the worktree where it matters). */
function modeDefault(call: ToolCall, mode: PermissionMode, outside: boolean): ToolDecision {
  if (call.kind === 'internal') return 'allow';
  if (mode === 'allow-all') return 'allow';
  switch (call.kind) {
    case 'read':
      return outside ? 'ask' : 'allow';
    case 'edit':
      return mode === 'accept-edits' && !outside ? 'allow' : 'ask';
    default:
      return 'ask';
  }
}

/** Denials that hold in every mode and that no rule loosens. */
function builtinDenial(call: ToolCall, worktree: string): { name: string; reason: string } | null {
  if (call.kind === 'edit' && call.paths.some((p) => !isInside(p, worktree))) {
    return { name: 'edit-outside-worktree', reason: 'writing outside the worktree is not allowed' };
  }
  if (call.kind === 'shell' && call.command) {
    for (const words of partsOf(call.command)) {
      if (isForcePush(words)) return { name: 'git-push-force', reason: '`git push --force` is not allowed (it rewrites shared history)' };
      if (removesWorktreeRoot(words, worktree)) return { name: 'rm-rf-worktree', reason: '`rm -rf` of the worktree itself (or above it) is not allowed' };
    }
  }
  return null;
}

function isForcePush(words: string[]): boolean {
  if (words[0] !== 'git') return false;
  // `git -C dir push ...`: options may sit between git and push.
  const push = words.indexOf('push');
  if (push < 0) return false;
  const args = words.slice(push + 1);
  return args.some((a) => a === '--force' || a === '--force-with-lease' || a.startsWith('--force-with-lease=') || /^-[a-zA-Z]*f[a-zA-Z]*$/.test(a) || /^\+[^\s]/.test(a) || a === '--mirror');
}

function removesWorktreeRoot(words: string[], worktree: string): boolean {
  if (words[0] !== 'rm' && !words[0]?.endsWith('/rm')) return false;
  const flags = words.slice(1).filter((w) => w.startsWith('-') && w !== '--');
  const recursive = flags.some((f) => f === '--recursive' || (/^-[a-zA-Z]+$/.test(f) && /[rR]/.test(f)));
  if (!recursive) return false;
  const root = path.resolve(worktree);
  return words
    .slice(1)
    .filter((w) => !w.startsWith('-'))
    .some((target) => {
      if (target === '~' || target.startsWith('~/') || target === '*' || target === '.*' || target.startsWith('$')) return true;
      const resolved = path.resolve(root, target.replace(/\/\*$/, ''));
      return resolved === root || root.startsWith(resolved === '/' ? '/' : `${resolved}/`);
    });
}

function list<T>(v: T | T[] | undefined): T[] | undefined {
  return v === undefined ? undefined : Array.isArray(v) ? v : [v];
}

/** Glob over an absolute path: `**` any directories, `*` within one name, `?` one character. */
export function globMatches(glob: string, p: string, worktree: string): boolean {
  const absolute = glob.startsWith('/') ? glob : path.join(path.resolve(worktree), glob);
  let re = '';
  for (let i = 0; i < absolute.length; i += 1) {
    const ch = absolute[i]!;
    if (ch === '*' && absolute[i + 1] === '*') {
      re += '.*';
      i += 1;
      if (absolute[i + 1] === '/') i += 1;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(p);
}

function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  return p.startsWith('*.') ? host.endsWith(p.slice(1)) : host === p;
}

/**
 * Whether `rule` matches `call`. Shell prefixes and patterns: a rule that allows matches only a
 * simple command (nothing chained or substituted); one that asks or denies matches if any part does.
 */
export function ruleMatches(rule: PolicyRule, call: ToolCall, worktree: string): boolean {
  const tools = list(rule.tool);
  if (tools && !tools.includes(call.tool)) return false;
  const kinds = list(rule.kind);
  if (kinds && !kinds.includes(call.kind)) return false;
  if (rule.command_prefix !== undefined || rule.command_pattern !== undefined) {
    if (call.command === undefined) return false;
    const command = call.command;
    const pattern = rule.command_pattern !== undefined ? new RegExp(rule.command_pattern) : null;
    if (pattern && !pattern.test(command)) return false;
    if (rule.command_prefix !== undefined) {
      if (rule.decision === 'allow') {
        if (!isSimple(command) || !startsWithWords(wordsOf(command), rule.command_prefix)) return false;
      } else if (!partsOf(command).some((words) => startsWithWords(words, rule.command_prefix!))) return false;
    } else if (rule.decision === 'allow' && !isSimple(command)) return false;
  }
  if (rule.outside_worktree !== undefined) {
    const outside = call.paths.some((p) => !isInside(p, worktree));
    if (rule.outside_worktree !== outside || call.paths.length === 0) return false;
  }
  if (rule.path !== undefined && !call.paths.some((p) => globMatches(rule.path!, p, worktree))) return false;
  if (rule.host !== undefined && !call.hosts.some((h) => hostMatches(rule.host!, h))) return false;
  return true;
}

function label(rule: PolicyRule, index: number): string {
  return rule.name ?? `#${index + 1}`;
}

function grantCovers(grant: SessionGrant, call: ToolCall): boolean {
  if (grant.tool !== call.tool) return false;
  if (!grant.command_prefix) return call.kind !== 'shell' || (call.command !== undefined && isSimple(call.command));
  return call.command !== undefined && isSimple(call.command) && startsWithWords(wordsOf(call.command), grant.command_prefix);
}

export function decideToolCall(call: ToolCall, ctx: ToolPolicyContext): ToolPolicyDecision {
  const denial = builtinDenial(call, ctx.worktree);
  if (denial) return { decision: 'deny', reason: denial.reason, rule: `builtin:${denial.name}` };

  // allow-all where the owners do not allow it is the most careful mode instead.
  const mode: PermissionMode = ctx.mode === 'allow-all' && !ctx.worktreePolicy.allow_all ? 'ask' : ctx.mode;
  const outside = call.paths.some((p) => !isInside(p, ctx.worktree));
  let result: ToolPolicyDecision;
  const adminIndex = ctx.adminRules.findIndex((r) => ruleMatches(r, call, ctx.worktree));
  if (adminIndex >= 0) {
    const rule = ctx.adminRules[adminIndex]!;
    result = { decision: rule.decision, reason: rule.reason ?? `the admin's rule ${label(rule, adminIndex)} says ${rule.decision}`, rule: `admin:${label(rule, adminIndex)}` };
  } else {
    const decision = modeDefault(call, mode, outside);
    result = { decision, reason: defaultReason(call.kind, decision, mode, outside), rule: `mode:${mode}` };
  }

  const ownerIndex = ctx.worktreePolicy.rules.findIndex((r) => ruleMatches(r, call, ctx.worktree));
  if (ownerIndex >= 0) {
    const rule = ctx.worktreePolicy.rules[ownerIndex]!;
    if (STRICTNESS[rule.decision] > STRICTNESS[result.decision]) {
      result = { decision: rule.decision, reason: rule.reason ?? `the worktree owners' rule ${label(rule, ownerIndex)} says ${rule.decision}`, rule: `owner:${label(rule, ownerIndex)}` };
    }
  }

  if (result.decision === 'ask' && ctx.grants.some((g) => grantCovers(g, call))) {
    return { decision: 'allow', reason: 'allowed for the rest of this session', rule: 'grant' };
  }
  if (result.decision === 'ask' && !ctx.canPauseBeforeRun) {
    return { decision: 'deny', reason: `${result.reason}; this agent cannot pause a tool before it runs, so what would be asked is denied`, rule: result.rule };
  }
  return result;
}

function defaultReason(kind: ToolKind, decision: ToolDecision, mode: PermissionMode, outside: boolean): string {
  const what = kind === 'read' || kind === 'edit' ? `${kind}s ${outside ? 'outside' : 'inside'} the worktree` : kind === 'other' ? 'unknown tools' : `${kind} tools`;
  return `in "${mode}" mode, ${what} ${decision === 'allow' ? 'are allowed' : 'are asked'}`;
}
