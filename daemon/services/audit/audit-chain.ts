import type { Params } from '@feathersjs/feathers';
import type { Application } from '../../declarations.js';
import { allowOrThrow, subjectOf } from '../../rbac/authorize.js';
import { verifyAuditChain } from '../../audit/chain.js';
import { parseInput } from '../validate.js';
import { z } from 'zod';
import { auditChainMethods, auditChainPath, type AuditChainStatus } from './audit-chain.shared.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [auditChainPath]: AuditChainService;
  }
}

/**
 * GET /audit-chain: the same whole-chain check as `agor audit verify`, through the API, so the web
 * settings can show "verified" or "broken at seq N". Admins and owners only: the answer names
 * hashes and the size of the whole log, which worktree owners' scoped view does not cover.
 */
export class AuditChainService {
  constructor(private readonly app: Application) {}

  async find(params: Params): Promise<AuditChainStatus> {
    const subject = subjectOf(params);
    allowOrThrow(subject, 'audit.verify_chain');
    parseInput(z.strictObject({}), params.query ?? {}, 'query');
    const result = await verifyAuditChain(this.app.get('db'));
    return { ...result, checked_at: new Date().toISOString() };
  }
}

export function configureAuditChain(app: Application): void {
  app.use(auditChainPath, new AuditChainService(app), { methods: [...auditChainMethods], events: [] });
}
