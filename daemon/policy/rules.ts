// The stored and configured shapes of the tool policy (DESIGN §10): rules an admin writes in
// config.yaml (`policy.rules`, the ceiling), rules a worktree's owners keep on the worktree
// (`tool_policy`, which may only tighten: ask or deny), and the session's permission mode.
import { z } from 'zod';

export const TOOL_DECISIONS = ['allow', 'ask', 'deny'] as const;
export type ToolDecision = (typeof TOOL_DECISIONS)[number];

/** Per session: what is asked of a person. `allow-all` only where the worktree's owners allow it. */
export const PERMISSION_MODES = ['ask', 'accept-edits', 'allow-all'] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];

/** What a tool call does, whatever the agent calls the tool. */
export const TOOL_KINDS = ['read', 'edit', 'shell', 'fetch', 'mcp', 'internal', 'other'] as const;
export type ToolKind = (typeof TOOL_KINDS)[number];

const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1).max(100)]);

/**
 * One rule: every field given must match (AND); a rule with no matcher at all is refused. The first
 * matching rule of a list decides.
 */
const ruleFields = {
  /** A label shown with the decision ("the rule that asked"). */
  name: z.string().min(1).max(100).optional(),
  /** Agent tool names, exactly ("Bash", "run_shell_command", "mcp__github__create_issue"). */
  tool: oneOrMany(z.string().min(1).max(200)).optional(),
  kind: oneOrMany(z.enum(TOOL_KINDS)).optional(),
  /** Shell: a command (or, for deny/ask, any part of a compound command) starts with these words. */
  command_prefix: z.string().min(1).max(500).optional(),
  /** Shell: a JavaScript regular expression tested against the whole command. */
  command_pattern: z
    .string()
    .min(1)
    .max(500)
    .refine((p) => validRegex(p), 'must be a valid regular expression')
    .optional(),
  /** A glob over the absolute paths the call touches (`*` within a name, `**` across directories); relative globs are under the worktree. */
  path: z.string().min(1).max(1000).optional(),
  /** true: matches calls touching a path outside the worktree; false: only paths inside it. */
  outside_worktree: z.boolean().optional(),
  /** Fetch: the URL's host, exactly or `*.example.com`. */
  host: z.string().min(1).max(255).optional(),
  reason: z.string().min(1).max(500).optional(),
};

const MATCHERS = ['tool', 'kind', 'command_prefix', 'command_pattern', 'path', 'outside_worktree', 'host'] as const;
const hasMatcher = (r: Record<string, unknown>) => MATCHERS.some((m) => r[m] !== undefined);
const NO_MATCHER = `must say what it matches (one of ${MATCHERS.join(', ')})`;

export const adminRuleSchema = z.strictObject({ ...ruleFields, decision: z.enum(TOOL_DECISIONS) }).refine(hasMatcher, NO_MATCHER);
/** Owners only tighten: their rules ask or deny, never allow. */
export const ownerRuleSchema = z
  .strictObject({ ...ruleFields, decision: z.enum(['ask', 'deny'], { message: 'owners may only tighten the policy: "ask" or "deny"' }) })
  .refine(hasMatcher, NO_MATCHER);

export type PolicyRule = z.output<typeof adminRuleSchema> | z.output<typeof ownerRuleSchema>;

/** The worktree's own settings (worktrees.tool_policy), changed by its owners only. */
export const worktreeToolPolicySchema = z.strictObject({
  /** Whether sessions here may use the `allow-all` permission mode. */
  allow_all: z.boolean().default(false),
  rules: z.array(ownerRuleSchema).max(200).default([]),
});
export type WorktreeToolPolicy = z.output<typeof worktreeToolPolicySchema>;
export const DEFAULT_WORKTREE_TOOL_POLICY: WorktreeToolPolicy = { allow_all: false, rules: [] };

/** Reads the stored column (JSON text or null); a damaged value fails closed to the defaults plus nothing allowed. */
export function parseWorktreeToolPolicy(stored: unknown): WorktreeToolPolicy {
  if (stored === null || stored === undefined || stored === '') return DEFAULT_WORKTREE_TOOL_POLICY;
  try {
    const value = typeof stored === 'string' ? JSON.parse(stored) : stored;
    return worktreeToolPolicySchema.parse(value);
  } catch {
    // Unreadable owner rules must not loosen anything: every tool call is asked.
    return { allow_all: false, rules: [{ name: 'unreadable worktree policy', kind: [...TOOL_KINDS], decision: 'ask' }] };
  }
}

function validRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}
