/** Path and methods of the api-keys service. `remove` revokes (the row stays for the record). */
export const apiKeysPath = 'api-keys';
export const apiKeysMethods = ['find', 'get', 'create', 'remove'] as const;
export type { PublicApiKey } from './api-keys.schema.js';
/** What a new key's expiry defaults to, in the UI and the CLI alike (the API itself has no default). */
export const DEFAULT_API_KEY_EXPIRY_DAYS = 90;
