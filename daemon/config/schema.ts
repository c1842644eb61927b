import { z } from 'zod';

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

const absolutePath = z.string().regex(/^\/[^\0]*$/, 'an absolute path');

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
      stop_grace_seconds: z.number().positive().max(300).default(5),
    })
    .prefault({}),
  security: z
    .strictObject({
      allow_plaintext_secrets: z.boolean().default(false),
    })
    .prefault({}),
});

export type AgorConfig = z.output<typeof configSchema>;
