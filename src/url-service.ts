// The node as the HTTP layer sees it (NodeApi): URL-store commands proposed through Raft, local
// reads from the store, cluster status and membership. It translates runtime errors into the
// HTTP layer's typed errors (409 not-leader, 503, 504, ...).
import {
  CODE_TAKEN,
  CommitTimeoutError,
  ConflictError,
  NotLeaderError,
  UnavailableError,
  type ClusterStatus,
  type CreateCommandInput,
  type CreateResult,
  type JoinRequest,
  type MemberInfo,
  type NodeApi,
  type UrlRecord,
} from './http/node-api.js';
import { ProposalDroppedError, RuntimeStoppedError } from './node/errors.js';
import type { RaftRuntime } from './node/runtime.js';
import { DeadlineError } from './node/waiters.js';
import { NotLeaderError as RaftNotLeaderError, ProposalRejectedError, Role } from './raft/index.js';
import { encodeCommand } from './shortener/commands.js';
import type { ApplyOutcome, UrlStore } from './shortener/url-store.js';

type ApplyResult = ApplyOutcome['result'];

export class UrlService implements NodeApi {
  private ready = false;

  constructor(
    private readonly runtime: RaftRuntime<ApplyResult>,
    private readonly store: UrlStore,
    private readonly clusterId: string,
    private readonly proposalTimeoutMs: number,
  ) {}

  async createShortUrl(input: CreateCommandInput): Promise<CreateResult> {
    const result = await this.translate(() =>
      this.runtime.propose(
        encodeCommand({ type: 'create', code: input.code, url: input.url, createdAt: input.createdAt }),
      ),
    );
    if (!result) throw new Error('the state machine returned no result for a create command');
    if ('error' in result) throw new ConflictError(CODE_TAKEN, `code ${result.code} is already taken`);
    return result;
  }

  lookup(code: string): UrlRecord | undefined {
    return this.store.get(code);
  }

  async lookupLinearizable(code: string): Promise<UrlRecord | undefined> {
    await this.translate(() => this.runtime.readIndex(this.proposalTimeoutMs));
    return this.store.get(code);
  }

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
      members: this.memberInfos(),
    };
  }

  async addMember(request: JoinRequest): Promise<MemberInfo[]> {
    this.requireLeader();
    const existing = this.runtime.member(request.id);
    if (existing) {
      if (existing.httpUrl === request.httpUrl && existing.raftAddr === request.raftAddr) {
        // A joiner retrying after a lost answer: the change is already in (or on its way).
        return this.memberInfos();
      }
      throw new ConflictError(
        'member_exists',
        `node ${request.id} is already a member at ${existing.httpUrl}; remove it first to replace it`,
      );
    }
    await this.translate(() => this.runtime.addLearner(request));
    return this.memberInfos();
  }

  async removeMember(id: number): Promise<MemberInfo[]> {
    this.requireLeader();
    if (!this.runtime.member(id)) throw new ConflictError('not_a_member', `node ${id} is not a member`);
    if (id === this.runtime.nodeId) {
      // Removing the leader itself: hand leadership over first (as on SIGTERM), so the cluster
      // gets a ~10 ms blip instead of an election timeout; the client retries on the new leader.
      const newLeader = await this.runtime.handOverLeadership(2_000);
      if (newLeader !== undefined) throw this.notLeader(newLeader);
    }
    await this.translate(() => this.runtime.removeMember(id));
    return this.memberInfos();
  }

  isReady(): boolean {
    return this.ready && this.runtime.leaderId !== 0;
  }

  markReady(): void {
    this.ready = true;
  }

  private memberInfos(): MemberInfo[] {
    const st = this.runtime.status();
    return this.runtime.memberList().map((m) => {
      const progress = st.progress.get(m.id);
      return {
        id: m.id,
        httpUrl: m.httpUrl,
        raftAddr: m.raftAddr,
        voter: st.confState.voters.includes(m.id),
        ...(progress ? { matchIndex: progress.matchIndex } : {}),
      };
    });
  }

  private requireLeader(): void {
    if (this.runtime.role !== Role.Leader) throw this.notLeader(this.runtime.leaderId);
  }

  private notLeader(leaderId: number): NotLeaderError {
    const url = leaderId ? this.runtime.member(leaderId)?.httpUrl || null : null;
    return new NotLeaderError(url ? leaderId : 0, url);
  }

  /** Runs a runtime call, mapping its errors to the HTTP layer's. */
  private async translate<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof RaftNotLeaderError) throw this.notLeader(err.leaderId);
      if (err instanceof DeadlineError) throw new CommitTimeoutError(err.timeoutMs);
      if (err instanceof ProposalDroppedError) throw new UnavailableError(err.message);
      if (err instanceof RuntimeStoppedError) throw new UnavailableError(err.message);
      if (err instanceof ProposalRejectedError)
        throw new ConflictError('membership_change_in_progress', err.message);
      throw err;
    }
  }
}
