/** Path and methods of the api-keys service. `remove` revokes (the row stays for the record). */
export const apiKeysPath = 'api-keys';
export const apiKeysMethods = ['find', 'get', 'create', 'remove'] as const;
export type { PublicApiKey } from './api-keys.schema.js';
