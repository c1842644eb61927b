import type { NextFunction } from '@feathersjs/feathers';
import type { HookContext } from '../declarations.js';
import { appendAudit } from './chain.js';
import { auditActor, ANONYMOUS_ACTOR } from './events.js';

const DENIAL = Symbol.for('agor.audit.denial');
const RECORDED = Symbol.for('agor.audit.recorded');

interface DenialInfo {
  worktree_id?: string | null;
  reason?: string;
}

/**
 * Marks an error that is not a Forbidden as an authorization denial to record, e.g. the NotFound
 * that hides a worktree its caller may not see. The mark is a symbol, so it never reaches the
 * client and the error stays indistinguishable from a real "not found".
 */
export function auditedDenial<E extends Error>(error: E, info: DenialInfo = {}): E {
  Object.defineProperty(error, DENIAL, { value: info, enumerable: false });
  return error;
}

function denialOf(error: unknown): DenialInfo | null {
  if (!error || typeof error !== 'object') return null;
  const marked = (error as Record<symbol, DenialInfo | undefined>)[DENIAL];
  if (marked) return marked;
  const { code, className } = error as { code?: unknown; className?: unknown };
  return code === 403 && className === 'forbidden' ? {} : null;
}

/**
 * App-wide around hook, outermost: every authorization denial of an external call is written to
 * the audit log with the caller, path, method and id, then the error goes on unchanged. Nested
 * service calls share the error object, so one denial is recorded once.
 */
export async function auditDenials(context: HookContext, next: NextFunction): Promise<void> {
  try {
    await next();
  } catch (error) {
    const denial = context.params.provider ? denialOf(error) : null;
    if (denial && !(error as Record<symbol, unknown>)[RECORDED]) {
      Object.defineProperty(error, RECORDED, { value: true, enumerable: false });
      try {
        await appendAudit(context.app.get('db'), {
          ...auditActor(context.params.user, ANONYMOUS_ACTOR),
          action: 'authz.denied',
          target_type: context.path,
          target_id: context.id ?? null,
          worktree_id: denial.worktree_id ?? null,
          decision: 'deny',
          details: {
            path: context.path,
            method: context.method,
            id: context.id ?? null,
            provider: context.params.provider,
            reason: denial.reason ?? (error as Error).message,
            ...(context.params.apiKey && { api_key_id: context.params.apiKey.id }),
          },
        });
      } catch (auditError) {
        // The caller still gets its denial; the failure to record it must be seen by an operator.
        console.error('[SECURITY] could not record an authorization denial in the audit log:', auditError);
      }
    }
    throw error;
  }
}
