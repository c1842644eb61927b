import type { Application } from '../declarations.js';
import { configureUsers } from './users/users.js';
import { configureApiKeys } from './api-keys/api-keys.js';
import { configureAudit } from './audit/audit.js';
import { configureUserSecrets } from './user-secrets/user-secrets.js';
import { configureRepos } from './repos/repos.js';
import { configureWorktrees } from './worktrees/worktrees.js';
import { configureWorktreeOwners } from './worktree-owners/worktree-owners.js';
import { configureSessions } from './sessions/sessions.js';
import { configureTasks } from './tasks/tasks.js';
import { configureMessages } from './messages/messages.js';
import { configureBoards } from './boards/boards.js';
import { configureUnixSync } from '../unix/sync-hooks.js';
import { configureTerminals } from './terminals/terminals.js';
import { configureRunningRevocation } from '../rbac/running.js';
import { configureInfo } from './info/info.js';
import { configureWorktreeAccess } from './worktree-access/worktree-access.js';
import { configurePresence } from './presence/presence.js';
import { configureApprovals } from './approvals/approvals.js';
import { configureConfigReload } from '../config/reload-service.js';

export function configureServices(app: Application): void {
  configureUsers(app);
  configureApiKeys(app);
  configureAudit(app);
  configureUserSecrets(app);
  configureRepos(app);
  configureWorktrees(app);
  configureWorktreeOwners(app);
  configureSessions(app);
  configureTasks(app);
  configureMessages(app);
  configureBoards(app);
  configureTerminals(app);
  configureRunningRevocation(app);
  configureInfo(app);
  configureWorktreeAccess(app);
  configurePresence(app);
  configureApprovals(app);
  configureConfigReload(app);
  // Last: its hooks follow every service's own (the OS follows committed, validated changes).
  configureUnixSync(app);
}
