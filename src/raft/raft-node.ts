// The consensus core's driver, as etcd's rawnode.go: a deterministic state machine that messages,
// local inputs and ticks go into and Ready batches (state to persist, messages to send, entries to
// apply) come out of, one at a time. No clocks, disks or sockets here: the runtime (src/node/) and
// the simulation (test/raft/) drive it. What each role does is in raft.ts.
import type { PersistedState, ProposalTicket, RaftConfig, RaftStatus } from './api.js';
import { encodeConfChange, type ConfChange } from './confchange.js';
import { LocalMessageType, type LocalMessage } from './local.js';
import { Raft } from './raft.js';
import {
  EntryType,
  NONE,
  Role,
  type HardState,
  type Message,
  type NodeId,
  type Ready,
  type SnapshotMeta,
  type SoftState,
} from './types.js';

/** At most this many committed entries per Ready, so a long replay does not stall the runtime. */
const MAX_COMMITTED_PER_READY = 4096;

export class RaftNode {
  readonly id: NodeId;
  private readonly raft: Raft;
  /** What the last Ready reported, so the next one carries only changes. */
  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private outstanding: Ready | undefined;

  constructor(config: RaftConfig, persisted: PersistedState) {
    this.id = config.id;
    this.raft = new Raft(config, persisted);
    this.prevHardState = this.raft.hardState();
    this.prevSoftState = { leaderId: NONE, role: Role.Follower };
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    this.raft.tick();
  }

  /** A peer's message, or a local input (see local.ts; the wrappers below are shorter). */
  step(m: Message | LocalMessage): void {
    this.raft.step(m);
  }

  propose(data: Uint8Array): ProposalTicket {
    this.raft.step({ type: LocalMessageType.Propose, entryType: EntryType.Normal, data });
    return this.raft.lastProposal();
  }

  proposeConfChange(cc: ConfChange): ProposalTicket {
    this.raft.step({
      type: LocalMessageType.Propose,
      entryType: EntryType.ConfChange,
      data: encodeConfChange(cc),
    });
    return this.raft.lastProposal();
  }

  readIndex(context: Uint8Array): void {
    this.raft.step({ type: LocalMessageType.ReadIndex, context });
  }

  transferLeadership(to: NodeId): void {
    this.raft.step({ type: LocalMessageType.TransferLeader, to });
  }

  /**
   * The runtime's report on a snapshot it streamed to `to` (etcd's ReportSnapshot). Either way
   * the follower goes back to probing: after a success it answers the probe from the snapshot's
   * index on; after a failure the probe finds it still behind and a new snapshot is sent.
   */
  reportSnapshot(to: NodeId, failed: boolean): void {
    this.raft.step({ type: LocalMessageType.SnapStatus, from: to, failed });
  }

  // ---------------------------------------------------------------- Ready

  hasReady(): boolean {
    if (this.outstanding) return false;
    this.raft.flushBroadcast();
    const ss = this.raft.softState();
    const log = this.raft.log;
    return (
      ss.leaderId !== this.prevSoftState.leaderId ||
      ss.role !== this.prevSoftState.role ||
      !sameHardState(this.raft.hardState(), this.prevHardState) ||
      log.persisted < log.lastIndex() ||
      this.raft.hasOutputs() ||
      log.hasNextCommittedEntries()
    );
  }

  ready(): Ready {
    if (this.outstanding) throw new Error('ready() called before advance() of the previous Ready');
    this.raft.flushBroadcast();
    const hs = this.raft.hardState();
    const ss = this.raft.softState();
    const entries = this.raft.log.unstableEntries();
    const committedEntries = this.raft.log.nextCommittedEntries(MAX_COMMITTED_PER_READY);
    const out = this.raft.takeOutputs();
    const rd: Ready = {
      softState:
        ss.leaderId !== this.prevSoftState.leaderId || ss.role !== this.prevSoftState.role ? ss : undefined,
      hardState: sameHardState(hs, this.prevHardState) ? undefined : hs,
      entries,
      snapshot: out.snapshot,
      messages: out.messages,
      messagesAfterPersist: out.messagesAfterPersist,
      committedEntries,
      readStates: out.readStates,
      mustSync:
        entries.length > 0 ||
        out.snapshot !== undefined ||
        hs.term !== this.prevHardState.term ||
        hs.vote !== this.prevHardState.vote,
    };
    this.prevHardState = hs;
    this.prevSoftState = ss;
    this.raft.appliedTo(committedEntries);
    this.outstanding = rd;
    return rd;
  }

  advance(rd: Ready): void {
    if (rd !== this.outstanding) throw new Error('advance() must be given the outstanding Ready');
    this.outstanding = undefined;
    this.raft.persisted(rd.entries);
  }

  /** Messages that may be sent at once, e.g. while the previous Ready is still being persisted. */
  drainMessages(): Message[] {
    this.raft.flushBroadcast();
    return this.raft.takeMessages();
  }

  // ---------------------------------------------------------------- the rest

  status(): RaftStatus {
    return this.raft.status();
  }

  /**
   * What a snapshot of the state machine at `index` must carry: the entry's term and the
   * membership in force once entries up to `index` are applied. `index` must lie between the last
   * compaction and the applied index (the state machine cannot be captured anywhere else).
   */
  snapshotMetaAt(index: number): SnapshotMeta {
    return this.raft.snapshotMetaAt(index);
  }

  /**
   * Drops log entries up to `index`, which the runtime has captured in a snapshot (its state
   * machine holds everything up to at least `index` durably). Returns the snapshot's metadata,
   * which is what the runtime must record durably too.
   */
  compact(index: number): SnapshotMeta {
    return this.raft.compact(index);
  }

  /** Index of the latest compaction or installed snapshot (0 if none). */
  get snapshotIndex(): number {
    return this.raft.log.snapshotIndex;
  }

  /** True while a snapshot stepped in from the leader waits to be handed out in a Ready. */
  hasPendingSnapshot(): boolean {
    return this.raft.hasPendingSnapshot();
  }

  /**
   * A commit advance not yet sent to the followers. Without lazyCommitBroadcast the next
   * hasReady()/ready() sends it, so it never outlives a Ready; with it, it waits for a flush.
   */
  get commitBroadcastPending(): boolean {
    return this.raft.commitBroadcastPending;
  }

  /** Sends the held commit index now (see RaftConfig.lazyCommitBroadcast); messages as usual. */
  flushCommitBroadcast(): void {
    this.raft.flushCommitBroadcast();
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
