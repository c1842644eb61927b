import type { RealTimeConnection } from '@feathersjs/feathers';
import type { Application } from '../../declarations.js';
import { terminalsOf } from '../../terminal/manager.js';
import { TerminalsService } from './terminals.class.js';
import { terminalsMethods, terminalsPath } from './terminals.shared.js';

declare module '../../declarations.js' {
  interface ServiceTypes {
    [terminalsPath]: TerminalsService;
  }
}

export function configureTerminals(app: Application): void {
  app.use(terminalsPath, new TerminalsService(app), { methods: [...terminalsMethods] });
  // A connection that goes away (socket closed, logout, user disabled) takes its terminals with it.
  const closeAll = (reason: string) => (connection?: RealTimeConnection) => {
    if (connection) void terminalsOf(app).closeConnection(connection, reason);
  };
  app.on('disconnect', closeAll('the connection closed'));
  app.on('logout', (_result: unknown, params: { connection?: RealTimeConnection }) => closeAll('logout')(params?.connection));
  // Terminals a change of roles, owners or tiers no longer allows are closed by rbac/running.ts.
}
