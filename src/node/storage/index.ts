// The node's durable storage: one LMDB environment, the Raft log in it, and the node's metadata;
// and the Raft log as an append-only write-ahead log (wal/), which is to replace the LMDB one.
export { openNodeDatabase } from './open-database.js';
export { RaftLogStore, type LoadedRaftState } from './raft-log-store.js';
export {
  WalLogStore,
  WalCorruptionError,
  WalUnusableError,
  type WalOptions,
  type LoadedWalState,
  type WalDefect,
} from './wal/index.js';
export { NodeMetaStore, type NodeIdentity, type Member, type Membership } from './node-meta-store.js';
export { encodeEntry, decodeEntry } from './entry-codec.js';
export {
  CorruptEntryError,
  CorruptMetaError,
  NonContiguousLogError,
  type EntryDefect,
  type ContinuityDefect,
} from './errors.js';
