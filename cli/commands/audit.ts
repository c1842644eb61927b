import fs from 'node:fs';
import type { Command } from 'commander';
import type { Paginated } from '@feathersjs/feathers';
import { connect } from '../client.js';
import { CliError } from '../errors.js';
import { runtimeOf, type GlobalOptions } from '../context.js';
import { openDatabase } from '../../daemon/db/database.js';
import { verifyAuditChain } from '../../daemon/audit/chain.js';
import { auditPath, type PublicAuditEvent } from '../../daemon/services/audit/audit.shared.js';

const POLL_MS = 1000;
const PAGE = 1000;

function formatEvent(e: PublicAuditEvent): string {
  const target = e.target_type || e.target_id ? `${e.target_type ?? '-'}:${e.target_id ?? '-'}` : '-';
  const details = e.details === null ? '' : typeof e.details === 'string' ? e.details : JSON.stringify(e.details);
  return [String(e.seq).padStart(6), e.at, e.actor_label, e.action, target, e.decision ?? '-', details].join('  ').trimEnd();
}

interface TailOptions {
  lines: number;
  follow?: boolean;
  action?: string;
  actor?: string;
  worktree?: string;
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description("re-check the hash chain in this machine's database (run where AGOR_HOME is; the daemon may be running)")
    .action(async (_opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const runtime = runtimeOf(globals);
      if (!fs.existsSync(runtime.databaseFile)) throw new CliError(`No database at ${runtime.databaseFile}: run \`agor init\` first`, 2);
      const db = await openDatabase(runtime.databaseFile);
      let result;
      try {
        result = await verifyAuditChain(db);
      } finally {
        await db.destroy();
      }
      if (globals.json) console.log(JSON.stringify(result, null, 2));
      else console.log(result.ok ? `OK: ${result.count} events` : `BROKEN at seq ${result.seq}: ${result.reason}`);
      if (!result.ok) process.exitCode = 1;
    });
  audit
    .command('tail')
    .description('show the newest events (admins and owners); -f keeps following')
    .option('-n, --lines <n>', 'how many events', (v) => Number.parseInt(v, 10), 20)
    .option('-f, --follow', 'keep printing new events (Ctrl-C stops)')
    .option('--action <action>', 'only this action, or a prefix like "user.*"')
    .option('--actor <id>', 'only events by this user id')
    .option('--worktree <id>', 'only events of this worktree')
    .action(async (opts: TailOptions, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      if (!Number.isInteger(opts.lines) || opts.lines < 0 || opts.lines > 1000) throw new CliError('-n must be a number from 0 to 1000', 2);
      const service = (await connect(globals)).app.service(auditPath);
      const filters = {
        ...(opts.action && { action: opts.action }),
        ...(opts.actor && { actor: opts.actor }),
        ...(opts.worktree && { worktree_id: opts.worktree }),
      };
      // --json prints one event per line, so a follower can be piped into a JSON-lines consumer.
      const print = (e: PublicAuditEvent) => console.log(globals.json ? JSON.stringify(e) : formatEvent(e));
      const newest = (await service.find({ query: { ...filters, $limit: opts.lines } })) as Paginated<PublicAuditEvent>;
      newest.data.reverse().forEach(print);
      if (!opts.follow) return;
      let last = newest.data.at(-1)?.seq ?? ((await service.find({ query: { $limit: 1 } })) as Paginated<PublicAuditEvent>).data[0]?.seq ?? 0;
      process.once('SIGINT', () => process.exit(0));
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        // Newest first from the API: page back until everything after `last` is in hand.
        // Events arriving meanwhile shift the pages, so an event may come twice: keyed by seq.
        const fresh = new Map<number, PublicAuditEvent>();
        for (let skip = 0; ; skip += PAGE) {
          const page = (await service.find({ query: { ...filters, after_seq: last, $limit: PAGE, $skip: skip } })) as Paginated<PublicAuditEvent>;
          for (const e of page.data) fresh.set(e.seq, e);
          if (page.data.length < PAGE || skip + PAGE >= page.total) break;
        }
        const ordered = [...fresh.values()].sort((a, b) => a.seq - b.seq);
        ordered.forEach(print);
        if (ordered.length) last = ordered.at(-1)!.seq;
      }
    });
}
