// What the HTTP layer needs from a node. The runtime implements it; tests implement fakes.
// HTTP never sees Raft messages, only these calls and the service's typed errors (service/errors.ts).
import type { ClusterStatus, JoinRequest, MemberInfo } from '../service/cluster-status.js';
import type { CreateCommandInput, CreateResult, UrlRecord } from '../service/records.js';

/** Set on a join a follower passes on to its leader: the receiver never passes it on again. */
export const FORWARDED_JOIN_HEADER = 'x-join-forwarded-by';

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
