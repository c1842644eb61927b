import { z } from 'zod';
import { adminRuleSchema } from '../policy/rules.js';
import { BUILTIN_AGENTS, isBuiltinAgent } from '../protocol/agents.js';
import { whyRefusedEnvName } from '../crypto/env-names.js';

/**
 * The schema of config.yaml. Every key is documented, with its default, in config.example.yaml;
 * test/cli/config.test.ts keeps the two in step. Objects are strict so a misspelt key is an error,
 * never silently ignored.
 */

// A duration such as "15m", "12h", "7d" or a number of seconds. jsonwebtoken accepts the same forms.
const duration = z
  .union([z.number().int().positive(), z.string().regex(/^\d+\s*(s|m|h|d)$/, 'a duration such as "30m", "12h" or "7d"')]);

export const UNIX_USER_MODES = ['simple', 'insulated', 'strict'] as const;
export type UnixUserMode = (typeof UNIX_USER_MODES)[number];

/** Who may read GET /metrics: admins and owners (a Bearer token), any local process, or nobody. */
export const METRICS_ACCESS = ['admins', 'loopback', 'off'] as const;

const absolutePath = z.string().regex(/^\/[^\0]*$/, 'an absolute path');

/** A session's `agent` names a built-in agent or one of these profiles (see daemon/runner/agents.ts). */
export const AGENT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;

/** `agents.<name>` with `type: command`: a CLI run without a shell, the prompt on its stdin. */
export const commandAgentProfileSchema = z.strictObject({
  type: z.literal('command'),
  command: z.array(z.string().min(1).refine((arg) => !arg.includes('\0'), 'must not contain NUL')).min(1, 'needs the program to run').max(256),
  /** Names of the session creator's secrets handed to the command as environment variables. */
  env: z
    .array(z.string().superRefine((name, ctx) => void (whyRefusedEnvName(name) && ctx.addIssue({ code: 'custom', message: whyRefusedEnvName(name)! }))))
    .max(64)
    .default([]),
});
export type CommandAgentProfile = z.output<typeof commandAgentProfileSchema>;

const agentProfiles = z
  .record(z.string().regex(AGENT_NAME_PATTERN, 'agent names are lower-case letters, digits and "-"'), z.discriminatedUnion('type', [commandAgentProfileSchema]))
  .superRefine((profiles, ctx) => {
    for (const name of Object.keys(profiles)) {
      if (isBuiltinAgent(name)) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is a built-in agent (${BUILTIN_AGENTS.join(', ')}); pick another name` });
    }
  });

export const configSchema = z.strictObject({
  daemon: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(3030),
      public_url: z.url().optional(),
      data_dir: z.string().min(1).optional(),
    })
    .prefault({}),
  database: z
    .strictObject({
      url: z
        .string()
        .regex(/^sqlite:/, 'a "sqlite:<path>" URL (relative paths are resolved against AGOR_HOME)')
        .optional(),
    })
    .prefault({}),
  auth: z
    .strictObject({
      jwt_ttl: duration.default('1d'),
      login_max_failures: z.number().int().min(1).max(1000).default(10),
      login_lockout_seconds: z.number().int().min(1).max(86400).default(900),
    })
    .prefault({}),
  execution: z
    .strictObject({
      worktree_rbac: z.boolean().default(false),
      unix_user_mode: z.enum(UNIX_USER_MODES).default('simple'),
      executor_unix_user: z.string().regex(/^agor_[a-z0-9_]{1,24}$/, 'a user name matching agor_[a-z0-9_]{1,24}').default('agor_executor'),
      allow_web_terminal: z.boolean().default(true),
      priv_path: absolutePath.default('/usr/local/libexec/agor/agor-priv'),
      sudo_path: absolutePath.default('/usr/bin/sudo'),
      stop_grace_seconds: z.number().positive().max(300).default(10),
      max_concurrent_tasks: z.number().int().min(1).max(1000).default(8),
      max_tasks_per_user: z.number().int().min(1).max(1000).default(4),
      max_terminals: z.number().int().min(1).max(1000).default(20),
      max_terminals_per_user: z.number().int().min(1).max(100).default(3),
      terminal_idle_seconds: z.number().positive().max(604800).default(1800),
      sandbox_network: z.boolean().default(true),
    })
    .prefault({}),
  agents: agentProfiles.default({}),
  security: z
    .strictObject({
      allow_plaintext_secrets: z.boolean().default(false),
    })
    .prefault({}),
  // The tool policy's ceiling (daemon/policy): worktree owners may only tighten it.
  policy: z
    .strictObject({
      ask_timeout_seconds: z.number().int().min(1).max(86_400).default(600),
      rules: z.array(adminRuleSchema).max(500).default([]),
    })
    .prefault({}),
  // Operating the daemon (issue 23): GET /metrics. Applies live.
  metrics: z
    .strictObject({
      access: z.enum(METRICS_ACCESS).default('admins'),
    })
    .prefault({}),
});

export type AgorConfig = z.output<typeof configSchema>;
