export const reposPath = 'repos';
export const reposMethods = ['find', 'get', 'create', 'remove'] as const;
/** Custom event: clone progress lines, sent only to the user who asked for the clone. */
export const repoEvents = ['progress'] as const;
export type { PublicRepo } from './repos.schema.js';
