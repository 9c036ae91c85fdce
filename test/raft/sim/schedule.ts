// The faulty phase of a run: one randomly chosen action per step. Weights follow the amount of
// pending work (many due messages → mostly deliveries), so logical time advances at a pace where
// elections can still succeed, while faults keep interrupting them. Nodes also compact their logs
// at random moments, each on its own, so followers that fall behind need snapshots.
import { Role, type NodeId } from '../../../src/raft/types.js';
import type { Cluster } from './cluster.js';
import type { Prng } from './prng.js';
import type { SimSetup } from './setup.js';

export interface ScheduleCounters {
  proposals: number;
  reads: number;
  transfers: number;
  partitions: number;
  compactions: number;
  unaskedSnapshots: number;
}

export class RandomSchedule {
  readonly counters: ScheduleCounters = {
    proposals: 0,
    reads: 0,
    transfers: 0,
    partitions: 0,
    compactions: 0,
    unaskedSnapshots: 0,
  };

  /** Faults last a while in logical time (long enough to force elections), then end. */
  private healAt = 0;
  private readonly restartAt = new Map<NodeId, number>();

  constructor(
    private readonly cluster: Cluster,
    private readonly rng: Prng,
    private readonly setup: SimSetup,
  ) {}

  /** A fault's duration in ticks: from a blip to a few election timeouts. */
  private faultTicks(): number {
    const e = this.setup.config.electionTicks;
    return this.rng.chance(0.3) ? this.rng.range(0, 2) : this.rng.range(1, 4 * e);
  }

  run(steps: number): void {
    for (let i = 0; i < steps; i++) this.step();
  }

  step(): void {
    const c = this.cluster;
    const up = c.upIds();
    const down = c.downIds();
    const due = c.network.due(c.now);
    const busy = up.filter((id) => c.hasWork(id));
    const outstanding = up.filter((id) => c.node(id).pending !== null);
    const restartable = down.filter((id) => (this.restartAt.get(id) ?? 0) <= c.now);
    const cut = c.network.cutCount() > 0;
    const reports = c.dueReports();
    // Leaders holding a commit advance back (lazyCommitBroadcast) until their runtime's timer fires.
    const holding = up.filter((id) => c.raft(id).commitBroadcastPending);
    const action = this.rng.weighted({
      deliver: due.length ? 8 + 2 * due.length : 0,
      // A snapshot transfer's outcome reaching the runtime that started it.
      report: reports ? 6 : 0,
      ready: busy.length * 6,
      // The pipelined path: messages leave (and arrive) while a Ready is still being persisted.
      drain: outstanding.length * 1.5,
      flushCommit: holding.length * 2,
      misdeliver: due.length ? 0.3 : 0,
      tick: 5,
      propose: up.length ? 4 : 0,
      readIndex: up.length ? 1 : 0,
      transfer: up.length ? 0.15 : 0,
      // Keep a majority up most of the time, but not always: a cluster that lost its quorum
      // must stay safe too.
      crash: up.length > 0 ? this.setup.crashWeight * (up.length > (c.ids.length >> 1) + 1 ? 1 : 0.2) : 0,
      restart: restartable.length * 20,
      // Overlapping partitions would mostly heal each other: start one only when none is active.
      partition: cut ? 0 : this.setup.partitionWeight,
      heal: cut && c.now >= this.healAt ? 20 : 0,
      compact: up.length ? this.setup.compactWeight : 0,
      // The core must cope with any snapshot a leader sends, not only those it asked for: a runtime
      // syncing a member on its own, or a transfer overtaken by events. (Only these reach a
      // follower that holds the snapshot's entry but an older leader's tail after it.)
      unaskedSnapshot: this.setup.compactWeight > 0 ? 0.2 : 0,
    });
    switch (action) {
      case 'deliver':
        c.deliver(this.rng.pick(due));
        break;
      case 'report':
        c.deliverReport(this.rng.int(reports));
        break;
      case 'compact':
        this.compact(up);
        break;
      case 'unaskedSnapshot':
        this.unaskedSnapshot();
        break;
      case 'ready':
        c.readyStep(this.rng.pick(busy));
        break;
      case 'misdeliver':
        c.misdeliver(this.rng.pick(due), this.rng.pick(c.ids));
        break;
      case 'drain':
        c.drain(this.rng.pick(outstanding));
        break;
      case 'flushCommit':
        c.flushCommitBroadcast(this.rng.pick(holding));
        break;
      case 'tick':
        // Now and then a node misses a tick: clocks drift, and timeouts must not depend on lockstep.
        c.tick(up.filter(() => !this.rng.chance(0.05)));
        break;
      case 'propose':
        this.propose(up);
        break;
      case 'readIndex':
        this.readIndex(up);
        break;
      case 'transfer':
        this.transfer(up);
        break;
      case 'crash': {
        // Leaders are where the interesting trouble starts (Figure 8 needs them to die).
        const leader = c.leader();
        const id = leader !== undefined && this.rng.chance(0.5) ? leader : this.rng.pick(up);
        c.crash(id);
        this.restartAt.set(id, c.now + this.faultTicks());
        break;
      }
      case 'restart':
        c.restart(this.rng.pick(restartable));
        break;
      case 'partition':
        this.partition();
        break;
      case 'heal':
        c.network.heal();
        c.events.add('heal');
        break;
    }
  }

  /**
   * A node compacts somewhere between its last compaction and what both its core and its state
   * machine have applied, often right up to that, often keeping a few entries for slow followers.
   * Leaders compact more often: theirs is the log followers need.
   */
  private compact(up: NodeId[]): void {
    const c = this.cluster;
    const leader = c.leader();
    const id = leader !== undefined && this.rng.chance(0.5) ? leader : this.rng.pick(up);
    const keep = this.rng.chance(0.5) ? 0 : this.rng.range(1, this.setup.maxKeep);
    const lo = c.snapshotIndex(id);
    const hi = Math.min(c.status(id).appliedIndex, c.node(id).applied) - keep;
    if (hi <= lo) return;
    this.counters.compactions++;
    c.compact(id, this.rng.chance(0.5) ? hi : this.rng.range(lo + 1, hi));
  }

  private unaskedSnapshot(): void {
    const c = this.cluster;
    const leader = c.leader();
    // Not while its core runs ahead of its state machine (a snapshot stepped in, not installed).
    if (leader === undefined || c.node(leader).applied < c.snapshotIndex(leader)) return;
    this.counters.unaskedSnapshots++;
    c.sendSnapshot(leader, this.rng.pick(c.ids.filter((id) => id !== leader)));
  }

  /** Mostly to the leader, in bursts (so several travel in one AppendEntries); sometimes to anyone. */
  private propose(up: NodeId[]): void {
    const c = this.cluster;
    const leader = c.leader();
    const to = leader !== undefined && this.rng.chance(0.8) ? leader : this.rng.pick(up);
    const burst = this.rng.chance(0.3) ? this.rng.range(2, 5) : 1;
    for (let k = 0; k < burst; k++) {
      const outcome = c.propose(to, `p${++this.counters.proposals}`);
      if ('notLeader' in outcome) break;
    }
  }

  /** Half the reads go to a node that believes it leads: a deposed leader must not answer stale. */
  private readIndex(up: NodeId[]): void {
    const c = this.cluster;
    const leaders = up.filter((id) => c.status(id).role === Role.Leader);
    const to = leaders.length && this.rng.chance(0.5) ? this.rng.pick(leaders) : this.rng.pick(up);
    c.readIndex(to, `r${++this.counters.reads}`);
  }

  private transfer(up: NodeId[]): void {
    const c = this.cluster;
    const leader = c.leader();
    if (leader === undefined) return;
    const others = c.ids.filter((id) => id !== leader);
    // Sometimes to a node that is down: the transfer must time out and leave the leader working.
    const to =
      this.rng.chance(0.8) && up.length > 1
        ? this.rng.pick(up.filter((id) => id !== leader))
        : this.rng.pick(others);
    this.counters.transfers++;
    c.transferLeadership(leader, to);
  }

  private partition(): void {
    const c = this.cluster;
    const ids = c.ids;
    this.counters.partitions++;
    const kind = this.rng.weighted({
      isolate: 2,
      isolateLeader: 4,
      split: 3,
      oneWayLink: 1,
      deaf: 1,
      mute: 1,
    });
    switch (kind) {
      case 'isolate':
      case 'isolateLeader': {
        const target = (kind === 'isolateLeader' ? c.leader() : undefined) ?? this.rng.pick(ids);
        c.network.isolate(target, ids);
        break;
      }
      case 'split': {
        const shuffled = this.rng.shuffle([...ids]);
        const cut = this.rng.range(1, ids.length - 1);
        c.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)], ids);
        break;
      }
      case 'oneWayLink': {
        const from = this.rng.pick(ids);
        c.network.cutOneWay(from, this.rng.pick(ids.filter((id) => id !== from)));
        break;
      }
      case 'deaf': {
        // Hears nothing, but its messages still get out (say, a broken inbound firewall rule).
        const target = this.rng.pick(ids);
        for (const o of ids) if (o !== target) c.network.cutOneWay(o, target);
        break;
      }
      case 'mute': {
        const target = this.rng.pick(ids);
        for (const o of ids) if (o !== target) c.network.cutOneWay(target, o);
        break;
      }
    }
    this.healAt = c.now + this.faultTicks();
    c.events.add(`partition ${kind} until tick ${this.healAt}: cut ${c.network.describeCuts()}`);
  }
}
