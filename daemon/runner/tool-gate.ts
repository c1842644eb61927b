// The daemon's answer to `tool_request` (DESIGN §10, issue 16): the tool policy decides allow /
// ask / deny; an ask is recorded (tool_approvals row, a `permission_request` message, an audit
// event), the task shows `awaiting_permission`, and the executor's request waits until a person
// answers through the approvals service, the ask times out (deny), or the task ends (deny).
import crypto from 'node:crypto';
import type { Application } from '../declarations.js';
import { appendAudit } from '../audit/chain.js';
import { nowIso } from '../db/database.js';
import { decideToolCall, type SessionGrant } from '../policy/decide-tool.js';
import { parseWorktreeToolPolicy, type PermissionMode } from '../policy/rules.js';
import { classifyToolCall } from '../policy/tool-call.js';
import type { AgentKind } from '../protocol/agents.js';
import type { ApprovalRow, PublicApproval } from '../services/approvals/approvals.schema.js';
import { toPublicApproval } from '../services/approvals/approvals.schema.js';
import type { MessageCreate } from '../services/messages/messages.schema.js';
import type { TaskRow } from '../services/tasks/tasks.schema.js';
import type { TaskStore } from './task-store.js';

export type ToolAnswer = { behavior: 'allow' } | { behavior: 'deny'; message: string };

/** Agents whose gate runs before the tool does (Claude canUseTool, Gemini's BeforeTool hook). Codex reports a call once it has started. */
const PAUSES_BEFORE_RUN: ReadonlySet<AgentKind> = new Set<AgentKind>(['claude-code', 'gemini']);
/** The approvals table keeps rule labels in 200 characters and reasons in 1000. */
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * The agent's options with its own gate's wait made longer than an ask may last: Gemini's BeforeTool
 * hook gives up after `tool_decision_timeout_ms` (30 minutes unless set), which must not cut a
 * person's answer short.
 */
export function withGateTimeout(kind: AgentKind, options: Record<string, unknown>, askTimeoutSeconds: number): Record<string, unknown> {
  if (kind !== 'gemini') return options;
  const needed = (askTimeoutSeconds + 60) * 1000;
  const set = typeof options.tool_decision_timeout_ms === 'number' ? options.tool_decision_timeout_ms : 30 * 60_000;
  return set >= needed ? options : { ...options, tool_decision_timeout_ms: needed };
}

export interface GateTask {
  task: TaskRow;
  sessionId: string;
  worktreePath: string;
  agent: AgentKind;
}

interface Waiter {
  taskId: string;
  settle: (row: ApprovalRow) => void;
}

export class ToolGate {
  private readonly waiters = new Map<string, Waiter>();

  constructor(
    private readonly app: Application,
    private readonly store: TaskStore,
    /** Writes a message of the task in order with its other output (the runner's queue). */
    private readonly writeMessage: (message: MessageCreate) => Promise<void>,
  ) {}

  private get db() {
    return this.app.get('db');
  }

  /** At start: asks a previous daemon left waiting can no longer be answered. */
  async cancelLeftovers(): Promise<void> {
    await this.db('tool_approvals').where('status', 'pending').update({ status: 'cancelled', answered_at: nowIso() });
  }

  async request(gate: GateTask, request: { tool: string; input: unknown }): Promise<ToolAnswer> {
    const { task } = gate;
    const session = await this.db('sessions').where('id', gate.sessionId).first('permission_mode');
    const worktree = await this.db('worktrees').where('id', task.worktree_id).first('tool_policy');
    if (!session || !worktree) return { behavior: 'deny', message: 'the session or its worktree no longer exists' };
    const grants = (await this.db('tool_approvals')
      .where({ session_id: gate.sessionId, status: 'allowed', scope: 'session' })
      .select('tool', 'command_prefix')) as SessionGrant[];
    const call = classifyToolCall(request.tool, request.input, gate.worktreePath);
    const decision = decideToolCall(call, {
      mode: session.permission_mode as PermissionMode,
      worktree: gate.worktreePath,
      adminRules: this.app.get('runtime').config.policy.rules,
      worktreePolicy: parseWorktreeToolPolicy(worktree.tool_policy),
      grants,
      canPauseBeforeRun: PAUSES_BEFORE_RUN.has(gate.agent),
    });
    if (decision.decision === 'allow') return { behavior: 'allow' };
    if (decision.decision === 'deny') return { behavior: 'deny', message: `${request.tool} was denied by the tool policy (${decision.rule}): ${decision.reason}` };
    return this.ask(gate, request, decision.rule, decision.reason);
  }

  private async ask(gate: GateTask, request: { tool: string; input: unknown }, rule: string, reason: string): Promise<ToolAnswer> {
    const { task } = gate;
    const row: ApprovalRow = {
      id: crypto.randomUUID(),
      task_id: task.id,
      session_id: gate.sessionId,
      worktree_id: task.worktree_id,
      tool: request.tool,
      input: JSON.stringify(request.input ?? null),
      rule: clip(rule, 200),
      reason: clip(reason, 1000),
      status: 'pending',
      scope: null,
      command_prefix: null,
      message: null,
      answered_by: null,
      created_at: nowIso(),
      answered_at: null,
    };
    // Waiting before anything is published: an answer can never arrive ahead of its waiter.
    const answered = new Promise<ApprovalRow>((resolve) => this.waiters.set(row.id, { taskId: task.id, settle: resolve }));
    await this.db('tool_approvals').insert(row);
    await this.writeMessage({ task_id: task.id, type: 'permission_request', content: { approval_id: row.id, tool: row.tool, input: request.input ?? null, rule: row.rule, reason: row.reason } });
    await this.store.setAwaitingPermission(task.id, true);
    this.app.service('approvals').emit('created', toPublicApproval(row));
    await appendAudit(this.db, {
      actor: null,
      actor_label: 'tool policy',
      action: 'tool.asked',
      target_type: 'approval',
      target_id: row.id,
      worktree_id: task.worktree_id,
      decision: null,
      details: { tool: row.tool, rule: row.rule, session_id: row.session_id, task_id: task.id, executed_as: task.executed_as },
    });

    const timeoutSeconds = this.app.get('runtime').config.policy.ask_timeout_seconds;
    const timer = setTimeout(() => void this.close(row.id, 'timed_out'), timeoutSeconds * 1000);
    timer.unref();
    const final = await answered;
    clearTimeout(timer);
    if (![...this.waiters.values()].some((w) => w.taskId === task.id)) await this.store.setAwaitingPermission(task.id, false);
    return answerOf(final, timeoutSeconds);
  }

  /** approvals.patch (after): a person answered. */
  answered(approval: PublicApproval): void {
    const waiter = this.waiters.get(approval.id);
    if (!waiter) return;
    this.waiters.delete(approval.id);
    waiter.settle({ ...approval, input: '' } as ApprovalRow);
  }

  /** The task stopped or ended: its asks are cancelled and answered "deny". */
  async cancelTask(taskId: string): Promise<void> {
    await Promise.all([...this.waiters.entries()].filter(([, w]) => w.taskId === taskId).map(([id]) => this.close(id, 'cancelled')));
  }

  /** Closes a pending ask without a person (timeout, task ended); an answer that won the race stands. */
  private async close(id: string, status: 'timed_out' | 'cancelled'): Promise<void> {
    const waiter = this.waiters.get(id);
    if (!waiter) return;
    const changed = await this.db('tool_approvals').where({ id, status: 'pending' }).update({ status, answered_at: nowIso() });
    const row = (await this.db<ApprovalRow>('tool_approvals').where('id', id).first())!;
    if (changed !== 1) {
      // A person answered meanwhile: its after hook settles the waiter (unless it already did).
      if (row.status === 'allowed' || row.status === 'denied') this.answered(toPublicApproval(row));
      return;
    }
    this.waiters.delete(id);
    waiter.settle(row);
    this.app.service('approvals').emit('patched', toPublicApproval(row));
    if (status === 'timed_out') {
      await appendAudit(this.db, {
        actor: null,
        actor_label: 'tool policy',
        action: 'tool.answered',
        target_type: 'approval',
        target_id: id,
        worktree_id: row.worktree_id,
        decision: 'deny',
        details: { tool: row.tool, rule: row.rule, session_id: row.session_id, task_id: row.task_id, timed_out: true },
      });
    }
  }
}

function answerOf(row: ApprovalRow, timeoutSeconds: number): ToolAnswer {
  switch (row.status) {
    case 'allowed':
      return { behavior: 'allow' };
    case 'denied':
      return { behavior: 'deny', message: row.message ? `Denied by a person: ${row.message}` : `${row.tool} was denied by a person` };
    case 'timed_out':
      return { behavior: 'deny', message: `${row.tool} was denied: nobody answered the approval request within ${timeoutSeconds} s` };
    default:
      return { behavior: 'deny', message: `${row.tool} was denied: the task was stopped while it waited for approval` };
  }
}
