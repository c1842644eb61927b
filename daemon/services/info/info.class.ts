import type { Application } from '../../declarations.js';
import { knownAgentNames, requiredAgentCredentials } from '../../runner/agents.js';
import type { DaemonInfo } from './info.shared.js';

/** Facts only, built field by field: nothing from config that could be a path, a key or a secret. */
export class InfoService {
  constructor(private readonly app: Application) {}

  async find(): Promise<DaemonInfo> {
    const { config } = this.app.get('runtime');
    return {
      version: this.app.get('version'),
      worktree_rbac: config.execution.worktree_rbac,
      unix_user_mode: config.execution.unix_user_mode,
      web_terminal: config.execution.allow_web_terminal,
      agents: knownAgentNames(config),
      agent_credentials: requiredAgentCredentials(config),
    };
  }
}
