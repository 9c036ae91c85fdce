// The simulated runtime: N cores, each with a simulated disk and state machine, wired through the
// simulated network. It fulfils the Ready contract exactly as the real runtime must (send
// `messages`, persist, then send `messagesAfterPersist`, advance, apply), but as separate steps,
// so a schedule can interleave other work between them or crash a node halfway. Every operation
// ends by checking invariants on the nodes it touched.
//
// It also plays the runtime's part in log compaction and snapshots: it compacts when told to; it
// turns the core's Snapshot messages into transfers of its state machine (captured at its applied
// index) that travel through the faulty network, and reports their outcome to the core; on the
// receiving side it stores a transfer, steps it into the core, and when the core hands the
// snapshot out in a Ready it persists it, then installs it into the state machine (a crash in
// between finishes the install from the stored snapshot at the next start).
import { RaftNode } from '../../../src/raft/raft-node.js';
import { bootstrapState } from '../../../src/raft/bootstrap.js';
import type { ProposalTicket, RaftStatus } from '../../../src/raft/api.js';
import type { CoreConfig } from '../../../src/raft/config.js';
import { ConfChangeType, decodeConfChange, type ConfChange } from '../../../src/raft/confchange.js';
import { NotLeaderError, ProposalRejectedError } from '../../../src/raft/errors.js';
import { LocalMessageType } from '../../../src/raft/local.js';
import {
  emptyMessage,
  EntryType,
  MessageType,
  NONE,
  Role,
  type ConfState,
  type HardState,
  type Message,
  type NodeId,
  type ReadState,
  type Ready,
  type SnapshotMeta,
} from '../../../src/raft/types.js';
import { DurableLog, PrefixInterner, type WriteResult } from './durable-log.js';
import { EventLog } from './event-log.js';
import { InvariantViolation, SafetyChecker } from './invariants.js';
import { bytesKey, cloneMessage, describeMessage, textBytes } from './messages.js';
import { Network, type InFlight } from './network.js';
import { Prng } from './prng.js';
import {
  copyMeta,
  describeMeta,
  snapshotKey,
  type SmImage,
  type SnapshotTransfer,
  type StoredSnapshot,
} from './snapshots.js';

export interface ClusterOptions {
  size: number;
  config: CoreConfig;
  /** Drives the election timers and the network's faults. */
  prng: Prng;
  /** How many recent events a failure report shows. */
  eventCapacity?: number;
  /**
   * Start from bootstrapState() (the initial membership as committed conf-change entries, as the
   * real runtime does) instead of an empty log.
   */
  bootstrap?: boolean;
  /** Pins every node's election-timer randomness from the start (see SimNode.timerOverride). */
  timerOverride?: number;
  /**
   * How often a leader's runtime reports a snapshot transfer successful as soon as it has sent it
   * (as etcd's does once the stream is written), before it is known to have arrived; otherwise it
   * reports when the follower has stored it. Scripted scenarios leave it at 0.
   */
  earlySnapshotReports?: number;
}

/**
 * Where a handed-out Ready is: `out` (messages sent), `persisted` (on disk; for a Ready carrying a
 * snapshot, not yet installed in the state machine), `installed` (snapshot in the state machine).
 * `messagesAfterPersist` leave on `persisted`, or on `installed` for a Ready with a snapshot.
 */
export type ReadyStage = 'out' | 'persisted' | 'installed';

/** One node: what survives a crash (disk, state machine) and what does not (the core). */
export class SimNode {
  raft: RaftNode | null = null;
  /** Bumped on every (re)start; status checks reset with it. */
  incarnation = 0;
  hardState: HardState = { term: 0, vote: NONE, commit: 0 };
  /** The latest snapshot on disk (a compaction or an installed one): what a restart passes on. */
  snapshot: SnapshotMeta | undefined;
  /** The stored image of the last snapshot installed from a leader, until the state machine has it. */
  snapshotImage: SmImage | undefined;
  /** Durable state machine: its applied index (and digest) is stored atomically with its data. */
  applied = 0;
  /** Prefix id of the entries the state machine applied (see SmImage.digest). */
  appliedDigest = 0;
  /** The state machine's data: payloads applied so far, and membership changes it recorded. */
  appliedPayloads: string[] = [];
  confChanges: ConfChange[] = [];
  /** Snapshots received from leaders and stored, by snapshotKey; forgotten on a crash. */
  received = new Map<string, StoredSnapshot>();
  /** A Ready handed out and not yet advanced, and the stored snapshot it installs, if any. */
  pending: { rd: Ready; stage: ReadyStage; install?: StoredSnapshot } | null = null;
  /** Answers to readIndex calls, in arrival order (volatile, like a client waiting on them). */
  readStates: ReadState[] = [];
  /** Scenarios pin the election-timer randomness to make a chosen node time out first. */
  timerOverride: number | undefined;

  constructor(
    readonly id: NodeId,
    readonly log: DurableLog,
  ) {}
}

export type ProposeOutcome = { ticket: ProposalTicket } | { notLeader: NotLeaderError };

export class Cluster {
  /** Logical time: the network's delays are counted in these ticks. */
  now = 0;
  readonly ids: NodeId[];
  readonly network: Network;
  readonly checker: SafetyChecker;
  readonly events: EventLog;
  readonly stats = {
    readies: 0,
    crashes: 0,
    lostReadies: 0,
    proposals: 0,
    notLeader: 0,
    compactions: 0,
    snapshotNotices: 0,
    transfers: 0,
    transfersLost: 0,
    transfersDelivered: 0,
    /** How delivered transfers fared: ignored (older term), stale (≤ commit), matching, restored. */
    transfersIgnored: 0,
    transfersStale: 0,
    transfersMatching: 0,
    transfersRestored: 0,
    installs: 0,
    /** Crashes between persisting a snapshot and installing it, finished at the next start. */
    installRecoveries: 0,
    restartsFromSnapshot: 0,
  };
  /** Scenarios watch traffic through this (e.g. to count AppendEntries rejections). */
  onDeliver: ((m: Message) => void) | undefined;
  /** Scenarios watch snapshot transfers as they start. */
  onTransfer: ((t: SnapshotTransfer) => void) | undefined;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly interner = new PrefixInterner();
  private readonly initialConf: ConfState;
  private readonly prng: Prng;
  /** Decisions of the simulated runtime about snapshot transfers (early reports, report delays). */
  private readonly runtimeRng: Prng;
  /** Outcomes of snapshot transfers, on their way to the runtime that started them. */
  private reports: { transfer: SnapshotTransfer; failed: boolean; dueAt: number }[] = [];
  private nextTransferId = 1;

  constructor(readonly opts: ClusterOptions) {
    this.prng = opts.prng;
    this.runtimeRng = this.prng.fork(3);
    this.ids = Array.from({ length: opts.size }, (_, i) => i + 1);
    this.initialConf = { voters: [...this.ids], learners: [] };
    this.network = new Network(this.prng.fork(0));
    this.checker = new SafetyChecker(this.interner, this.initialConf, opts.bootstrap ?? false);
    this.events = new EventLog(opts.eventCapacity ?? 50);
    const boot = opts.bootstrap
      ? bootstrapState(this.ids.map((id) => ({ id, context: textBytes(`node-${id}`) })))
      : undefined;
    for (const id of this.ids) {
      const node = new SimNode(id, new DurableLog(this.interner));
      node.timerOverride = opts.timerOverride;
      this.nodes.set(id, node);
      this.checker.registerLog(id, node.log);
      if (boot) {
        node.hardState = { ...boot.hardState };
        node.log.write(boot.entries);
        this.checker.observeBootstrap(id, node.log, boot.hardState.commit);
      }
      this.start(node);
    }
  }

  // ---- looking -----------------------------------------------------------------------------

  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  isUp(id: NodeId): boolean {
    return this.node(id).raft !== null;
  }

  upIds(): NodeId[] {
    return this.ids.filter((id) => this.isUp(id));
  }

  downIds(): NodeId[] {
    return this.ids.filter((id) => !this.isUp(id));
  }

  raft(id: NodeId): RaftNode {
    const r = this.node(id).raft;
    if (!r) throw new Error(`node ${id} is down`);
    return r;
  }

  status(id: NodeId): RaftStatus {
    return this.raft(id).status();
  }

  /** The live leader with the highest term, if any (a stale leader may linger in a minority). */
  leader(): NodeId | undefined {
    let best: { id: NodeId; term: number } | undefined;
    for (const id of this.upIds()) {
      const st = this.status(id);
      if (st.role === Role.Leader && (!best || st.term > best.term)) best = { id, term: st.term };
    }
    return best?.id;
  }

  /** A leader no live node has moved past: the one a healed cluster should settle on. */
  stableLeader(): NodeId | undefined {
    const id = this.leader();
    if (id === undefined) return undefined;
    const term = this.status(id).term;
    return this.upIds().every((o) => this.status(o).term <= term) ? id : undefined;
  }

  hasWork(id: NodeId): boolean {
    const n = this.node(id);
    return n.raft !== null && (n.pending !== null || n.raft.hasReady());
  }

  /** The index of the core's compacted prefix (it must not run ahead of what is applied). */
  snapshotIndex(id: NodeId): number {
    return this.raft(id).snapshotIndex;
  }

  // ---- the Ready cycle -----------------------------------------------------------------------

  /**
   * Moves node `id` one stage through its Ready cycle: hand out (send `messages`), persist (then
   * send `messagesAfterPersist`), for a Ready carrying a snapshot install it into the state
   * machine (and only then send `messagesAfterPersist`), advance (then apply). Returns false when
   * there was nothing to do.
   */
  readyStep(id: NodeId): boolean {
    const n = this.node(id);
    if (!n.raft) return false;
    if (!n.pending) {
      if (!n.raft.hasReady()) return false;
      this.handOut(n);
    } else if (n.pending.stage === 'out') {
      this.persist(n);
    } else if (n.pending.stage === 'persisted' && n.pending.install) {
      this.install(n);
    } else {
      this.advance(n);
    }
    this.checkNode(id);
    return true;
  }

  /** Finishes any outstanding Ready, then runs whole cycles until the node has nothing left. */
  processReady(id: NodeId): void {
    for (let cycles = 0; this.readyStep(id); cycles++) {
      if (cycles > 3000) throw new InvariantViolation(`node ${id} never stops having a Ready`);
    }
  }

  private handOut(n: SimNode): void {
    const raft = n.raft!;
    const rd = raft.ready();
    this.stats.readies++;
    let install: StoredSnapshot | undefined;
    if (rd.snapshot) {
      // The core may only ask to install what this runtime received and stepped into it.
      install = n.received.get(snapshotKey(rd.snapshot));
      if (!install) {
        throw new InvariantViolation(
          `node ${n.id} handed out a snapshot at ${rd.snapshot.index}/t${rd.snapshot.term} it never received`,
        );
      }
      // Anything received before it is superseded by it.
      n.received.clear();
    }
    if (raft.hasReady())
      throw new InvariantViolation(`node ${n.id} hasReady() is true while a Ready is outstanding`);
    const ents = rd.entries.length
      ? ` ents[${rd.entries[0].index}..${rd.entries[rd.entries.length - 1].index}]`
      : '';
    const hs = rd.hardState ? ` hs=t${rd.hardState.term}/v${rd.hardState.vote}/c${rd.hardState.commit}` : '';
    const apply = rd.committedEntries.length
      ? ` apply[${rd.committedEntries[0].index}..${rd.committedEntries[rd.committedEntries.length - 1].index}]`
      : '';
    const soft = rd.softState ? ` ${rd.softState.role}(leader ${rd.softState.leaderId})` : '';
    const snap = rd.snapshot ? ` snapshot=${describeMeta(rd.snapshot)}` : '';
    this.events.add(
      `n${n.id} ready${soft}${hs}${snap}${ents} msgs=${rd.messages.length}+${rd.messagesAfterPersist.length}${apply}` +
        (rd.readStates.length ? ` reads=${rd.readStates.length}` : ''),
    );
    for (const rs of rd.readStates) {
      this.checker.observeReadState(n.id, rs);
      n.readStates.push(rs);
    }
    n.pending = { rd, stage: 'out', install };
    this.send(n, rd.messages);
  }

  private persist(n: SimNode): void {
    const pending = n.pending!;
    const rd = pending.rd;
    const prevCommit = n.hardState.commit;
    if (rd.hardState) {
      this.checker.observeHardState(n.id, n.hardState, rd.hardState);
      n.hardState = { ...rd.hardState };
    }
    const held = this.checker.committedHeld(n.log);
    let wr: WriteResult;
    if (rd.snapshot) {
      // One durable write: the snapshot record (its image is the stored file it names), the log it
      // supersedes, the entries after it and the HardState, as etcd's WAL does.
      const stored = pending.install!;
      this.checker.observeInstall(n.id, rd.snapshot, stored, prevCommit);
      const restored = n.log.restore(rd.snapshot.index, rd.snapshot.term, stored.prefixIds);
      const written = n.log.write(rd.entries);
      wr = {
        oldLastIndex: restored.oldLastIndex,
        firstChanged: Math.min(restored.firstChanged, written.firstChanged),
      };
      n.snapshot = copyMeta(rd.snapshot);
      n.snapshotImage = stored.image;
    } else {
      wr = n.log.write(rd.entries);
    }
    this.checker.observePersist(n.id, n.log, wr, held, rd.entries, n.hardState);
    pending.stage = 'persisted';
    this.events.add(
      `n${n.id} persist (disk ${n.log.snapshotIndex ? `snapshot=${n.log.snapshotIndex} ` : ''}last=${n.log.lastIndex()} commit=${n.hardState.commit})`,
    );
    // With a snapshot, acknowledgements wait until the state machine has it too.
    if (!rd.snapshot) this.send(n, rd.messagesAfterPersist);
  }

  /** Replaces the state machine by the persisted snapshot's image, then lets the acks out. */
  private install(n: SimNode): void {
    const pending = n.pending!;
    this.installImage(n, pending.install!.image);
    this.stats.installs++;
    pending.stage = 'installed';
    this.events.add(`n${n.id} install snapshot ${describeMeta(pending.rd.snapshot!)}`);
    this.send(n, pending.rd.messagesAfterPersist);
    this.checkRunningConf(n, 'after installing a snapshot');
  }

  private installImage(n: SimNode, image: SmImage): void {
    if (image.applied < n.applied) {
      throw new InvariantViolation(
        `node ${n.id} would install a snapshot at ${image.applied} below ${n.applied}`,
      );
    }
    n.applied = image.applied;
    n.appliedDigest = image.digest;
    n.appliedPayloads = [...image.payloads];
    n.confChanges = [...image.confChanges];
    this.checker.observeStateMachine(n.id, n.applied, n.appliedDigest, 'from a snapshot');
  }

  private advance(n: SimNode): void {
    const rd = n.pending!.rd;
    n.pending = null;
    n.raft!.advance(rd);
    for (const e of rd.committedEntries) {
      n.appliedDigest = this.checker.observeApply(
        n.id,
        n.log,
        e,
        { applied: n.applied, digest: n.appliedDigest },
        n.hardState.term,
      );
      n.applied = e.index;
      if (e.type === EntryType.ConfChange) n.confChanges.push(decodeConfChange(e.data));
      else if (e.data.length > 0) n.appliedPayloads.push(bytesKey(e.data));
    }
    this.events.add(`n${n.id} advance (applied ${n.applied})`);
    if (rd.committedEntries.length > 0) this.checkRunningConf(n, 'after applying');
  }

  /**
   * The core's membership must be the committed log's at its applied index. Only comparable when
   * the core has applied exactly what the state machine has (no Ready outstanding, no snapshot
   * stepped in since).
   */
  private checkRunningConf(n: SimNode, what: string): void {
    const raft = n.raft!;
    const st = raft.status();
    if (st.appliedIndex === n.applied) this.checker.observeRunningConf(n.id, n.applied, st.confState, what);
  }

  /** The runtime's commit-broadcast timer firing: the held commit index goes out. */
  flushCommitBroadcast(id: NodeId): void {
    this.raft(id).flushCommitBroadcast();
    this.events.add(`n${id} flush commit broadcast`);
    this.checkNode(id);
  }

  /** Sends what may go out at once even while a Ready is outstanding. */
  drain(id: NodeId): number {
    const n = this.node(id);
    const msgs = this.raft(id).drainMessages();
    if (msgs.length) this.events.add(`n${id} drain ${msgs.length} msgs`);
    this.send(n, msgs);
    this.checkNode(id);
    return msgs.length;
  }

  private send(n: SimNode, msgs: readonly Message[]): void {
    for (const m of msgs) {
      if (m.from !== n.id) throw new InvariantViolation(`node ${n.id} sent a message from ${m.from}`);
      if (!this.nodes.has(m.to) || m.to === n.id) {
        throw new InvariantViolation(`node ${n.id} sent a message to ${m.to}: ${describeMessage(m)}`);
      }
      if (m.type === MessageType.Snapshot) {
        this.startTransfer(n, m);
        continue;
      }
      this.checker.observeSend(m, n.hardState, n.log);
      this.network.send(m, this.now);
    }
  }

  // ---- compaction and snapshot transfers -----------------------------------------------------

  /**
   * The runtime compacts node `id`'s log up to `index`, which its state machine holds durably:
   * the core drops the entries, and the disk records the snapshot and drops them too.
   */
  compact(id: NodeId, index: number): SnapshotMeta {
    const n = this.node(id);
    const raft = this.raft(id);
    if (index > n.applied || index < raft.snapshotIndex) {
      throw new Error(
        `harness bug: compacting n${id} at ${index} (snapshot ${raft.snapshotIndex}, applied ${n.applied})`,
      );
    }
    const meta = raft.compact(index);
    this.checker.observeSnapshotMeta(id, meta, n.log, 'compaction');
    if (meta.index !== index)
      throw new InvariantViolation(`node ${id} compacted to ${index} but says ${meta.index}`);
    if (index > n.log.snapshotIndex) n.log.compact(index);
    n.snapshot = copyMeta(meta);
    // The state machine is at or past it: the image of an older installed snapshot is not needed.
    n.snapshotImage = undefined;
    this.stats.compactions++;
    this.events.add(`n${id} compact to ${describeMeta(meta)} (applied ${n.applied})`);
    this.checkNode(id);
    return meta;
  }

  /**
   * The core says follower `m.to` needs entries it compacted: capture the state machine as it is
   * durably now (its applied index is at or past the compaction point) and stream it.
   */
  private startTransfer(n: SimNode, m: Message): void {
    const raft = n.raft!;
    const notice = m.snapshot;
    if (!notice) throw new InvariantViolation(`node ${n.id} sent a Snapshot message without metadata`);
    this.stats.snapshotNotices++;
    // It names the compaction point when the core wrote it; the runtime may have compacted further
    // before the Ready carrying it was handed out.
    if (notice.index > raft.snapshotIndex) {
      throw new InvariantViolation(
        `node ${n.id}'s Snapshot message names ${notice.index}, but its log is compacted to ${raft.snapshotIndex}`,
      );
    }
    this.checker.observeSnapshotMeta(n.id, notice, n.log, 'Snapshot message');
    if (n.applied < notice.index) {
      throw new InvariantViolation(
        `node ${n.id} compacted to ${notice.index} beyond its state machine (${n.applied})`,
      );
    }
    this.ship(n, m.to, m.term);
  }

  /**
   * Scenarios: leader `from`'s runtime streams its state machine to `to` although the core did not
   * ask (a transfer the core no longer needs, or one for entries the follower already has).
   */
  sendSnapshot(from: NodeId, to: NodeId): SnapshotTransfer {
    const n = this.node(from);
    const st = this.status(from);
    if (st.role !== Role.Leader) throw new Error(`node ${from} is not the leader`);
    const t = this.ship(n, to, st.term);
    this.checkNode(from);
    return t;
  }

  /** Captures `n`'s state machine as it is durably now and sends it to `to` as of `term`. */
  private ship(n: SimNode, to: NodeId, term: number): SnapshotTransfer {
    const meta = n.raft!.snapshotMetaAt(n.applied);
    this.checker.observeSnapshotMeta(n.id, meta, n.log, 'snapshot capture');
    const transfer: SnapshotTransfer = {
      id: this.nextTransferId++,
      from: n.id,
      to,
      fromIncarnation: n.incarnation,
      meta,
      image: {
        applied: n.applied,
        digest: n.appliedDigest,
        payloads: [...n.appliedPayloads],
        confChanges: [...n.confChanges],
      },
      prefixIds: n.log.prefixIdsUpTo(meta.index),
      reported: false,
    };
    const msg = emptyMessage(MessageType.Snapshot, n.id, to, term);
    msg.snapshot = meta;
    this.stats.transfers++;
    this.events.add(`n${n.id} transfer #${transfer.id} to n${to} t${term}: ${describeMeta(meta)}`);
    this.onTransfer?.(transfer);
    this.network.send(msg, this.now, transfer);
    const early = this.opts.earlySnapshotReports ?? 0;
    if (early > 0 && this.runtimeRng.chance(early)) this.report(transfer, false);
    return transfer;
  }

  /** The sender's runtime learns how a transfer went (after a delay like any other news). */
  private report(transfer: SnapshotTransfer, failed: boolean): void {
    if (transfer.reported) return;
    transfer.reported = true;
    const maxDelay = this.network.faults.maxDelay;
    const delay = maxDelay > 0 ? this.runtimeRng.int(maxDelay + 1) : 0;
    this.reports.push({ transfer, failed, dueAt: this.now + delay });
  }

  /** Transfer outcomes the senders may learn of now. */
  dueReports(): number {
    return this.reports.filter((r) => r.dueAt <= this.now).length;
  }

  /** Hands the `k`-th due transfer outcome to the runtime (and core) that started the transfer. */
  deliverReport(k = 0): void {
    const due = this.reports.filter((r) => r.dueAt <= this.now);
    const r = due[k];
    if (!r) throw new Error('no such report');
    this.reports.splice(this.reports.indexOf(r), 1);
    const t = r.transfer;
    const n = this.node(t.from);
    if (!n.raft || n.incarnation !== t.fromIncarnation) {
      this.events.add(`report #${t.id} to n${t.from}: forgotten (restarted)`);
      return;
    }
    this.events.add(`report #${t.id} to n${t.from}: ${r.failed ? 'FAILED' : 'sent'} (to n${t.to})`);
    n.raft.reportSnapshot(t.to, r.failed);
    this.checkNode(t.from);
  }

  /** Loses the in-flight transfers matching `pred` the way a broken stream would (the sender hears). */
  loseTransfers(pred: (t: SnapshotTransfer) => boolean): number {
    const chosen = this.network.all().filter((f) => f.transfer !== undefined && !f.lost && pred(f.transfer));
    for (const f of chosen) {
      this.network.take(f);
      this.stats.transfersLost++;
      this.events.add(`transfer #${f.transfer!.id} to n${f.transfer!.to} lost (scripted)`);
      this.report(f.transfer!, true);
    }
    return chosen.length;
  }

  /** A transfer arrives: the receiver stores it, then steps the Snapshot message into its core. */
  private deliverTransfer(item: InFlight): void {
    const t = item.transfer!;
    const m = item.msg;
    if (!this.network.take(item)) {
      this.stats.transfersLost++;
      this.events.add(`transfer #${t.id} to n${t.to} lost`);
      this.report(t, true);
      return;
    }
    const n = this.node(t.to);
    if (!n.raft) {
      this.stats.transfersLost++;
      this.events.add(`transfer #${t.id} lost (n${t.to} down)`);
      this.report(t, true);
      return;
    }
    this.stats.transfersDelivered++;
    n.received.set(snapshotKey(t.meta), { meta: copyMeta(t.meta), image: t.image, prefixIds: t.prefixIds });
    this.events.add(`deliver transfer #${t.id}: ${describeMessage(m)}`);
    this.onDeliver?.(m);
    const before = n.raft.status();
    const snapshotBefore = n.raft.snapshotIndex;
    n.raft.step(m);
    if (m.term < before.term) this.stats.transfersIgnored++;
    else if (t.meta.index <= before.commitIndex) this.stats.transfersStale++;
    else if (n.raft.snapshotIndex === snapshotBefore) this.stats.transfersMatching++;
    else this.stats.transfersRestored++;
    this.checkNode(t.to);
    this.report(t, false);
  }

  // ---- time and the network ------------------------------------------------------------------

  /** One tick of logical time for the given nodes (the clock moves for the network either way). */
  tick(ids: readonly NodeId[] = this.upIds()): void {
    this.now++;
    const ticked = ids.filter((id) => this.isUp(id));
    this.events.add(`tick ${this.now} [${ticked.join(',')}]`);
    for (const id of ticked) this.raft(id).tick();
    for (const id of ticked) this.checkNode(id);
  }

  /** Delivers one in-flight message (if its link is up and its target alive). */
  deliver(item: InFlight): void {
    if (item.transfer) {
      this.deliverTransfer(item);
      return;
    }
    const m = item.msg;
    if (!this.network.take(item)) {
      this.events.add(`cut ${describeMessage(m)}`);
      return;
    }
    const n = this.node(m.to);
    if (!n.raft) {
      this.events.add(`lost (n${m.to} down) ${describeMessage(m)}`);
      return;
    }
    this.events.add(`deliver ${describeMessage(m)}`);
    this.onDeliver?.(m);
    n.raft.step(m);
    this.checkNode(m.to);
  }

  /**
   * Hands a copy of an in-flight message to the wrong node (a confused transport): the core must
   * ignore a message addressed to someone else.
   */
  misdeliver(item: InFlight, to: NodeId): void {
    const n = this.node(to);
    if (!n.raft || to === item.msg.to) return;
    this.events.add(`misdeliver to n${to}: ${describeMessage(item.msg)}`);
    const before = JSON.stringify(n.raft.status(), (_k, v) => (v instanceof Map ? [...v] : v));
    const wasReady = n.raft.hasReady();
    n.raft.step(cloneMessage(item.msg));
    const after = JSON.stringify(n.raft.status(), (_k, v) => (v instanceof Map ? [...v] : v));
    if (before !== after || n.raft.hasReady() !== wasReady) {
      throw new InvariantViolation(`node ${to} acted on a message addressed to node ${item.msg.to}`);
    }
  }

  /**
   * Runs every live node's Ready cycle and delivers every due message matching `filter` (others
   * stay in flight) until nothing moves. Scripted scenarios and the healed phase use it.
   */
  settle(filter: (m: Message) => boolean = () => true): void {
    for (let round = 0; round < 10_000; round++) {
      let moved = false;
      for (const id of this.upIds()) {
        if (this.hasWork(id)) {
          this.processReady(id);
          moved = true;
        }
      }
      for (const item of this.network.due(this.now)) {
        if (!filter(item.msg)) continue;
        this.deliver(item);
        moved = true;
      }
      while (this.dueReports() > 0) {
        this.deliverReport();
        moved = true;
      }
      if (!moved) return;
    }
    throw new InvariantViolation('the cluster never settles: messages keep flowing with no tick');
  }

  // ---- crashes -------------------------------------------------------------------------------

  /** Kills the core: anything not yet persisted (and not yet sent after persisting) is lost. */
  crash(id: NodeId): void {
    const n = this.node(id);
    if (!n.raft) throw new Error(`node ${id} is already down`);
    const lost = n.pending !== null && n.pending.stage === 'out';
    if (lost) this.stats.lostReadies++;
    const midInstall = n.pending?.stage === 'persisted' && n.pending.install !== undefined;
    this.events.add(
      `crash n${id}${n.pending ? (lost ? ' (loses its unpersisted Ready)' : midInstall ? ' (snapshot persisted, not installed)' : ' (Ready persisted, not applied)') : ''}`,
    );
    n.raft = null;
    n.pending = null;
    n.readStates = [];
    n.received.clear();
    this.stats.crashes++;
  }

  /** Starts a new core from exactly what is on the node's disk. */
  restart(id: NodeId): void {
    const n = this.node(id);
    if (n.raft) throw new Error(`node ${id} is up`);
    this.start(n);
    const snap = n.snapshot ? ` snapshot=${n.snapshot.index}` : '';
    this.events.add(
      `restart n${id} (disk t${n.hardState.term}/v${n.hardState.vote}/c${n.hardState.commit}${snap} last=${n.log.lastIndex()} applied=${n.applied})`,
    );
    this.checkNode(id);
    // A restarted node must agree with the rest: the state machine it starts from and the
    // membership its core derives are those of the committed log.
    this.checker.observeStateMachine(id, n.applied, n.appliedDigest, 'at restart');
    this.checkRunningConf(n, 'restarted');
  }

  private start(n: SimNode): void {
    n.incarnation++;
    if (n.snapshot) {
      if (n.applied < n.snapshot.index) {
        // Crashed between persisting a snapshot and installing it: finish from the stored image.
        const image = n.snapshotImage;
        if (!image || image.applied !== n.snapshot.index) {
          throw new InvariantViolation(
            `node ${n.id} has a snapshot at ${n.snapshot.index} on disk but no image of it`,
          );
        }
        this.installImage(n, image);
        this.stats.installRecoveries++;
      }
      this.stats.restartsFromSnapshot++;
    }
    const timer = this.prng.fork(n.id * 7919 + n.incarnation);
    const random = () => n.timerOverride ?? timer.next();
    n.raft = new RaftNode(
      { ...this.opts.config, id: n.id, random },
      {
        hardState: { ...n.hardState },
        entries: n.log.storedEntries(),
        snapshot: n.snapshot ? copyMeta(n.snapshot) : undefined,
        // Membership as of the snapshot, or the initial one (bootstrapped or not, it is complete).
        confState: n.snapshot
          ? copyMeta(n.snapshot).confState
          : { voters: [...this.initialConf.voters], learners: [...this.initialConf.learners] },
        applied: n.applied,
      },
    );
  }

  // ---- clients -------------------------------------------------------------------------------

  /**
   * A client proposal. A leader must accept it (unless transferring leadership) at the next
   * index of its term; anybody else must refuse with NotLeaderError naming the leader it knows.
   */
  propose(id: NodeId, payload: string): ProposeOutcome {
    const raft = this.raft(id);
    const before = raft.status();
    const transferring = before.leadTransferee !== NONE;
    this.stats.proposals++;
    let ticket: ProposalTicket;
    try {
      ticket = raft.propose(textBytes(payload));
    } catch (err) {
      if (!(err instanceof NotLeaderError)) throw err;
      this.stats.notLeader++;
      this.events.add(`propose ${payload} to n${id}: not leader (leader ${err.leaderId})`);
      if (before.role === Role.Leader && !transferring) {
        throw new InvariantViolation(`leader ${id} refused a proposal with NotLeaderError (${err.message})`);
      }
      if (before.role !== Role.Leader && err.leaderId !== before.leaderId) {
        throw new InvariantViolation(
          `node ${id} says the leader is ${err.leaderId} but its status says ${before.leaderId}`,
        );
      }
      this.checkNode(id);
      return { notLeader: err };
    }
    this.events.add(`propose ${payload} to n${id}: index ${ticket.index} term ${ticket.term}`);
    if (before.role !== Role.Leader)
      throw new InvariantViolation(`non-leader ${id} (${before.role}) accepted a proposal`);
    if (transferring)
      throw new InvariantViolation(`leader ${id} accepted a proposal during a leadership transfer`);
    if (ticket.term !== before.term || ticket.index !== before.lastIndex + 1) {
      throw new InvariantViolation(
        `leader ${id} at term ${before.term} with lastIndex ${before.lastIndex} returned ticket ${ticket.index}/t${ticket.term}`,
      );
    }
    this.checker.observeTicket(ticket.index, ticket.term, payload);
    this.checkNode(id);
    return { ticket };
  }

  /** A membership change; refusals (not leader, one already pending) are thrown to the caller. */
  proposeConfChange(id: NodeId, cc: ConfChange): ProposalTicket {
    this.events.add(`proposeConfChange ${ConfChangeType[cc.type]} ${cc.nodeId} to n${id}`);
    const ticket = this.raft(id).proposeConfChange(cc);
    this.checkNode(id);
    return ticket;
  }

  readIndex(id: NodeId, context: string): void {
    const ctx = textBytes(context);
    this.checker.observeReadRequest(id, ctx);
    this.events.add(`readIndex ${context} on n${id}`);
    this.callTolerantly(() => this.raft(id).readIndex(ctx), `readIndex on n${id}`);
    this.checkNode(id);
  }

  transferLeadership(id: NodeId, to: NodeId): void {
    this.events.add(`transferLeadership n${id} -> n${to}`);
    this.callTolerantly(() => this.raft(id).transferLeadership(to), `transfer on n${id}`);
    this.checkNode(id);
  }

  /** An election now, as a timeout would start one (a local Hup message). */
  campaign(id: NodeId): void {
    this.events.add(`campaign n${id}`);
    this.raft(id).step({ type: LocalMessageType.Hup });
    this.checkNode(id);
  }

  /** Typed refusals are a fine answer to a request; anything else is a core bug. */
  private callTolerantly(f: () => void, what: string): void {
    try {
      f();
    } catch (err) {
      if (err instanceof NotLeaderError || err instanceof ProposalRejectedError) {
        this.events.add(`${what}: ${err.message}`);
        return;
      }
      throw err;
    }
  }

  // ---- checks and reports --------------------------------------------------------------------

  private checkNode(id: NodeId): void {
    const n = this.node(id);
    if (!n.raft) return;
    this.checker.observeStatus(id, n.incarnation, n.raft.status(), n.hardState, n.raft.snapshotIndex);
    // On disk: snapshot ≤ applied (but while a persisted snapshot awaits its install) ≤ commit.
    const installing = n.pending?.install !== undefined && n.pending.stage === 'persisted';
    if (n.snapshot && n.snapshot.index > n.applied && !installing) {
      throw new InvariantViolation(
        `node ${id} has a snapshot at ${n.snapshot.index} beyond its applied ${n.applied}`,
      );
    }
    if (n.applied > n.hardState.commit) {
      throw new InvariantViolation(
        `node ${id} applied ${n.applied} beyond its durable commit ${n.hardState.commit}`,
      );
    }
  }

  /** One line per node, for failure reports. */
  describe(): string {
    return this.ids
      .map((id) => {
        const n = this.node(id);
        const snap = n.snapshot ? ` snapshot=${n.snapshot.index}` : '';
        const disk = `disk t${n.hardState.term}/v${n.hardState.vote}/c${n.hardState.commit}${snap} last=${n.log.lastIndex()} applied=${n.applied}`;
        if (!n.raft) return `n${id} DOWN ${disk}`;
        const st = n.raft.status();
        const pending = n.pending ? ` ready:${n.pending.stage}` : '';
        const progress =
          st.role === Role.Leader
            ? ' progress ' +
              [...st.progress]
                .filter(([pid]) => pid !== id)
                .map(([pid, p]) => `n${pid}:${p.state}/m${p.matchIndex}/n${p.nextIndex}`)
                .join(' ')
            : '';
        return (
          `n${id} ${st.role} t${st.term} leader=${st.leaderId} commit=${st.commitIndex} ` +
          `applied=${st.appliedIndex} snapshot=${n.raft.snapshotIndex} last=${st.lastIndex}${progress} | ${disk}${pending}`
        );
      })
      .join('\n');
  }
}
