// The Raft log as an append-only write-ahead log (see wal-log-store.ts).
export { WalLogStore, type WalOptions, type LoadedWalState } from './wal-log-store.js';
export { WalCorruptionError, WalDiskFullError, WalUnusableError, type WalDefect } from './wal-errors.js';
