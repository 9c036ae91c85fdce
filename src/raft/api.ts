// The public contract of the consensus core: how the runtime (and the simulation) drives it.
import type { ConfState, Entry, HardState, NodeId, Role, SnapshotMeta } from './types.js';

export interface RaftConfig {
  id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns; randomized in [n, 2n). */
  electionTicks: number;
  /** Ticks between leader heartbeats; must be well below electionTicks. */
  heartbeatTicks: number;
  /** Caps one AppendEntries: at most this many entries ... */
  maxEntriesPerMessage: number;
  /** ... and about this many bytes of entry data. */
  maxBytesPerMessage: number;
  /** Pipelining window: AppendEntries in flight to one follower before waiting for acks. */
  maxInflightMessages: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Source of randomness for election timeouts: seeded in simulations, Math.random in production. */
  random: () => number;
  /**
   * When the commit index advances and no new entries go out with it, hold the AppendEntries
   * that would tell the followers until flushCommitBroadcast() (or a heartbeat, or the next
   * proposal's AppendEntries, which carry it anyway). Under steady writes the next proposal comes
   * within a millisecond, so this halves the messages per write; the runtime bounds the wait with
   * a short timer. Only followers' apply is delayed: commits (and so client acks) are not. Off by
   * default, as in etcd, which always broadcasts at once.
   */
  lazyCommitBroadcast?: boolean;
}

/** What a node had on disk when it (re)starts. A brand-new cluster member passes its ConfState. */
export interface PersistedState {
  hardState: HardState;
  /** The stored log after the snapshot (if any), contiguous and in index order. */
  entries: Entry[];
  /** The latest snapshot; the log starts right after snapshot.index. */
  snapshot?: SnapshotMeta;
  /**
   * Membership as of the snapshot (or the initial membership): membership-change entries in
   * `entries` up to `applied` are replayed over it. Passing a later membership is also fine, since
   * replaying a change it already includes changes nothing.
   */
  confState: ConfState;
  /** Highest index already applied to the state machine (entries up to it are not handed out again). */
  applied: number;
}

export interface ProposalTicket {
  index: number;
  term: number;
}

export interface RaftStatus {
  id: NodeId;
  role: Role;
  term: number;
  vote: NodeId;
  leaderId: NodeId;
  commitIndex: number;
  appliedIndex: number;
  lastIndex: number;
  /** Index of the last entry known durable on this node. */
  persistedIndex: number;
  confState: ConfState;
  /** Leader only: per-follower replication progress. */
  progress: Map<NodeId, { matchIndex: number; nextIndex: number; state: string; recentActive: boolean }>;
  /** Set while a leadership transfer is under way. */
  leadTransferee: NodeId;
}
