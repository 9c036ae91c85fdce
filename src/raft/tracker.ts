// The progress tracker, as in etcd's raft: the membership in force, what the leader knows of each
// member's log, the votes of an election under way, and the quorum questions asked of them (what
// is committed, who won, is a majority still there). The node's role logic asks; it never counts.
import { applyConfChange, type ConfChange } from './confchange.js';
import { Progress } from './progress.js';
import { hasQuorum, quorumMatchIndex, tallyVotes, type VoteResult } from './quorum.js';
import type { ConfState, NodeId } from './types.js';

export class ProgressTracker {
  private conf: ConfState;
  private readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();

  constructor(
    conf: ConfState,
    private readonly maxInflight: number,
  ) {
    this.conf = copyConf(conf);
  }

  // ---------------------------------------------------------------- configuration

  get voters(): readonly NodeId[] {
    return this.conf.voters;
  }

  isVoter(id: NodeId): boolean {
    return this.conf.voters.includes(id);
  }

  /** True when `id` is the only voter: it decides alone. */
  isSingleton(id: NodeId): boolean {
    return this.conf.voters.length === 1 && this.conf.voters[0] === id;
  }

  /** A copy of the membership in force. */
  confState(): ConfState {
    return copyConf(this.conf);
  }

  /** Replaces the membership (a snapshot's); the progress map is rebuilt at the next reset. */
  setConf(conf: ConfState): void {
    this.conf = copyConf(conf);
  }

  /**
   * Applies a membership change: members that joined are tracked from `nextIndex` on, a promoted
   * learner keeps its progress, a removed member is forgotten.
   */
  applyConfChange(cc: ConfChange, nextIndex: number): void {
    this.conf = applyConfChange(this.conf, cc);
    for (const id of this.conf.voters) {
      const pr = this.progress.get(id);
      if (pr) pr.isLearner = false;
      else this.progress.set(id, new Progress(nextIndex, this.maxInflight, false));
    }
    for (const id of this.conf.learners) {
      if (!this.progress.has(id)) this.progress.set(id, new Progress(nextIndex, this.maxInflight, true));
    }
    for (const id of [...this.progress.keys()]) {
      if (!this.conf.voters.includes(id) && !this.conf.learners.includes(id)) this.progress.delete(id);
    }
  }

  // ---------------------------------------------------------------- progress

  /**
   * Forgets what was known of every member's log (a new term): each is probed from `nextIndex`,
   * except `self`, whose log is its own and matches up to `selfMatch`.
   */
  resetProgress(nextIndex: number, self: NodeId, selfMatch: number): void {
    this.progress.clear();
    for (const id of this.conf.voters)
      this.progress.set(id, new Progress(nextIndex, this.maxInflight, false));
    for (const id of this.conf.learners)
      this.progress.set(id, new Progress(nextIndex, this.maxInflight, true));
    const own = this.progress.get(self);
    if (own) {
      own.matchIndex = selfMatch;
      own.recentActive = true;
    }
  }

  get(id: NodeId): Progress | undefined {
    return this.progress.get(id);
  }

  /** Every tracked member but `self`, voters first, then learners, then later additions. */
  *peers(self: NodeId): IterableIterator<[NodeId, Progress]> {
    for (const entry of this.progress) if (entry[0] !== self) yield entry;
  }

  /** Every tracked member, `self` included, in the same order as peers(). */
  all(): IterableIterator<[NodeId, Progress]> {
    return this.progress.entries();
  }

  // ---------------------------------------------------------------- quorum questions

  /** The highest index a majority of voters has: the commit index it would justify. */
  committed(): number {
    return quorumMatchIndex(this.conf.voters, (id) => this.progress.get(id)?.matchIndex ?? 0);
  }

  /**
   * CheckQuorum: did a majority of voters (counting `self`) show signs of life since the last
   * check? Starts the next period by clearing every other member's mark.
   */
  checkQuorumActive(self: NodeId): boolean {
    const active = hasQuorum(this.conf.voters, (id) => id === self || !!this.progress.get(id)?.recentActive);
    for (const [, pr] of this.peers(self)) pr.recentActive = false;
    return active;
  }

  /** True when the members in `acks` include a majority of the voters. */
  hasQuorum(acks: ReadonlySet<NodeId>): boolean {
    return hasQuorum(this.conf.voters, (id) => acks.has(id));
  }

  // ---------------------------------------------------------------- votes

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records `id`'s answer; a second answer from the same member (a duplicate) changes nothing. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteResult {
    return tallyVotes(this.conf.voters, this.votes);
  }
}

export function copyConf(c: ConfState): ConfState {
  return { voters: [...c.voters], learners: [...c.learners] };
}
