export const messagesPath = 'messages';
/** Messages are append-only and written by the daemon's runner: clients only read them. */
export const messagesMethods = ['find', 'get'] as const;
export type { PublicMessage } from './messages.schema.js';
