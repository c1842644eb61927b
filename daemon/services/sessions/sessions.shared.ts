export const sessionsPath = 'sessions';
export const sessionsMethods = ['find', 'get', 'create', 'patch', 'remove'] as const;
export type { PublicSession } from './sessions.schema.js';
