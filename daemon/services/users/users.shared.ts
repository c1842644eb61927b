/** Path and methods of the users service; imported by the CLI and the UI's typed client. */
export const usersPath = 'users';
export const usersMethods = ['find', 'get', 'create', 'patch', 'remove'] as const;
export type { PublicUser } from './users.schema.js';
