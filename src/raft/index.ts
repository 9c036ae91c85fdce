// The consensus core's public surface.
export * from './api.js';
export * from './bootstrap.js';
export * from './confchange.js';
export * from './config.js';
export * from './errors.js';
export * from './local.js';
export { RaftNode } from './raft-node.js';
export * from './types.js';
