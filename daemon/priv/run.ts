// agor-priv's dispatcher: establish that only root could have shaped what runs (its own files, Node,
// the config), then parse argv strictly, then run one verb. Nothing is read from the caller's
// environment or working directory.
import { ensureGroup, ensureUser, removeGroup, setGroupMembers } from './accounts.js';
import { flag, parseArgv } from './argv.js';
import { CONFIG_PATH, loadPrivConfig } from './config.js';
import { encodePlan, planExec } from './exec.js';
import { configError } from './errors.js';
import { checkOthers } from './names.js';
import { prepareWorktree } from './tree.js';
import { removeWorktreeTree } from './remove-tree-verb.js';
import { assertTrustedFile } from './trust.js';

/**
 * Set by the launcher (never by the caller: sudo's env_reset drops the caller's environment) when it
 * asks for exec's plan, which it then exec's itself — so no agor-priv process stays while it runs.
 */
export const HANDOVER_ENV = 'AGOR_PRIV_HANDOVER';

export interface RunOptions {
  /** Files whose ownership is checked before anything else: agor-priv's launcher, bundle and Node. */
  selfFiles: readonly string[];
  configPath?: string;
  /** Where a verb's report goes (stdout). */
  out?: { write(text: string): unknown };
  /** Where exec's plan goes (the launcher reads it); default stdout. */
  writePlan?: (text: string) => void;
  /** Whether the launcher asked for the plan (default: HANDOVER_ENV is "1"). */
  handover?: boolean;
}

/** Runs one invocation; resolves with the exit code (errors are thrown as PrivError). */
export async function run(argv: readonly string[], options: RunOptions): Promise<number> {
  for (const file of options.selfFiles) assertTrustedFile(file, 'agor-priv file');
  const config = loadPrivConfig(options.configPath ?? CONFIG_PATH);
  const args = parseArgv(argv);
  switch (args.verb) {
    case 'ensure-user':
      ensureUser(flag(args, 'user'), config);
      return 0;
    case 'ensure-group':
      ensureGroup(flag(args, 'group'), config);
      return 0;
    case 'set-group-members':
      setGroupMembers(flag(args, 'group'), flag(args, 'members'), config);
      return 0;
    case 'remove-group':
      removeGroup(flag(args, 'group'), config);
      return 0;
    case 'prepare-worktree': {
      const others = checkOthers(flag(args, 'others'));
      const report = prepareWorktree(flag(args, 'path'), flag(args, 'group'), others, config);
      // What the walk left alone, as one JSON line the daemon logs; nothing when it changed everything.
      if (report.skipped > 0 || report.closed > 0) (options.out ?? process.stdout).write(`${JSON.stringify({ prepare_worktree: report })}\n`);
      return 0;
    }
    case 'remove-tree':
      removeWorktreeTree(flag(args, 'path'), config);
      return 0;
    case 'exec': {
      const plan = planExec(
        {
          mode: flag(args, 'mode'),
          user: args.flags.get('user'),
          group: args.flags.get('group'),
          cwd: flag(args, 'cwd'),
          program: flag(args, 'program'),
          term: args.flags.get('term'),
          gitDir: args.flags.get('git-dir'),
          gitCommonDir: args.flags.get('git-common-dir'),
          workTree: args.flags.get('work-tree'),
          objectsDir: args.flags.get('objects-dir'),
          network: args.flags.get('network'),
        },
        config,
      );
      const handover = options.handover ?? process.env[HANDOVER_ENV] === '1';
      if (!handover) throw configError('exec needs the installed launcher (it runs the plan in place of agor-priv); re-run scripts/install-unix-isolation.sh');
      (options.writePlan ?? ((text) => process.stdout.write(text)))(encodePlan(plan));
      return 0;
    }
  }
}
