// The node's durable storage: the Raft log (hard state and entries) in an append-only write-ahead
// log (wal/), and one LMDB environment for the node's identity and membership (and, opened by the
// shortener, the URL store).
export { openNodeDatabase } from './open-database.js';
export { lockDataDir, DataDirInUseError } from './data-dir-lock.js';
export {
  WalLogStore,
  WalCorruptionError,
  WalUnusableError,
  WalDiskFullError,
  type WalOptions,
  type LoadedWalState,
  type WalDefect,
} from './wal/index.js';
export {
  NodeMetaStore,
  type NodeIdentity,
  type Member,
  type Membership,
  type PendingJoin,
} from './node-meta-store.js';
export { encodeEntry, decodeEntry } from './entry-codec.js';
export {
  CorruptEntryError,
  CorruptMetaError,
  NonContiguousLogError,
  type EntryDefect,
  type ContinuityDefect,
} from './errors.js';
