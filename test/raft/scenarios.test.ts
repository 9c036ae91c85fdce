// The classic traps, each scripted step by step on the simulated cluster (whose invariant checker
// runs after every step here too). Each test first asserts that the trap really is set, so a
// change in the core's timing cannot make a test pass vacuously.
import { describe, expect, it } from 'vitest';
import { ConfChangeType } from '../../src/raft/confchange.js';
import { ProposalRejectedError } from '../../src/raft/errors.js';
import { MessageType, Role, type Message, type NodeId } from '../../src/raft/types.js';
import { bytesKey } from './sim/messages.js';
import {
  appliedAnywhere,
  appsTo,
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

describe('PreVote: a node that was partitioned away', () => {
  function isolateAndRejoin(preVote: boolean) {
    const c = scriptedCluster(3, { preVote });
    elect(c, 1);
    ticket(c, 1, 'one');
    c.settle();
    const term = c.status(1).term;
    c.network.isolate(3, c.ids);
    tickAndSettle(c, 10 * E);
    const isolatedTerm = c.status(3).term;
    c.network.heal();
    tickAndSettle(c, 3 * E);
    return { c, term, isolatedTerm };
  }

  it('rejoins without bumping the term or unseating the leader', () => {
    const { c, term, isolatedTerm } = isolateAndRejoin(true);
    expect(isolatedTerm).toBe(term);
    expectLeader(c, 1);
    for (const id of c.ids) expect(c.status(id).term).toBe(term);
    ticket(c, 1, 'two');
    c.settle();
    expect(c.node(3).appliedPayloads).toEqual(['one', 'two']);
  });

  it('(contrast: without PreVote the same node does disrupt the cluster)', () => {
    const { c, term, isolatedTerm } = isolateAndRejoin(false);
    expect(isolatedTerm).toBeGreaterThan(term);
    expect(c.status(c.leader()!).term).toBeGreaterThan(term);
  });
});

describe('a node restarted from its persisted state', () => {
  /** S1 campaigns for term T with only S3 listening (preVote off: we want real votes). */
  function s1AsksS3() {
    const c = scriptedCluster(3, { preVote: false });
    c.network.cutBothWays(1, 2);
    for (let i = 0; c.status(1).role !== Role.Candidate; i++) {
      if (i > 2 * E) throw new Error('S1 never campaigned');
      c.tick([1]);
    }
    c.processReady(1);
    const T = c.status(1).term;
    expect(deliverWhere(c, (m) => m.type === MessageType.Vote && m.to === 3)).toBe(1);
    return { c, T };
  }

  /** S2 campaigns for the same term T; returns S3's answer. */
  function s2AsksS3(c: Cluster, T: number): Message {
    for (let i = 0; c.status(2).role !== Role.Candidate; i++) {
      if (i > 2 * E) throw new Error('S2 never campaigned');
      c.tick([2]);
    }
    expect(c.status(2).term).toBe(T);
    c.processReady(2);
    expect(deliverWhere(c, (m) => m.type === MessageType.Vote && m.from === 2 && m.to === 3)).toBe(1);
    c.processReady(3);
    const answers = inFlight(c, (m) => m.type === MessageType.VoteResp && m.from === 3 && m.to === 2);
    expect(answers).toHaveLength(1);
    return answers[0];
  }

  it('does not vote twice in one term', () => {
    const { c, T } = s1AsksS3();
    c.processReady(3); // S3 persists its vote for S1, then sends the grant
    expect(inFlight(c, (m) => m.type === MessageType.VoteResp && m.from === 3 && !m.reject)).toHaveLength(1);
    c.network.dropWhere((m) => m.from === 3); // the grant is lost: S1 does not win
    c.crash(3);
    c.restart(3);
    expect(c.status(3).term).toBe(T);
    expect(c.status(3).vote).toBe(1);
    expect(s2AsksS3(c, T).reject).toBe(true);
  });

  it('may vote again if the first vote never reached its disk (it was never announced either)', () => {
    const { c, T } = s1AsksS3();
    c.readyStep(3); // hand out the Ready holding the vote ...
    c.crash(3); //     ... and crash before it is persisted
    expect(inFlight(c, (m) => m.type === MessageType.VoteResp)).toHaveLength(0);
    c.restart(3);
    expect(c.status(3).vote).toBe(0);
    expect(s2AsksS3(c, T).reject).toBe(false);
  });
});

describe('replication on the leader', () => {
  function steadyLeader(config = {}) {
    const c = scriptedCluster(3, config);
    elect(c, 1);
    c.settle();
    expect(c.hasWork(1)).toBe(false);
    return c;
  }

  it('sends a proposal at once: its AppendEntries is in the very next Ready, with no tick', () => {
    const c = steadyLeader();
    const now = c.now;
    ticket(c, 1, 'now');
    expect(c.hasWork(1)).toBe(true);
    c.readyStep(1);
    const rd = c.node(1).pending!.rd;
    for (const f of [2, 3]) {
      const apps = appsTo(rd.messages, 1, f);
      expect(apps).toHaveLength(1);
      expect(apps[0].entries.map(payloadOf)).toEqual(['now']);
    }
    // Pipelined: while that Ready is still being persisted, the next proposal leaves via drain.
    ticket(c, 1, 'next');
    c.drain(1);
    for (const f of [2, 3]) {
      const carrying = inFlight(
        c,
        (m) => isApp(m) && m.to === f && m.entries.some((e) => payloadOf(e) === 'next'),
      );
      expect(carrying, `'next' to S${f} before the first Ready is persisted`).toHaveLength(1);
    }
    expect(c.now).toBe(now);
    c.settle();
    for (const id of c.ids) expect(c.node(id).appliedPayloads).toEqual(['now', 'next']);
  });

  it('batches proposals made before one ready() into one AppendEntries per follower', () => {
    const c = steadyLeader();
    const payloads = ['b0', 'b1', 'b2', 'b3', 'b4'];
    for (const p of payloads) ticket(c, 1, p);
    c.readyStep(1);
    const rd = c.node(1).pending!.rd;
    expect(rd.entries.map(payloadOf)).toEqual(payloads); // one disk write for the batch
    for (const f of [2, 3]) {
      const apps = appsTo(rd.messages, 1, f);
      expect(apps).toHaveLength(1);
      expect(apps[0].entries.map(payloadOf)).toEqual(payloads);
    }
  });

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

describe('lazy commit broadcast (RaftConfig.lazyCommitBroadcast)', () => {
  const emptyAppsTo = (c: Cluster, f: NodeId) =>
    inFlight(c, (m) => isApp(m) && m.to === f && m.entries.length === 0);

  it('holds a commit advance for the next AppendEntries, or until flushed; never loses it', () => {
    const c = scriptedCluster(3, { lazyCommitBroadcast: true });
    elect(c, 1);
    c.settle();
    // A new leader's first commit (its no-op) is announced at once, lazy or not.
    expect(c.raft(1).commitBroadcastPending).toBe(false);
    for (const f of [2, 3]) expect(c.status(f).commitIndex).toBe(c.status(1).commitIndex);
    const a = ticket(c, 1, 'a');
    c.settle();
    // Committed on the leader (a client would have its answer), held from the followers.
    expect(c.status(1).commitIndex).toBe(a.index);
    expect(c.raft(1).commitBroadcastPending).toBe(true);
    for (const f of [2, 3]) {
      expect(c.status(f).commitIndex).toBeLessThan(a.index);
      expect(emptyAppsTo(c, f)).toHaveLength(0);
    }

    // The next proposal's AppendEntries carries it: no message of its own.
    const b = ticket(c, 1, 'b');
    c.readyStep(1);
    for (const f of [2, 3]) {
      const apps = appsTo(c.node(1).pending!.rd.messages, 1, f);
      expect(apps).toHaveLength(1);
      expect(apps[0].entries.map(payloadOf)).toEqual(['b']);
      expect(apps[0].commit).toBe(a.index);
    }
    c.settle();
    for (const f of [2, 3]) expect(c.node(f).appliedPayloads).toEqual(['a']);

    // No proposal follows 'b': the runtime's timer flushes the held advance on its own.
    expect(c.raft(1).commitBroadcastPending).toBe(true);
    c.flushCommitBroadcast(1);
    expect(c.raft(1).commitBroadcastPending).toBe(false);
    c.settle();
    for (const id of c.ids) expect(c.node(id).appliedPayloads).toEqual(['a', 'b']);
    expect(c.status(2).commitIndex).toBe(b.index);
  });

  it('lets heartbeats carry a held advance when nothing flushes it', () => {
    const c = scriptedCluster(3, { lazyCommitBroadcast: true });
    elect(c, 1);
    ticket(c, 1, 'x');
    c.settle();
    expect(c.node(2).appliedPayloads).toEqual([]);
    tickAndSettle(c, 2); // heartbeatTicks
    for (const id of c.ids) expect(c.node(id).appliedPayloads).toEqual(['x']);
  });

  it("keeps a follower's pipeline moving while advances are held", () => {
    const c = scriptedCluster(3, {
      lazyCommitBroadcast: true,
      maxInflightMessages: 1,
      maxEntriesPerMessage: 1,
    });
    elect(c, 1);
    for (let i = 0; i < 5; i++) ticket(c, 1, `p${i}`);
    // Only acks flow, no ticks and no flush: each ack must release the next entry.
    c.settle();
    expect(c.node(2).log.lastIndex()).toBe(c.status(1).lastIndex);
    expect(c.status(1).commitIndex).toBe(c.status(1).lastIndex);
  });

  it('(contrast: without it, the advance goes out at once in an empty AppendEntries)', () => {
    const c = scriptedCluster(3);
    elect(c, 1);
    c.settle();
    const a = ticket(c, 1, 'a');
    c.settle();
    expect(c.raft(1).commitBroadcastPending).toBe(false);
    for (const f of [2, 3]) expect(c.status(f).commitIndex).toBe(a.index);
  });
});

describe('ReadIndex', () => {
  it('answers on the leader only after a heartbeat round confirms its leadership', () => {
    const c = scriptedCluster(5);
    elect(c, 1);
    ticket(c, 1, 'w');
    c.settle();
    const commit = c.status(1).commitIndex;
    const isRead = (m: Message) => bytesKey(m.context) === 'read-1';

    c.readIndex(1, 'read-1');
    c.processReady(1);
    expect(c.node(1).readStates).toEqual([]);
    expect(inFlight(c, (m) => m.type === MessageType.Heartbeat && isRead(m))).toHaveLength(4);

    const ackFrom = (id: NodeId) => {
      deliverWhere(c, (m) => m.type === MessageType.Heartbeat && m.to === id && isRead(m));
      c.processReady(id);
      deliverWhere(c, (m) => m.type === MessageType.HeartbeatResp && m.from === id && isRead(m));
      c.processReady(1);
    };
    ackFrom(2);
    expect(c.node(1).readStates, 'two of five is no quorum').toEqual([]);
    ackFrom(3);
    expect(c.node(1).readStates.map((r) => [r.index, bytesKey(r.context)])).toEqual([[commit, 'read-1']]);
  });

  it('serves a follower through the leader', () => {
    const c = scriptedCluster(3);
    elect(c, 1);
    ticket(c, 1, 'w');
    c.settle();
    c.readIndex(2, 'read-2');
    c.settle();
    expect(c.node(2).readStates.map((r) => [r.index, bytesKey(r.context)])).toEqual([
      [c.status(1).commitIndex, 'read-2'],
    ]);
  });
});

describe('leadership transfer', () => {
  it('makes the target leader without waiting for an election timeout', () => {
    const c = scriptedCluster(3);
    elect(c, 1);
    c.settle();
    const term = c.status(1).term;
    const now = c.now;
    c.transferLeadership(1, 3);
    expect('notLeader' in c.propose(1, 'during'), 'proposals are refused while transferring').toBe(true);
    c.settle(); // no tick
    expect(c.now).toBe(now);
    expectLeader(c, 3);
    expect(c.status(3).term).toBe(term + 1);
    ticket(c, 3, 'after');
    c.settle();
    for (const id of c.ids) expect(c.node(id).appliedPayloads).toEqual(['after']);
  });

  it('first brings a lagging target up to date', () => {
    const c = scriptedCluster(3);
    elect(c, 1);
    c.network.isolate(3, c.ids);
    const written = ['w0', 'w1', 'w2', 'w3', 'w4'].map((p) => ticket(c, 1, p));
    const last = written[written.length - 1].index;
    c.settle();
    expect(c.node(3).log.lastIndex()).toBeLessThan(last);
    c.network.heal();
    const now = c.now;
    c.transferLeadership(1, 3);
    c.settle();
    expect(c.now).toBe(now);
    expectLeader(c, 3);
    // It could only win (and must only lead) with every committed entry: catch-up came first.
    expect(c.node(3).log.lastIndex()).toBeGreaterThan(last);
    expect(payloadOf(c.node(3).log.entryAt(last))).toBe('w4');
    for (const id of c.ids) expect(c.node(id).appliedPayloads).toEqual(['w0', 'w1', 'w2', 'w3', 'w4']);
  });
});

describe('membership changes', () => {
  const remove3 = { type: ConfChangeType.RemoveNode, nodeId: 3, context: new Uint8Array(0) };

  function removeNode3(config = {}) {
    const c = scriptedCluster(3, config);
    elect(c, 1);
    c.settle();
    c.proposeConfChange(1, remove3);
    expect(() => c.proposeConfChange(1, remove3)).toThrow(ProposalRejectedError);
    c.settle();
    return c;
  }

  it('take effect when applied, one at a time', () => {
    const c = removeNode3();
    for (const id of c.ids) {
      expect(c.node(id).confChanges).toEqual([remove3]);
      expect(c.status(id).confState.voters).toEqual([1, 2]);
    }
    // Two voters now: S1 and S2 commit without S3.
    c.crash(3);
    ticket(c, 1, 'two-voters');
    c.settle();
    expect(c.node(2).appliedPayloads).toEqual(['two-voters']);
  });

  it('reach the removed node at once even with lazyCommitBroadcast (else it campaigns forever)', () => {
    // No tick, no flush: only the commit announcement the change itself triggers.
    const c = removeNode3({ lazyCommitBroadcast: true });
    expect(c.node(3).confChanges).toEqual([remove3]);
    expect(c.status(3).confState.voters).toEqual([1, 2]);
  });

  // A restarted core must replay the membership changes in its log up to `applied` (found by this
  // test: the core used to take persisted.confState as is and forget them).
  it('survive a restart (the log says more than the initial confState)', () => {
    const c = removeNode3();
    c.crash(1);
    c.restart(1);
    expect(c.status(1).confState.voters).toEqual([1, 2]);
  });
});
