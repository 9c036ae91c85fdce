// The simulated network: a bag of in-flight messages, each due at some logical tick. Faults are
// per-message drop, delay, duplication (and so reordering), plus partitions made of cut directed
// links, which model both full and one-way partitions. It never delivers anything by itself: the
// harness picks which due message arrives next, which is where most of the reordering comes from.
// Snapshot transfers (the runtime's out-of-band streams) travel here too, with the same faults; a
// lost one stays in flight as a failure notice for the sender, which learns of it only later.
import type { Message, NodeId } from '../../../src/raft/types.js';
import { cloneMessage } from './messages.js';
import type { Prng } from './prng.js';
import type { SnapshotTransfer } from './snapshots.js';

export interface Faults {
  /** Probability that a sent message is lost. */
  dropRate: number;
  /** Probability that a sent message arrives twice (each copy with its own delay). */
  dupRate: number;
  /** A message becomes due 0..maxDelay ticks after it is sent. */
  maxDelay: number;
}

export const NO_FAULTS: Faults = { dropRate: 0, dupRate: 0, maxDelay: 0 };

export interface InFlight {
  msg: Message;
  /** Logical tick from which the message may be delivered. */
  dueAt: number;
  /** Send order, for FIFO delivery in scripted scenarios and stable event logs. */
  seq: number;
  /** Set on a snapshot transfer: `msg` is the Snapshot message the receiver steps once it is stored. */
  transfer?: SnapshotTransfer;
  /** A transfer that was dropped or cut at send: when due, it only tells the sender it failed. */
  lost?: boolean;
}

export class Network {
  faults: Faults = NO_FAULTS;
  private inFlight: InFlight[] = [];
  private readonly cutLinks = new Set<string>();
  private nextSeq = 0;
  /** Counters for the test's own sanity checks (a simulation that never drops proves little). */
  readonly stats = { sent: 0, dropped: 0, duplicated: 0, cut: 0 };

  /** prng is only consulted when faults are configured; scripted scenarios may pass none. */
  constructor(private readonly prng?: Prng) {}

  send(m: Message, now: number, transfer?: SnapshotTransfer): void {
    this.stats.sent++;
    if (this.isCut(m.from, m.to)) {
      this.stats.cut++;
      if (transfer) this.enqueue(m, now, transfer, true);
      return;
    }
    if (this.faults.dropRate > 0 && this.rng().chance(this.faults.dropRate)) {
      this.stats.dropped++;
      if (transfer) this.enqueue(m, now, transfer, true);
      return;
    }
    this.enqueue(m, now, transfer);
    if (this.faults.dupRate > 0 && this.rng().chance(this.faults.dupRate)) {
      this.stats.duplicated++;
      this.enqueue(m, now, transfer);
    }
  }

  private enqueue(m: Message, now: number, transfer?: SnapshotTransfer, lost?: boolean): void {
    const delay = this.faults.maxDelay > 0 ? this.rng().int(this.faults.maxDelay + 1) : 0;
    const item: InFlight = { msg: cloneMessage(m), dueAt: now + delay, seq: this.nextSeq++ };
    if (transfer) item.transfer = transfer;
    if (lost) item.lost = true;
    this.inFlight.push(item);
  }

  private rng(): Prng {
    if (!this.prng) throw new Error('network faults need a PRNG');
    return this.prng;
  }

  /** Messages that may be delivered at `now`, in send order. */
  due(now: number): InFlight[] {
    return this.inFlight.filter((f) => f.dueAt <= now);
  }

  all(): readonly InFlight[] {
    return this.inFlight;
  }

  /**
   * Removes `item` from the network and says whether it arrives: a link cut after the message
   * was sent still loses it (a partition swallows what is on the wire).
   */
  take(item: InFlight): boolean {
    const i = this.inFlight.indexOf(item);
    if (i < 0) throw new Error('message is not in flight');
    this.inFlight.splice(i, 1);
    if (item.lost) return false;
    if (this.isCut(item.msg.from, item.msg.to)) {
      this.stats.cut++;
      return false;
    }
    return true;
  }

  /**
   * Drops every in-flight message matching `pred`; returns them. (A transfer dropped this way never
   * reports back: use Cluster.loseTransfers to lose one the way the sender would notice.)
   */
  dropWhere(pred: (m: Message) => boolean): InFlight[] {
    const dropped = this.inFlight.filter((f) => pred(f.msg));
    this.inFlight = this.inFlight.filter((f) => !pred(f.msg));
    return dropped;
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cutLinks.size > 0 && this.cutLinks.has(`${from}>${to}`);
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.cutLinks.add(`${from}>${to}`);
  }

  cutBothWays(a: NodeId, b: NodeId): void {
    this.cutOneWay(a, b);
    this.cutOneWay(b, a);
  }

  /** Nodes in different groups cannot talk; a node in no group is cut from everyone. */
  partition(groups: NodeId[][], all: readonly NodeId[]): void {
    this.heal();
    const groupOf = new Map<NodeId, number>();
    groups.forEach((g, i) => g.forEach((id) => groupOf.set(id, i)));
    for (const a of all) {
      for (const b of all) {
        if (a === b) continue;
        const ga = groupOf.get(a);
        if (ga === undefined || ga !== groupOf.get(b)) this.cutOneWay(a, b);
      }
    }
  }

  /** Cuts `id` from everyone else, both ways. */
  isolate(id: NodeId, all: readonly NodeId[]): void {
    for (const other of all) if (other !== id) this.cutBothWays(id, other);
  }

  heal(): void {
    this.cutLinks.clear();
  }

  cutCount(): number {
    return this.cutLinks.size;
  }

  describeCuts(): string {
    return [...this.cutLinks].sort().join(' ') || 'none';
  }
}
