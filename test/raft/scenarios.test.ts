// The classic traps, each scripted step by step on the simulated cluster (whose invariant checker
// runs after every step here too). Each test first asserts that the trap really is set, so a
// change in the core's timing cannot make a test pass vacuously. Scenarios that read best as a
// script and its full output are transcripts instead (testdata/*.txt, transcripts.test.ts); these
// stay code because they choose what to deliver with predicates or loop until a condition.
import { describe, expect, it } from 'vitest';
import { MessageType, Role, type Message, type NodeId } from '../../src/raft/types.js';
import {
  appliedAnywhere,
  deliverWhere,
  elect,
  ELECTION_TICKS as E,
  expectLeader,
  inFlight,
  payloadOf,
  scriptedCluster,
  tickAndSettle,
  tickUntil,
} from './sim/scripted.js';
import type { Cluster } from './sim/cluster.js';

function ticket(c: Cluster, id: NodeId, payload: string): { index: number; term: number } {
  const out = c.propose(id, payload);
  if (!('ticket' in out)) throw new Error(`node ${id} refused ${payload}: ${out.notLeader.message}`);
  return out.ticket;
}

function isApp(m: Message): boolean {
  return m.type === MessageType.App;
}

describe('Figure 8: an old-term entry is never committed by counting replicas', () => {
  /**
   * Raft paper, Figure 8, with the no-op each leader appends. Five nodes, one entry per
   * AppendEntries so an old entry can travel without the new leader's no-op.
   *  (a) S1 leads term t1 and replicates X (index k) to S2 only; S1 crashes.
   *  (b) S5 wins term t2 with S3 and S4 and writes its no-op at index k, alone; S5 crashes.
   *  (c) S1 restarts and wins term t3; it brings X to S3 and S4 but its own no-op (k+1) is held
   *      back. X now sits on S1..S4, a majority that S1 knows about, yet must not be committed.
   */
  function figure8() {
    const c = scriptedCluster(5, { maxEntriesPerMessage: 1 });
    elect(c, 1);
    const t1 = c.status(1).term;

    c.network.partition(
      [
        [1, 2],
        [3, 4, 5],
      ],
      c.ids,
    );
    const x = ticket(c, 1, 'X');
    const k = x.index;
    c.settle();
    expect(payloadOf(c.node(2).log.entryAt(k))).toBe('X');
    c.crash(1);

    c.network.partition([[3, 4, 5]], c.ids);
    const holdS5 = (m: Message) => !(m.from === 5 && (isApp(m) || m.type === MessageType.Heartbeat));
    elect(c, 5, holdS5);
    const t2 = c.status(5).term;
    expect(t2).toBeGreaterThan(t1);
    expect(c.node(5).log.termAt(k)).toBe(t2); // S5's no-op at k, on S5's disk only
    c.crash(5);
    c.network.dropWhere((m) => m.from === 5);

    c.network.heal();
    c.restart(1);
    // S2 already holds X: keep S1's AppendEntries from it. S3/S4 may receive anything that ends
    // before k+1, or that they will reject anyway because they lack k.
    const holdNoop = (m: Message) =>
      !(
        m.from === 1 &&
        isApp(m) &&
        (m.to === 2 ||
          (m.entries.some((e) => e.index === k + 1) && c.isUp(m.to) && c.status(m.to).lastIndex >= k))
      );
    elect(c, 1, holdNoop);
    const st = c.status(1);
    expect(st.term).toBeGreaterThan(t2);
    for (const id of [3, 4]) {
      expect(payloadOf(c.node(id).log.entryAt(k)), `X on S${id}`).toBe('X');
      expect(c.node(id).log.lastIndex(), `S${id} lacks the no-op`).toBe(k);
      expect(st.progress.get(id)!.matchIndex, `S1 knows S${id} has X`).toBeGreaterThanOrEqual(k);
    }
    expect(st.lastIndex).toBe(k + 1);
    return { c, k, t2 };
  }

  it('does not commit an old-term entry stored on a majority, which a later leader may overwrite', () => {
    const { c, k, t2 } = figure8();
    expect(c.status(1).commitIndex, 'S1 must not commit X by counting replicas').toBeLessThan(k);

    // Why: S1 dies now, S5 (last entry from t2 > t1) can win with S2..S4 and overwrite X.
    c.crash(1);
    c.network.dropWhere((m) => m.from === 1);
    c.restart(5);
    elect(c, 5);
    tickUntil(c, () => [2, 3, 4, 5].every((id) => c.node(id).applied > k), 4 * E, 'S5 commits');
    for (const id of [2, 3, 4, 5]) expect(c.node(id).log.termAt(k), `S${id} entry ${k}`).toBe(t2);
    expect(appliedAnywhere(c).has('X')).toBe(false);
  });

  it('commits the old entry once an entry of the current term reaches a majority', () => {
    const { c, k } = figure8();
    expect(c.status(1).commitIndex).toBeLessThan(k);
    c.settle(); // release S1's no-op to S3/S4 (and S2)
    expect(c.status(1).commitIndex).toBeGreaterThanOrEqual(k + 1);
    tickAndSettle(c, 2);
    for (const id of [1, 2, 3, 4]) expect(c.node(id).appliedPayloads).toContain('X');
  });
});

describe('a leader isolated in a minority', () => {
  it('steps down by CheckQuorum; nothing it accepted alone commits, and its tail is overwritten after heal', () => {
    const c = scriptedCluster(5);
    elect(c, 1);
    ticket(c, 1, 'before');
    c.settle();
    const oldTerm = c.status(1).term;

    c.network.partition(
      [
        [1, 2],
        [3, 4, 5],
      ],
      c.ids,
    );
    const lost = ['lost-1', 'lost-2', 'lost-3'].map((p) => ticket(c, 1, p));
    c.readIndex(1, 'stale-read');
    c.settle();
    expect(c.node(2).log.lastIndex(), 'S2 has the minority tail').toBe(lost[2].index);

    tickUntil(c, () => c.status(1).role !== Role.Leader, 2 * E, 'the isolated leader steps down');
    expect(c.node(1).readStates, 'a leader without a quorum answers no reads').toEqual([]);

    elect(c, 3);
    expect(c.status(3).term).toBeGreaterThan(oldTerm);
    const after = ['after-1', 'after-2', 'after-3'].map((p) => ticket(c, 3, p));
    expect(after[2].index).toBeGreaterThanOrEqual(lost[2].index); // the new log covers the old tail
    c.settle();
    for (const id of [1, 2]) expect(c.status(id).commitIndex).toBeLessThan(lost[0].index);

    c.network.heal();
    tickUntil(c, () => c.ids.every((id) => c.node(id).applied >= after[2].index), 4 * E, 'heal converges');
    expectLeader(c, 3);
    for (const id of [1, 2]) {
      for (const t of lost)
        expect(c.node(id).log.termAt(t.index), `S${id} entry ${t.index}`).toBeGreaterThan(oldTerm);
    }
    const applied = appliedAnywhere(c);
    for (const p of ['lost-1', 'lost-2', 'lost-3']) expect(applied.has(p)).toBe(false);
    expect(applied.has('before')).toBe(true);
  });
});

describe('a follower with a long divergent uncommitted tail', () => {
  it('is repaired, with fast backtracking taking a few round trips rather than one per entry', () => {
    const c = scriptedCluster(3, { maxEntriesPerMessage: 4 });
    elect(c, 1);
    ticket(c, 1, 'base');
    c.settle();

    // S1, cut off, piles up 60 entries nobody else has.
    c.network.isolate(1, c.ids);
    for (let i = 0; i < 60; i++) ticket(c, 1, `tail-${i}`);
    c.settle();
    // Meanwhile S2 and S3 move on over two terms.
    elect(c, 2);
    for (let i = 0; i < 20; i++) ticket(c, 2, `new-a${i}`);
    c.settle();
    c.transferLeadership(2, 3);
    c.settle();
    expectLeader(c, 3);
    for (let i = 0; i < 20; i++) ticket(c, 3, `new-b${i}`);
    c.settle();
    expect(c.node(1).log.lastIndex()).toBeGreaterThan(c.status(3).commitIndex);

    let rejections = 0;
    c.onDeliver = (m) => {
      if (m.type === MessageType.AppResp && m.reject && m.from === 1) rejections++;
    };
    c.network.heal();
    tickUntil(c, () => c.node(1).applied === c.status(3).commitIndex, 4 * E, 'S1 repaired');
    const leaderLog = c.node(3).log;
    expect(c.node(1).log.lastIndex()).toBe(leaderLog.lastIndex());
    expect(c.node(1).log.prefixId(leaderLog.lastIndex())).toBe(leaderLog.prefixId(leaderLog.lastIndex()));
    // One entry per rejection would take ~40 round trips; term hints jump straight to the match.
    expect(rejections).toBeGreaterThan(0);
    expect(rejections).toBeLessThanOrEqual(3);
    expect([...appliedAnywhere(c)].some((p) => p.startsWith('tail-'))).toBe(false);
  });
});

describe('flow control on the leader', () => {
  function steadyLeader(config = {}) {
    const c = scriptedCluster(3, config);
    elect(c, 1);
    c.settle();
    expect(c.hasWork(1)).toBe(false);
    return c;
  }

  it('caps the AppendEntries in flight to a follower at the window size', () => {
    const c = steadyLeader({ maxInflightMessages: 2, maxEntriesPerMessage: 1 });
    const outstandingTo2 = () => inFlight(c, (m) => isApp(m) && m.to === 2 && m.entries.length > 0).length;
    for (let i = 0; i < 6; i++) ticket(c, 1, `w${i}`);
    c.processReady(1);
    expect(outstandingTo2()).toBe(2);
    ticket(c, 1, 'w6');
    c.processReady(1);
    c.drain(1);
    expect(outstandingTo2(), 'no acks yet: the window stays full').toBe(2);

    // Each ack frees room; the window is never exceeded on the way to catching up.
    let maxSeen = 0;
    for (let round = 0; round < 20 && c.node(2).applied < c.status(1).lastIndex; round++) {
      deliverWhere(c, (m) => m.to === 2 || m.from === 2);
      for (const id of c.ids) c.processReady(id);
      maxSeen = Math.max(maxSeen, outstandingTo2());
      if (round % 3 === 2) tickAndSettle(c, 1, (m) => m.to !== 2 && m.from !== 2);
    }
    expect(maxSeen).toBeLessThanOrEqual(2);
    c.settle();
    expect(c.node(2).appliedPayloads).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6']);
  });
});
