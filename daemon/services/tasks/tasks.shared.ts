export const tasksPath = 'tasks';
export const tasksMethods = ['find', 'get', 'create', 'patch'] as const;
export type { TaskRow as PublicTask } from './tasks.schema.js';
