// The simulated runtime: N cores, each with a simulated disk and state machine, wired through the
// simulated network. It fulfils the Ready contract exactly as the real runtime must (send
// `messages`, persist, then send `messagesAfterPersist`, advance, apply), but as separate steps,
// so a schedule can interleave other work between them or crash a node halfway. Every operation
// ends by checking invariants on the nodes it touched.
import { RaftNode } from '../../../src/raft/raft-node.js';
import { bootstrapState } from '../../../src/raft/bootstrap.js';
import type { ProposalTicket, RaftConfig, RaftStatus } from '../../../src/raft/api.js';
import { ConfChangeType, decodeConfChange, type ConfChange } from '../../../src/raft/confchange.js';
import { NotLeaderError, ProposalRejectedError } from '../../../src/raft/errors.js';
import {
  EntryType,
  NONE,
  Role,
  type ConfState,
  type HardState,
  type Message,
  type NodeId,
  type ReadState,
  type Ready,
} from '../../../src/raft/types.js';
import { DurableLog, PrefixInterner } from './durable-log.js';
import { EventLog } from './event-log.js';
import { InvariantViolation, SafetyChecker } from './invariants.js';
import { bytesKey, cloneMessage, describeMessage, textBytes } from './messages.js';
import { Network, type InFlight } from './network.js';
import { Prng } from './prng.js';

export type CoreConfig = Omit<RaftConfig, 'id' | 'random'>;

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
}

/** One node: what survives a crash (disk, state machine) and what does not (the core). */
export class SimNode {
  raft: RaftNode | null = null;
  /** Bumped on every (re)start; status checks reset with it. */
  incarnation = 0;
  hardState: HardState = { term: 0, vote: NONE, commit: 0 };
  /** Durable state machine: its applied index is stored atomically with its data. */
  applied = 0;
  /** The state machine's data: payloads applied so far, and membership changes it recorded. */
  readonly appliedPayloads: string[] = [];
  readonly confChanges: ConfChange[] = [];
  /** A Ready handed out and not yet advanced; `persisted` once its write reached the disk. */
  pending: { rd: Ready; persisted: boolean } | null = null;
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
  readonly stats = { readies: 0, crashes: 0, lostReadies: 0, proposals: 0, notLeader: 0 };
  /** Scenarios watch traffic through this (e.g. to count AppendEntries rejections). */
  onDeliver: ((m: Message) => void) | undefined;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly interner = new PrefixInterner();
  private readonly initialConf: ConfState;
  private readonly prng: Prng;

  constructor(readonly opts: ClusterOptions) {
    this.prng = opts.prng;
    this.ids = Array.from({ length: opts.size }, (_, i) => i + 1);
    this.initialConf = { voters: [...this.ids], learners: [] };
    this.network = new Network(this.prng.fork(0));
    this.checker = new SafetyChecker(this.interner);
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

  // ---- the Ready cycle -----------------------------------------------------------------------

  /**
   * Moves node `id` one stage through its Ready cycle: hand out (send `messages`), persist (then
   * send `messagesAfterPersist`), advance (then apply). Returns false when there was nothing to do.
   */
  readyStep(id: NodeId): boolean {
    const n = this.node(id);
    if (!n.raft) return false;
    if (!n.pending) {
      if (!n.raft.hasReady()) return false;
      this.handOut(n);
    } else if (!n.pending.persisted) {
      this.persist(n);
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
    if (rd.snapshot)
      throw new InvariantViolation(`node ${n.id} handed out a snapshot, but nothing is ever compacted`);
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
    this.events.add(
      `n${n.id} ready${soft}${hs}${ents} msgs=${rd.messages.length}+${rd.messagesAfterPersist.length}${apply}` +
        (rd.readStates.length ? ` reads=${rd.readStates.length}` : ''),
    );
    for (const rs of rd.readStates) {
      this.checker.observeReadState(n.id, rs);
      n.readStates.push(rs);
    }
    n.pending = { rd, persisted: false };
    this.send(n, rd.messages);
  }

  private persist(n: SimNode): void {
    const rd = n.pending!.rd;
    if (rd.hardState) {
      this.checker.observeHardState(n.id, n.hardState, rd.hardState);
      n.hardState = { ...rd.hardState };
    }
    const held = this.checker.committedHeld(n.log);
    const wr = n.log.write(rd.entries);
    this.checker.observePersist(n.id, n.log, wr, held, rd.entries, n.hardState);
    n.pending!.persisted = true;
    this.events.add(`n${n.id} persist (disk last=${n.log.lastIndex()} commit=${n.hardState.commit})`);
    this.send(n, rd.messagesAfterPersist);
  }

  private advance(n: SimNode): void {
    const rd = n.pending!.rd;
    n.pending = null;
    n.raft!.advance(rd);
    for (const e of rd.committedEntries) {
      this.checker.observeApply(n.id, n.log, e, n.applied, n.hardState.term);
      n.applied = e.index;
      if (e.type === EntryType.ConfChange) n.confChanges.push(decodeConfChange(e.data));
      else if (e.data.length > 0) n.appliedPayloads.push(bytesKey(e.data));
    }
    this.events.add(`n${n.id} advance (applied ${n.applied})`);
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
      this.checker.observeSend(m, n.hardState, n.log);
      this.network.send(m, this.now);
    }
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
      if (!moved) return;
    }
    throw new InvariantViolation('the cluster never settles: messages keep flowing with no tick');
  }

  // ---- crashes -------------------------------------------------------------------------------

  /** Kills the core: anything not yet persisted (and not yet sent after persisting) is lost. */
  crash(id: NodeId): void {
    const n = this.node(id);
    if (!n.raft) throw new Error(`node ${id} is already down`);
    const lost = n.pending !== null && !n.pending.persisted;
    if (lost) this.stats.lostReadies++;
    this.events.add(
      `crash n${id}${n.pending ? (lost ? ' (loses its unpersisted Ready)' : ' (Ready persisted, not applied)') : ''}`,
    );
    n.raft = null;
    n.pending = null;
    n.readStates = [];
    this.stats.crashes++;
  }

  /** Starts a new core from exactly what is on the node's disk. */
  restart(id: NodeId): void {
    const n = this.node(id);
    if (n.raft) throw new Error(`node ${id} is up`);
    this.start(n);
    this.events.add(
      `restart n${id} (disk t${n.hardState.term}/v${n.hardState.vote}/c${n.hardState.commit} last=${n.log.lastIndex()} applied=${n.applied})`,
    );
    this.checkNode(id);
  }

  private start(n: SimNode): void {
    n.incarnation++;
    const timer = this.prng.fork(n.id * 7919 + n.incarnation);
    const random = () => n.timerOverride ?? timer.next();
    n.raft = new RaftNode(
      { ...this.opts.config, id: n.id, random },
      {
        hardState: { ...n.hardState },
        entries: n.log.snapshotEntries(),
        confState: { voters: [...this.initialConf.voters], learners: [...this.initialConf.learners] },
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
    if (n.raft) this.checker.observeStatus(id, n.incarnation, n.raft.status(), n.hardState);
  }

  /** One line per node, for failure reports. */
  describe(): string {
    return this.ids
      .map((id) => {
        const n = this.node(id);
        const disk = `disk t${n.hardState.term}/v${n.hardState.vote}/c${n.hardState.commit} last=${n.log.lastIndex()} applied=${n.applied}`;
        if (!n.raft) return `n${id} DOWN ${disk}`;
        const st = n.raft.status();
        const pending = n.pending ? (n.pending.persisted ? ' ready:persisted' : ' ready:out') : '';
        return (
          `n${id} ${st.role} t${st.term} leader=${st.leaderId} commit=${st.commitIndex} ` +
          `applied=${st.appliedIndex} last=${st.lastIndex} | ${disk}${pending}`
        );
      })
      .join('\n');
  }
}
