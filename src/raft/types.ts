// The vocabulary of the consensus core. Everything here is plain data so that the runtime can
// persist it and the transport can encode it without knowing the core's internals.

/** A node's id in the cluster. 0 means "nobody" (no vote, no known leader). */
export type NodeId = number;
export const NONE: NodeId = 0;

export enum EntryType {
  /** A client command (or, with empty data, the leader's no-op at the start of its term). */
  Normal = 0,
  /** A membership change: data is an encoded ConfChange (see confchange.ts). */
  ConfChange = 1,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** What must be on disk before the node answers anything that depends on it. */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

/** Cluster membership: voters decide; learners receive the log but never vote or count. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export interface SnapshotMeta {
  index: number;
  term: number;
  confState: ConfState;
}

export enum MessageType {
  /** Raft §9.6 PreVote: "would you vote for me at term+1?" without anybody changing term. */
  PreVote = 0,
  PreVoteResp = 1,
  Vote = 2,
  VoteResp = 3,
  /** AppendEntries (also used as heartbeat when it carries no entries). */
  App = 4,
  AppResp = 5,
  /** Heartbeat: commit index and read-index context only, never entries. */
  Heartbeat = 6,
  HeartbeatResp = 7,
  /** The leader tells a follower to install its snapshot (the bytes travel out of band). */
  Snapshot = 8,
  /** Leadership transfer: "start an election now, ignoring your timeout and PreVote". */
  TimeoutNow = 9,
  /** A follower asks the leader for a read index on behalf of its client (ctx identifies it). */
  ReadIndex = 10,
  ReadIndexResp = 11,
}

/**
 * One message between cores. A single shape for all types, as in etcd, so the wire format is one
 * protobuf message. Fields a type does not use are zero/empty.
 */
export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  /** App: term of the entry preceding `entries`; Vote/PreVote: candidate's last log term. */
  logTerm: number;
  /** App: index preceding `entries`; Vote: candidate's last index; AppResp: last matching index. */
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  /** AppResp rejection hint: the follower's guess at the highest index that may still match. */
  rejectHint: number;
  /** AppResp rejection hint: the term of the follower's entry at rejectHint (0 if none). */
  hintTerm: number;
  /** Opaque correlation bytes: ReadIndex request ids, heartbeat read contexts. */
  context: Uint8Array;
  /** Snapshot messages: metadata of the snapshot to install. */
  snapshot?: SnapshotMeta;
}

export enum Role {
  Follower = 'follower',
  PreCandidate = 'pre-candidate',
  Candidate = 'candidate',
  Leader = 'leader',
}

/** Volatile state the runtime may show (status page, metrics, leader redirects). */
export interface SoftState {
  leaderId: NodeId;
  role: Role;
}

/** A ReadIndex answer: once `index` is applied, a read for `context` is linearizable. */
export interface ReadState {
  index: number;
  context: Uint8Array;
}

/**
 * Work for the runtime, in this order:
 *  1. send `messages` (they do not depend on this Ready being durable: the leader's own
 *     AppendEntries may go out while its disk write runs, Raft thesis §10.2.1);
 *  2. persist `hardState` (if set) and `entries` in one durable write — entries replace any
 *     stored entries at the same or higher indexes;
 *  3. only then send `messagesAfterPersist` (votes, append acks: they promise what was persisted);
 *  4. call `advance(ready)`; apply `committedEntries` in order (they are already durable locally).
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  entries: Entry[];
  /** A snapshot received from the leader that must be installed before `entries`. */
  snapshot?: SnapshotMeta;
  messages: Message[];
  messagesAfterPersist: Message[];
  committedEntries: Entry[];
  readStates: ReadState[];
  /** True when hardState or entries must be written with fsync before step 3. */
  mustSync: boolean;
}

export function emptyMessage(type: MessageType, from: NodeId, to: NodeId, term: number): Message {
  return {
    type,
    from,
    to,
    term,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: EMPTY_BYTES,
  };
}

export const EMPTY_BYTES = new Uint8Array(0);
