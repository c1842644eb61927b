// The executor wire protocol (DESIGN §8), shared by the daemon (daemon/runner) and the executor
// program (daemon/executor). Imports nothing but zod and itself.
export * from './agents.js';
export * from './jsonrpc.js';
export * from './methods.js';
export * from './line-reader.js';
export * from './peer.js';
