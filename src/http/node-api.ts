// What the HTTP layer needs from a node. The runtime implements it; tests implement fakes.
// HTTP never sees Raft messages, only these calls and their typed errors.

export interface UrlRecord {
  code: string;
  /** The long URL, normalized (WHATWG URL href). */
  url: string;
  /** Milliseconds since the epoch, decided by the leader at proposal time. */
  createdAt: number;
  /** When it stops redirecting (ms since the epoch, fixed by the leader); absent: never. */
  expiresAt?: number;
  /** The code is a custom alias chosen by the client (not generated). */
  alias?: boolean;
}

export interface CreateResult extends UrlRecord {
  /** false when the URL already had a code: the existing record is returned. */
  created: boolean;
  /** true when an Idempotency-Key matched an earlier create: this is that create's result. */
  replayed?: boolean;
}

export interface CreateCommandInput {
  code: string;
  url: string;
  createdAt: number;
  /** `code` is the client's alias: never deduplicated; taken → ConflictError(ALIAS_TAKEN). */
  alias?: boolean;
  expiresAt?: number;
  /** The request's Idempotency-Key, what it was used for, and until when it is remembered. */
  idempotency?: { key: string; fingerprint: string; expiresAt: number };
}

/** True when the record has an expiry at or before `now` (the reading node's clock). */
export function isExpired(record: UrlRecord, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= now;
}

export interface MemberInfo {
  id: number;
  httpUrl: string;
  raftAddr: string;
  /** Binds the id to the member's data (absent for members from before node UUIDs). */
  nodeUuid?: string;
  voter: boolean;
  /** Known on the leader only. */
  matchIndex?: number;
}

export interface ClusterStatus {
  id: number;
  /** Random id fixed when the cluster is bootstrapped; peers from another cluster are refused. */
  clusterId: string;
  role: 'leader' | 'follower' | 'candidate' | 'pre-candidate';
  term: number;
  leaderId: number;
  leaderUrl: string | null;
  commitIndex: number;
  appliedIndex: number;
  /** The log is compacted up to here: its first entry is the next one. */
  snapshotIndex: number;
  members: MemberInfo[];
}

/** Set on a join a follower passes on to its leader: the receiver never passes it on again. */
export const FORWARDED_JOIN_HEADER = 'x-join-forwarded-by';

export interface JoinRequest {
  id: number;
  httpUrl: string;
  raftAddr: string;
  /** The joining node's UUID, made when its data dir was first used. */
  nodeUuid?: string;
}

export interface NodeApi {
  /** Proposes a create and resolves once it is committed and applied on this (leader) node. */
  createShortUrl(input: CreateCommandInput): Promise<CreateResult>;
  /**
   * Proposes the deletion of a code; resolves once applied on this (leader) node: true when it
   * existed and is gone, false when there was no such code.
   */
  deleteShortUrl(code: string): Promise<boolean>;
  /** Local read from this node's copy (possibly a little behind the leader). Expired records included. */
  lookup(code: string): UrlRecord | undefined;
  /**
   * After lookup() found nothing: on a follower, waits for one ReadIndex round (has this node
   * applied what the leader had committed?) and looks again, so a code the leader acknowledged a
   * moment ago is not a 404 here. Bounded: without a leader, or past the bound, it is the local answer.
   */
  lookupAfterMiss(code: string): Promise<UrlRecord | undefined>;
  /**
   * Linearizable read (ReadIndex): sees every write acknowledged before the call, on any node.
   * Costs a heartbeat round to the leader's majority.
   */
  lookupLinearizable(code: string): Promise<UrlRecord | undefined>;
  status(): ClusterStatus;
  /**
   * Adds a member (as learner, promoted once caught up); resolves with the membership. A follower
   * passes the join on to its leader, unless it is itself `forwarded` (then: NotLeaderError).
   */
  addMember(request: JoinRequest, options?: { forwarded?: boolean }): Promise<MemberInfo[]>;
  /** Leader only: removes a member. Resolves with the membership. */
  removeMember(id: number): Promise<MemberInfo[]>;
  /**
   * A consistent snapshot of this node's URL store (a backup): its Raft index and its bytes in the
   * snapshot file format. The caller must close() it, also when the transfer breaks.
   */
  backup(): Promise<{ index: number; term: number; bytes: AsyncIterable<Uint8Array>; close(): void }>;
  /** Can take writes: knows a leader and has applied what it was behind at start or join; not stopping. */
  isReady(): boolean;
  /**
   * Can serve redirects: has caught up with a leader once since it started, and is not stopping.
   * Stays true through an election or a lost quorum: local data is then as current as it gets.
   */
  isReadyForRedirects(): boolean;
}

/** This node cannot take writes. leaderId 0 / leaderUrl null: no leader is known (HTTP 503). */
export class NotLeaderError extends Error {
  constructor(
    readonly leaderId: number,
    readonly leaderUrl: string | null,
  ) {
    super(leaderId ? `this node is not the leader; send writes to node ${leaderId}` : 'no leader is known');
    this.name = 'NotLeaderError';
  }
}

/** The write was proposed but did not commit in time; it may still commit later (HTTP 504). */
export class CommitTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the write did not commit within ${timeoutMs} ms; it may still be applied`);
    this.name = 'CommitTimeoutError';
  }
}

/** A request the cluster refuses as it stands, e.g. a second membership change while one is pending. */
export class ConflictError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

/**
 * ConflictError.errorCode with which createShortUrl rejects when apply finds the proposed code
 * already taken by another URL. Not the client's fault: HTTP retries with a fresh code.
 */
export const CODE_TAKEN = 'code_taken';

/** ConflictError.errorCode: the client's alias already belongs to a live short URL (HTTP 409). */
export const ALIAS_TAKEN = 'alias_taken';

/** ConflictError.errorCode: the Idempotency-Key was first used with another request (HTTP 422). */
export const IDEMPOTENCY_KEY_REUSED = 'idempotency_key_reused';

/** The node is shutting down or otherwise cannot serve the request now (HTTP 503). */
export class UnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnavailableError';
  }
}
