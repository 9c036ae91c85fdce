// Cluster administration: status, membership changes (joins, including a follower passing one on
// to its leader, and removals), and backups. Membership changes go through the Raft log, so they
// are the leader's; a follower answers NotLeaderError naming it.
import { Role } from '../raft/index.js';
import type { UrlStore } from '../shortener/url-store.js';
import type { ClusterStatus, JoinRequest, MemberInfo } from '../domain/cluster-status.js';
import {
  MEMBER_EXISTS,
  NOT_A_MEMBER,
  NOT_LEADER,
  ConflictError,
  UnavailableError,
} from '../domain/errors.js';
import { notLeader, translateRuntimeErrors, type UrlRuntime } from './runtime-calls.js';

/** A consistent snapshot of the URL store, streamed; the caller must close() it, also on failure. */
export interface Backup {
  index: number;
  term: number;
  bytes: AsyncIterable<Uint8Array>;
  close(): void;
}

/** The leader's answer to a join a follower passed on: its HTTP status and JSON body. */
export interface ForwardedAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** Passes a join on to the leader at leaderUrl (http/join-forward.ts does it over HTTP). */
export type ForwardJoin = (leaderUrl: string, request: JoinRequest) => Promise<ForwardedAnswer>;

export class ClusterAdmin {
  private forwardJoin: ForwardJoin | undefined;

  constructor(
    private readonly runtime: UrlRuntime,
    private readonly store: Pick<UrlStore, 'flush'>,
    private readonly clusterId: string,
  ) {}

  status(): ClusterStatus {
    const st = this.runtime.status();
    const leader = this.runtime.member(st.leaderId);
    return {
      id: st.id,
      clusterId: this.clusterId,
      role: st.role,
      term: st.term,
      leaderId: st.leaderId,
      leaderUrl: leader?.httpUrl || null,
      commitIndex: st.commitIndex,
      appliedIndex: this.runtime.appliedIndex,
      snapshotIndex: this.runtime.snapshotIndex,
      members: this.memberInfos(st),
    };
  }

  async backup(): Promise<Backup> {
    // A backup holds everything applied here when it was asked for, not just the last timed
    // flush (a transfer to a follower need not wait: the log covers the difference).
    await this.store.flush();
    const snapshot = this.runtime.captureSnapshot();
    return {
      index: snapshot.meta.index,
      term: snapshot.meta.term,
      bytes: snapshot.bytes,
      close: snapshot.close,
    };
  }

  /**
   * Adds a member (as learner, promoted once caught up); resolves with the membership. A follower
   * passes the join on to its leader, unless it is itself `forwarded` (then: NotLeaderError).
   */
  async addMember(request: JoinRequest, options: { forwarded?: boolean } = {}): Promise<MemberInfo[]> {
    if (this.runtime.role !== Role.Leader && !options.forwarded && this.forwardJoin) {
      return this.passJoinToLeader(this.forwardJoin, request);
    }
    this.requireLeader();
    const existing = this.runtime.member(request.id);
    if (existing && !this.mayRejoin(existing, request)) {
      // A joiner retrying after a lost answer: the change is already in (or on its way).
      return this.memberInfos();
    }
    await translateRuntimeErrors(this.runtime, () => this.runtime.addLearner(request));
    return this.memberInfos();
  }

  /** Lets a follower pass joins on to its leader (see http/join-forward.ts). */
  enableJoinForwarding(forward: ForwardJoin): void {
    this.forwardJoin = forward;
  }

  /** A join that reached a follower, answered by the leader (its errors keep their codes). */
  private async passJoinToLeader(forward: ForwardJoin, request: JoinRequest): Promise<MemberInfo[]> {
    const leaderId = this.runtime.leaderId;
    const leaderUrl = leaderId ? this.runtime.member(leaderId)?.httpUrl : undefined;
    if (!leaderUrl) throw notLeader(this.runtime, leaderId);
    let answer;
    try {
      answer = await forward(leaderUrl, request);
    } catch (err) {
      throw new UnavailableError(
        `the leader (node ${leaderId}) could not be reached: ${(err as Error).message}`,
      );
    }
    const { status, body } = answer;
    if (status === 200 && Array.isArray(body.members)) return body.members as MemberInfo[];
    const message = typeof body.message === 'string' ? body.message : `the leader answered ${status}`;
    if (status === 409 && typeof body.error === 'string' && body.error !== NOT_LEADER) {
      throw new ConflictError(body.error, message);
    }
    // Leadership moved, no quorum, a timeout: the joiner retries.
    throw new UnavailableError(`the leader (node ${leaderId}) did not take the join: ${message}`);
  }

  /**
   * Whether a join under the id of an existing member adds it again (true), is a retry of its own
   * join (false), or is refused (throws). A join never changes a member's addresses, and a node
   * that runs on other data than the member (its data dir was lost: it forgot its votes and its
   * log) never takes the member's place once that member counts or holds entries: only a learner
   * that has replicated nothing yet (a join interrupted before it stored anything) is taken over.
   */
  private mayRejoin(existing: Omit<MemberInfo, 'voter'>, request: JoinRequest): boolean {
    const id = request.id;
    if (existing.httpUrl !== request.httpUrl || existing.raftAddr !== request.raftAddr) {
      throw new ConflictError(
        MEMBER_EXISTS,
        `node ${id} is already a member at ${existing.httpUrl} (raft ${existing.raftAddr}); a join never ` +
          `changes a member's addresses: remove member ${id} first, or join with another id`,
      );
    }
    if (existing.nodeUuid === request.nodeUuid) return false;
    const st = this.runtime.status();
    const voter = st.confState.voters.includes(id);
    if (voter || (st.progress.get(id)?.matchIndex ?? 0) > 0) {
      throw new ConflictError(
        MEMBER_EXISTS,
        `node ${id} is already a member (${voter ? 'a voter' : 'a learner holding entries'}) running on other ` +
          `data (node UUID ${existing.nodeUuid ?? 'unknown'}, the joiner's is ${request.nodeUuid ?? 'unknown'}): ` +
          `this node's data dir was lost or replaced, and a node that forgot its votes and log must not ` +
          `count as that member. Remove the old member first (DELETE /cluster/members/${id} on the ` +
          `leader), then start this node again with --join to join as a new member; or give it a new --id.`,
      );
    }
    return true;
  }

  /** Leader only: removes a member. Resolves with the membership. */
  async removeMember(id: number): Promise<MemberInfo[]> {
    this.requireLeader();
    if (!this.runtime.member(id)) throw new ConflictError(NOT_A_MEMBER, `node ${id} is not a member`);
    if (id === this.runtime.nodeId) {
      // Removing the leader itself: hand leadership over first (as on SIGTERM), so the cluster
      // gets a ~10 ms blip instead of an election timeout; the client retries on the new leader.
      const newLeader = await this.runtime.handOverLeadership(2_000);
      if (newLeader !== undefined) throw notLeader(this.runtime, newLeader);
    }
    await translateRuntimeErrors(this.runtime, () => this.runtime.removeMember(id));
    return this.memberInfos();
  }

  /** `st`: the core's status when the caller already has it (building one walks every peer). */
  private memberInfos(st = this.runtime.status()): MemberInfo[] {
    return this.runtime.memberList().map((m) => {
      const progress = st.progress.get(m.id);
      return {
        id: m.id,
        httpUrl: m.httpUrl,
        raftAddr: m.raftAddr,
        ...(m.nodeUuid === undefined ? {} : { nodeUuid: m.nodeUuid }),
        voter: st.confState.voters.includes(m.id),
        ...(progress ? { matchIndex: progress.matchIndex } : {}),
      };
    });
  }

  private requireLeader(): void {
    if (this.runtime.role !== Role.Leader) throw notLeader(this.runtime, this.runtime.leaderId);
  }
}
