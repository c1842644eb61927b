import type { Application, HookContext } from '../../declarations.js';
import { appendAudit } from '../../audit/chain.js';
import { parseInput } from '../validate.js';
import { ApprovalsService } from './approvals.class.js';
import { approvalPatchSchema, approvalQuerySchema, type PublicApproval } from './approvals.schema.js';
import { approvalsMethods, approvalsPath } from './approvals.shared.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [approvalsPath]: ApprovalsService;
  }
}

/** Every answer is audited with who gave it. */
async function auditAnswer(ctx: HookContext<ApprovalsService>): Promise<void> {
  const approval = ctx.result as PublicApproval;
  const user = ctx.params.user!;
  await appendAudit(ctx.app.get('db'), {
    actor: user.id,
    actor_label: user.email,
    action: 'tool.answered',
    target_type: 'approval',
    target_id: approval.id,
    worktree_id: approval.worktree_id,
    decision: approval.status === 'allowed' ? 'allow' : 'deny',
    details: { tool: approval.tool, rule: approval.rule, scope: approval.scope, command_prefix: approval.command_prefix, session_id: approval.session_id, task_id: approval.task_id },
  });
}

export function configureApprovals(app: Application): void {
  app.use(approvalsPath, new ApprovalsService(app), { methods: [...approvalsMethods] });
  app.service(approvalsPath).hooks({
    before: {
      find: [(ctx) => void (ctx.params.query = parseInput(approvalQuerySchema, ctx.params.query ?? {}, 'query'))],
      patch: [(ctx) => void (ctx.data = parseInput(approvalPatchSchema, ctx.data) as never)],
    },
    after: { patch: [auditAnswer] },
  });
}
