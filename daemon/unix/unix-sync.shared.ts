/** Path and methods of the unix-sync service (`agor admin sync-unix`); imported by the CLI. */
export const unixSyncPath = 'unix-sync';
export const unixSyncMethods = ['create'] as const;
export type { SyncReport, SyncAction } from './sync.js';
