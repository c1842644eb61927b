// get_credentials, the daemon's side (DESIGN §8): which of the secrets an executor asks for it gets,
// whose they are, and the audit of each delivery. Decryption itself is crypto/credentials-for-task.ts.
import type { Application } from '../declarations.js';
import { appendAudit } from '../audit/chain.js';
import { credentialsForTask } from '../crypto/credentials-for-task.js';
import { secretBoxOf } from '../crypto/secrets-at-rest.js';
import { whyRefusedEnvName } from '../crypto/env-names.js';
import type { SessionRow } from '../services/sessions/sessions.schema.js';
import type { TaskRow } from '../services/tasks/tasks.schema.js';
import type { AgentProfile } from './agents.js';

export interface CredentialRequest {
  task: TaskRow;
  session: SessionRow;
  profile: AgentProfile;
  /** What the executor asked for (untrusted: filtered here). */
  names: string[];
}

/**
 * The session CREATOR's secrets (never the prompter's), only names this agent may have, decrypted
 * just now, for the executor's pipe only. Each delivery is audited by name, never value.
 */
export async function deliverCredentials(app: Application, log: (line: string) => void, { task, session, profile, names }: CredentialRequest): Promise<Record<string, string>> {
  const db = app.get('db');
  const allowed = new Set(profile.credentialNames);
  const wanted = [...new Set(names)].filter((n) => allowed.has(n) && whyRefusedEnvName(n) === null);
  const refused = names.filter((n) => !wanted.includes(n));
  if (refused.length > 0) log(`[runner] task ${task.id}: the ${profile.name} agent asked for credentials it may not have (not sent): ${refused.slice(0, 10).join(', ')}`);
  if (wanted.length === 0) return {};
  const credentials = await credentialsForTask(db, secretBoxOf(app), { userId: session.created_by, names: wanted });
  const delivered = Object.keys(credentials).sort();
  if (delivered.length > 0) {
    const prompter = await db('users').where('id', task.created_by).first('id', 'email');
    await appendAudit(db, {
      actor: prompter?.id ?? null,
      actor_label: prompter?.email ?? 'system',
      action: 'secret.delivered',
      target_type: 'task',
      target_id: task.id,
      worktree_id: task.worktree_id,
      decision: 'allow',
      details: { secret_names: delivered, owner: session.created_by, session_id: session.id, agent: profile.name },
    });
  }
  return credentials;
}
