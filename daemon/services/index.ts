import type { Application } from '../declarations.js';
import { configureUsers } from './users/users.js';
import { configureApiKeys } from './api-keys/api-keys.js';

export function configureServices(app: Application): void {
  configureUsers(app);
  configureApiKeys(app);
}
