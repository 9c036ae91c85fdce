// Log compaction and snapshots, scripted step by step on the simulated cluster (whose runtime
// streams snapshots, persists and installs them, and whose invariant checker runs after every
// step). Each test first checks that its situation really arises (the follower really needs
// compacted entries, the snapshot really is stale...), so a change in the core's timing cannot make
// it pass vacuously.
import { describe, expect, it } from 'vitest';
import { ConfChangeType } from '../../src/raft/confchange.js';
import { MessageType, type Message } from '../../src/raft/types.js';
import type { Cluster } from './sim/cluster.js';
import type { SnapshotTransfer } from './sim/snapshots.js';
import {
  appliedAnywhere,
  deliverWhere,
  elect,
  ELECTION_TICKS as E,
  expectLeader,
  inFlight,
  payloadOf,
  scriptedCluster,
  tickUntil,
} from './sim/scripted.js';

function ticket(c: Cluster, id: number, payload: string): { index: number; term: number } {
  const out = c.propose(id, payload);
  if (!('ticket' in out)) throw new Error(`node ${id} refused ${payload}: ${out.notLeader.message}`);
  return out.ticket;
}

const isSnapshot = (m: Message): boolean => m.type === MessageType.Snapshot;
const notSnapshot = (m: Message): boolean => m.type !== MessageType.Snapshot;

function watchTransfers(c: Cluster): SnapshotTransfer[] {
  const seen: SnapshotTransfer[] = [];
  c.onTransfer = (t) => seen.push(t);
  return seen;
}

/**
 * Three nodes, S1 leading; S3 is cut off while S1 and S2 commit ten more entries, then S1 compacts
 * its log up to what it applied (S3 now needs entries S1 no longer has). The network is still cut.
 */
function followerBehindCompaction(opts: { keep?: number } = {}) {
  const c = scriptedCluster(3);
  elect(c, 1);
  ticket(c, 1, 'a');
  c.settle();
  c.network.isolate(3, c.ids);
  for (let i = 0; i < 10; i++) ticket(c, 1, `b${i}`);
  c.settle();
  const meta = c.compact(1, c.node(1).applied - (opts.keep ?? 0));
  expect(c.snapshotIndex(1)).toBe(meta.index);
  expect(c.status(3).lastIndex, 'S3 needs entries S1 compacted').toBeLessThan(meta.index);
  return { c, meta, transfers: watchTransfers(c) };
}

function caughtUp(c: Cluster, id: number, leader: number): boolean {
  return c.node(id).applied === c.status(leader).commitIndex;
}

describe('a follower behind the leader’s compaction', () => {
  it('catches up by a snapshot, then by entries', () => {
    const { c, meta, transfers } = followerBehindCompaction();
    // The core refuses to compact past what it applied: the runtime could not have captured it.
    expect(() => c.raft(1).compact(c.status(1).appliedIndex + 1)).toThrow();

    c.network.heal();
    tickUntil(c, () => caughtUp(c, 3, 1), 4 * E, 'S3 catches up');
    expect(transfers.map((t) => [t.from, t.to])).toEqual([[1, 3]]);
    expect(transfers[0].meta.index).toBeGreaterThanOrEqual(meta.index);
    expect(c.node(3).snapshot?.index).toBe(transfers[0].meta.index);
    expect(c.stats.installs).toBe(1);
    expect(c.node(3).appliedPayloads).toEqual(c.node(1).appliedPayloads);

    // From the snapshot on, plain AppendEntries: no second transfer.
    ticket(c, 1, 'c1');
    ticket(c, 1, 'c2');
    c.settle();
    expect(transfers).toHaveLength(1);
    expect(c.node(3).appliedPayloads.slice(-2)).toEqual(['c1', 'c2']);
    expect(c.node(3).log.lastIndex()).toBeGreaterThan(c.node(3).log.snapshotIndex);
    expect(c.status(1).progress.get(3)!.state).toBe('replicate');
  });

  it('needs no snapshot when the entries it lacks were kept behind the compaction point', () => {
    const c = scriptedCluster(3);
    elect(c, 1);
    ticket(c, 1, 'a');
    c.settle();
    c.network.isolate(3, c.ids);
    for (let i = 0; i < 3; i++) ticket(c, 1, `b${i}`);
    c.settle();
    const lag = c.status(1).lastIndex - c.status(3).lastIndex;
    expect(lag, 'S3 lacks entries').toBeGreaterThan(0);
    const meta = c.compact(1, c.node(1).applied - lag - 1);
    expect(meta.index).toBeLessThan(c.status(3).lastIndex);
    const transfers = watchTransfers(c);
    c.network.heal();
    tickUntil(c, () => caughtUp(c, 3, 1), 4 * E, 'S3 catches up');
    expect(transfers).toEqual([]);
  });

  it('gets a new snapshot when the transfer of the first one fails', () => {
    const { c, transfers } = followerBehindCompaction();
    c.network.heal();
    tickUntil(c, () => transfers.length === 1, 2 * E, 'a first transfer starts', notSnapshot);
    expect(c.status(1).progress.get(3)!.state, 'S1 waits for the snapshot').toBe('snapshot');

    expect(c.loseTransfers(() => true)).toBe(1);
    c.settle(notSnapshot); // the runtime reports the failure to the core
    expect(c.status(1).progress.get(3)!.state, 'S1 probes S3 again').toBe('probe');
    expect(c.node(3).snapshot).toBeUndefined();

    tickUntil(c, () => transfers.length === 2, 2 * E, 'a second transfer starts', notSnapshot);
    expect(transfers[1].to).toBe(3);
    tickUntil(c, () => caughtUp(c, 3, 1), 4 * E, 'S3 catches up');
    expect(c.node(3).snapshot?.index).toBe(transfers[1].meta.index);
    expect(c.node(3).appliedPayloads).toEqual(c.node(1).appliedPayloads);
  });

  it('finishes installing at restart after a crash between persisting and installing the snapshot', () => {
    const { c, transfers } = followerBehindCompaction();
    c.network.heal();
    tickUntil(c, () => transfers.length === 1, 2 * E, 'a transfer starts', notSnapshot);
    const D = transfers[0].meta.index;
    expect(deliverWhere(c, isSnapshot)).toBe(1);
    c.readyStep(3); // hand out the Ready carrying the snapshot
    expect(c.node(3).pending!.rd.snapshot?.index).toBe(D);
    c.readyStep(3); // persist it: the disk has the snapshot, the state machine does not yet
    expect(c.node(3).pending!.stage).toBe('persisted');
    expect(c.node(3).snapshot?.index).toBe(D);
    expect(c.node(3).applied).toBeLessThan(D);
    expect(inFlight(c, (m) => m.from === 3 && m.type === MessageType.AppResp)).toEqual([]);

    c.crash(3);
    c.restart(3);
    expect(c.stats.installRecoveries).toBe(1);
    expect(c.node(3).applied).toBe(D);
    expect(c.status(3).appliedIndex).toBe(D);
    expect(c.node(3).appliedPayloads).toEqual(transfers[0].image.payloads);
    tickUntil(c, () => caughtUp(c, 3, 1), 4 * E, 'S3 catches up');
    expect(c.node(3).appliedPayloads).toEqual(c.node(1).appliedPayloads);
  });

  it('that crashes before the snapshot reaches its disk starts from its old state and is sent another', () => {
    const { c, transfers } = followerBehindCompaction();
    c.network.heal();
    tickUntil(c, () => transfers.length === 1, 2 * E, 'a transfer starts', notSnapshot);
    const before = c.node(3).applied;
    expect(deliverWhere(c, isSnapshot)).toBe(1);
    c.readyStep(3); // handed out, not persisted
    expect(c.node(3).pending!.rd.snapshot).toBeDefined();
    c.crash(3);
    c.restart(3);
    expect(c.node(3).snapshot).toBeUndefined();
    expect(c.node(3).applied).toBe(before);
    tickUntil(c, () => caughtUp(c, 3, 1), 6 * E, 'S3 catches up');
    expect(transfers.length).toBeGreaterThanOrEqual(2);
    expect(c.node(3).appliedPayloads).toEqual(c.node(1).appliedPayloads);
  });
});

describe('a snapshot the follower does not need', () => {
  it('for an index whose entry it already has only advances its commit (and acks no more than that)', () => {
    // Five nodes. S1 (term t1) writes c, d, e; all of them reach S3, only c reaches the others and
    // commits; S3 never hears that. S1 dies, S2 wins term t2 without S3 and captures its state
    // machine at c's index D: S3 holds D (same term) but an uncommitted tail d, e after it, which
    // S2's log does not have.
    const c = scriptedCluster(5);
    elect(c, 1);
    ticket(c, 1, 'a');
    c.settle();
    const k = c.status(1).commitIndex;
    for (const id of c.ids) expect(c.status(id).commitIndex).toBe(k);
    const t1 = c.status(1).term;

    ticket(c, 1, 'c');
    c.processReady(1);
    ticket(c, 1, 'd');
    ticket(c, 1, 'e');
    c.processReady(1);
    expect(deliverWhere(c, (m) => m.to === 3)).toBe(2);
    c.processReady(3);
    c.network.dropWhere((m) => m.from === 3 || (m.to !== 3 && m.entries.some((e) => payloadOf(e) === 'd')));
    expect(deliverWhere(c, (m) => m.from === 1 && m.to !== 3)).toBe(3);
    for (const id of [2, 4, 5]) c.processReady(id);
    deliverWhere(c, (m) => m.to === 1);
    c.processReady(1);
    expect(c.status(1).commitIndex).toBe(k + 1);
    // Only S2 learns that c is committed, from a heartbeat (S1's AppendEntries would carry d, e).
    c.network.dropWhere(() => true);
    for (let i = 0; i < 2; i++) c.tick([1]);
    c.processReady(1);
    expect(deliverWhere(c, (m) => m.type === MessageType.Heartbeat && m.to === 2)).toBe(1);
    c.processReady(2);
    expect(c.node(2).applied).toBe(k + 1);
    c.crash(1);
    c.network.dropWhere(() => true);
    expect(c.status(3).commitIndex).toBe(k);
    expect(c.status(3).lastIndex).toBe(k + 3);

    // S2 leads term t2; its no-op at k+2 stays uncommitted, so its state machine is at D = k+1.
    c.network.isolate(3, c.ids);
    elect(c, 2, (m) => !(m.type === MessageType.AppResp && m.to === 2));
    const t2 = c.status(2).term;
    expect(c.node(2).applied).toBe(k + 1);
    expect(c.node(2).log.termAt(k + 2)).toBe(t2);

    c.network.heal();
    const t = c.sendSnapshot(2, 3);
    expect([t.meta.index, t.meta.term]).toEqual([k + 1, t1]);
    expect(deliverWhere(c, isSnapshot)).toBe(1);
    c.processReady(3);
    expect(c.status(3).term).toBe(t2);
    expect(c.status(3).commitIndex, 'commit advances to the snapshot').toBe(k + 1);
    expect(c.status(3).lastIndex, 'the entries after it stay').toBe(k + 3);
    expect(c.node(3).snapshot).toBeUndefined();
    expect(c.stats.installs).toBe(0);
    // S3's entries after D are not S2's: acknowledging them would let S2 count S3 for its own
    // entries there, which S3 does not have.
    const acks = inFlight(c, (m) => m.type === MessageType.AppResp && m.from === 3 && m.to === 2);
    expect(acks.map((m) => [m.index, m.reject])).toEqual([[k + 1, false]]);

    c.settle();
    tickUntil(c, () => c.ids.every((id) => !c.isUp(id) || caughtUp(c, id, 2)), 4 * E, 'the rest converge');
    expect(c.node(3).log.termAt(k + 2)).toBe(t2);
    expect(appliedAnywhere(c).has('d')).toBe(false);
    expect(c.node(3).appliedPayloads).toEqual(['a', 'c']);
  });

  it('is ignored when it is not newer than the follower’s commit index', () => {
    const c = scriptedCluster(3);
    elect(c, 1);
    ticket(c, 1, 'a');
    c.settle();
    const installs = c.stats.installs;
    const ignoredBy3 = (what: string) => {
      const before = { st: c.status(3), last: c.node(3).log.lastIndex() };
      const prefix = c.node(3).log.prefixId(before.last);
      expect(deliverWhere(c, isSnapshot), what).toBe(1);
      c.processReady(3);
      expect(c.stats.installs, what).toBe(installs);
      expect(c.node(3).snapshot, what).toBeUndefined();
      expect(c.status(3).commitIndex, what).toBe(before.st.commitIndex);
      expect(c.node(3).log.lastIndex(), what).toBe(before.last);
      expect(c.node(3).log.prefixId(before.last), what).toBe(prefix);
      const acks = inFlight(c, (m) => m.type === MessageType.AppResp && m.from === 3);
      expect(
        acks.map((m) => m.index),
        what,
      ).toEqual([before.st.commitIndex]);
      c.settle();
    };

    // At exactly the follower's commit index.
    const same = c.sendSnapshot(1, 3);
    expect(same.meta.index).toBe(c.status(3).commitIndex);
    ignoredBy3('snapshot at the commit index');

    // Below it: a transfer overtaken by the entries that followed.
    const old = c.sendSnapshot(1, 3);
    ticket(c, 1, 'b');
    ticket(c, 1, 'c');
    c.settle(notSnapshot);
    expect(c.status(3).commitIndex).toBeGreaterThan(old.meta.index);
    ignoredBy3('older snapshot');
    expect(c.node(3).appliedPayloads).toEqual(['a', 'b', 'c']);
  });
});

describe('membership in snapshots', () => {
  const remove4 = { type: ConfChangeType.RemoveNode, nodeId: 4, context: new Uint8Array(0) };

  for (const bootstrap of [false, true]) {
    const how = bootstrap ? 'bootstrapped log' : 'initial membership passed to the core';
    it(`a change inside the compacted range is in the snapshot’s membership (${how})`, () => {
      const c = scriptedCluster(4, {}, { bootstrap });
      elect(c, 1);
      ticket(c, 1, 'a');
      c.settle();
      const beforeChange = c.node(1).applied;
      c.proposeConfChange(1, remove4);
      c.settle();
      expect(c.status(1).confState.voters).toEqual([1, 2, 3]);
      c.network.isolate(3, c.ids);
      for (let i = 0; i < 3; i++) ticket(c, 1, `b${i}`);
      c.settle();

      // Before the change it is still in the log; after, only the membership says it happened.
      expect(c.compact(1, beforeChange).confState).toEqual({ voters: [1, 2, 3, 4], learners: [] });
      const meta = c.compact(1, c.node(1).applied);
      expect(meta.confState).toEqual({ voters: [1, 2, 3], learners: [] });
      expect(c.status(3).lastIndex).toBeLessThan(meta.index);

      const transfers = watchTransfers(c);
      c.network.heal();
      tickUntil(c, () => caughtUp(c, 3, 1), 4 * E, 'S3 catches up');
      expect(transfers.map((t) => t.to)).toEqual([3]);
      expect(c.node(3).snapshot!.confState.voters).toEqual([1, 2, 3]);
      expect(c.status(3).confState.voters).toEqual([1, 2, 3]);
      expect(c.node(3).confChanges.at(-1)).toEqual(remove4);

      // Both restart with it: S3 from the installed snapshot, S1 from its own compaction.
      for (const id of [3, 1]) {
        c.crash(id);
        c.restart(id);
        expect(c.status(id).confState.voters, `S${id} after restart`).toEqual([1, 2, 3]);
      }
      // And the three voters still work: S2 and S3 elect a leader and commit without S4.
      elect(c, 2);
      ticket(c, 2, 'after');
      c.settle();
      for (const id of [1, 2, 3]) expect(c.node(id).appliedPayloads.at(-1)).toBe('after');
    });
  }
});

describe('a leader restarted after compacting', () => {
  it('leads again from its snapshot and serves a follower that needs it', () => {
    const c = scriptedCluster(3);
    elect(c, 1);
    ticket(c, 1, 'a');
    c.settle();
    c.network.isolate(3, c.ids);
    for (let i = 0; i < 6; i++) ticket(c, 1, `b${i}`);
    c.settle();
    const meta = c.compact(1, c.node(1).applied - 2); // two entries kept
    expect(c.status(3).lastIndex).toBeLessThan(meta.index);

    c.crash(1);
    c.restart(1);
    expect(c.snapshotIndex(1)).toBe(meta.index);
    expect(c.status(1).appliedIndex).toBe(c.node(1).applied);
    expect(c.status(1).confState.voters).toEqual([1, 2, 3]);
    elect(c, 1);
    expectLeader(c, 1);

    const transfers = watchTransfers(c);
    c.network.heal();
    tickUntil(c, () => caughtUp(c, 3, 1), 4 * E, 'S3 catches up');
    expect(transfers.map((t) => [t.from, t.to])).toEqual([[1, 3]]);
    ticket(c, 1, 'c');
    c.settle();
    for (const id of c.ids) expect(c.node(id).appliedPayloads).toEqual(c.node(1).appliedPayloads);
    expect(c.node(3).appliedPayloads.at(-1)).toBe('c');
  });
});
