// Helpers for scripted scenarios: a fault-free cluster where the test decides what is delivered
// and when, plus a way to make a chosen node win an election. The same harness (and the same
// invariant checks after every step) as the random simulation.
import { expect } from 'vitest';
import { DEFAULT_CONFIG, type CoreConfig } from '../../../src/raft/config.js';
import { MessageType, Role, type Entry, type Message, type NodeId } from '../../../src/raft/types.js';
import { Cluster } from './cluster.js';
import { bytesKey } from './messages.js';
import { Prng } from './prng.js';

export const ELECTION_TICKS = 10;
/** Timer randomness giving the longest timeout (2E-1 ticks) and the shortest (E ticks). */
const SLOW_TIMER = 0.999;
const FAST_TIMER = 0;

export function scriptedCluster(
  size: number,
  config: Partial<CoreConfig> = {},
  opts: { bootstrap?: boolean } = {},
): Cluster {
  return new Cluster({
    size,
    config: { ...DEFAULT_CONFIG, electionTicks: ELECTION_TICKS, heartbeatTicks: 2, ...config },
    prng: new Prng(20_260_101),
    eventCapacity: 200,
    // Everyone starts on the longest timeout; elect() makes one node faster.
    timerOverride: SLOW_TIMER,
    bootstrap: opts.bootstrap,
  });
}

/** Every message matches. */
export const ALL = (): boolean => true;

/** Delivers, once, each due message matching `pred` (no Ready processing in between). */
export function deliverWhere(c: Cluster, pred: (m: Message) => boolean): number {
  let n = 0;
  for (const item of c.network.due(c.now)) {
    if (pred(item.msg)) {
      c.deliver(item);
      n++;
    }
  }
  return n;
}

export function inFlight(c: Cluster, pred: (m: Message) => boolean): Message[] {
  return c.network
    .all()
    .filter((f) => pred(f.msg))
    .map((f) => f.msg);
}

/** Ticks every live node `n` times, settling after each tick. */
export function tickAndSettle(c: Cluster, n: number, filter: (m: Message) => boolean = ALL): void {
  for (let i = 0; i < n; i++) {
    c.tick();
    c.settle(filter);
  }
}

/** Ticks (and settles) until `cond` holds; fails the test if it takes more than `maxTicks`. */
export function tickUntil(
  c: Cluster,
  cond: () => boolean,
  maxTicks: number,
  what: string,
  filter: (m: Message) => boolean = ALL,
): number {
  for (let t = 0; t <= maxTicks; t++) {
    if (cond()) return t;
    c.tick();
    c.settle(filter);
  }
  throw new Error(
    `${what}: not reached within ${maxTicks} ticks\n${c.describe()}\n${c.events.tail().join('\n')}`,
  );
}

/**
 * Makes `id` win an election (the previous leader must be gone: a live one keeps its followers
 * in its lease; use transferLeadership for that). First `id` ticks alone until it campaigns, so
 * nobody can time out before it; from then on its timer is the shortest (E against 2E-1), and
 * everyone ticks, which also lets the others' leases on a dead leader lapse. Partitions in force
 * still apply.
 */
export function elect(c: Cluster, id: NodeId, filter: (m: Message) => boolean = ALL): void {
  for (const other of c.ids) c.node(other).timerOverride = other === id ? FAST_TIMER : SLOW_TIMER;
  c.settle(filter);
  for (let t = 0, campaigned = false; !campaigned; t++) {
    if (t > 2 * ELECTION_TICKS) throw new Error(`node ${id} never campaigned\n${c.describe()}`);
    c.tick([id]);
    // Look before the answers arrive: a refusal at a higher term sends it straight back.
    campaigned = c.status(id).role !== Role.Follower;
    c.settle(filter);
  }
  tickUntil(c, () => c.status(id).role === Role.Leader, 20 * ELECTION_TICKS, `electing node ${id}`, filter);
  c.settle(filter);
}

export function payloadOf(e: Entry): string {
  return bytesKey(e.data);
}

/** The AppendEntries in `msgs` from `from` to `to`. */
export function appsTo(msgs: readonly Message[], from: NodeId, to: NodeId): Message[] {
  return msgs.filter((m) => m.type === MessageType.App && m.from === from && m.to === to);
}

/** Every payload any node applied, as a set. */
export function appliedAnywhere(c: Cluster): Set<string> {
  return new Set(c.ids.flatMap((id) => c.node(id).appliedPayloads));
}

export function expectLeader(c: Cluster, id: NodeId): void {
  expect(c.status(id).role, `node ${id} should lead\n${c.describe()}`).toBe(Role.Leader);
}
