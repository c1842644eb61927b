export const boardsPath = 'boards';
export const boardsMethods = ['find', 'get', 'create', 'patch', 'remove'] as const;
export const boardItemsPath = 'board-items';
export const boardItemsMethods = ['find', 'create', 'patch', 'remove'] as const;
export type { BoardRow as PublicBoard, BoardItemRow as PublicBoardItem } from './boards.schema.js';
