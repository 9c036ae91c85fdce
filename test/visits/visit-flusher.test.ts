// The flusher's delivery rules: one batch (one command) per round of counts, the same batch id and
// contents on every retry, a new seq only once the previous batch is delivered or given up on.
import { describe, expect, it } from 'vitest';
import type { VisitsCommand } from '../../src/shortener/commands.js';
import { VisitBatchError } from '../../src/visits/forward-batch.js';
import { VisitCounter } from '../../src/visits/visit-counter.js';
import { VisitFlusher } from '../../src/visits/visit-flusher.js';

function setup(deliver: (batch: VisitsCommand) => Promise<void>, maxAttempts?: number) {
  const counter = new VisitCounter();
  const delivered: VisitsCommand[] = [];
  const errors: Array<{ dropped: boolean; attempts: number }> = [];
  const flusher = new VisitFlusher({
    counter,
    origin: 4,
    session: 99,
    maxAttempts,
    deliver: async (batch) => {
      await deliver(batch);
      delivered.push(structuredClone(batch));
    },
    onError: (_err, info) => errors.push({ dropped: info.dropped, attempts: info.attempts }),
  });
  return { counter, flusher, delivered, errors };
}

describe('VisitFlusher', () => {
  it('sends everything counted since the last round as one batch, and nothing when idle', async () => {
    const { counter, flusher, delivered } = setup(async () => {});
    await flusher.flush();
    expect(delivered).toEqual([]);
    for (let i = 0; i < 50; i++) counter.record('a', 1);
    counter.record('b', 2);
    await flusher.flush();
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ type: 'visits', origin: 4, session: 99, seq: 1 });
    expect(delivered[0]!.visits.map((v) => [v.code, v.count])).toEqual([
      ['a', 50],
      ['b', 1],
    ]);
    counter.record('a', 1);
    await flusher.flush();
    expect(delivered.map((b) => b.seq)).toEqual([1, 2]);
  });

  it('retries a failed batch with the same id and contents; new counts wait for the next batch', async () => {
    let fail = 2;
    const attempts: VisitsCommand[] = [];
    const { counter, flusher, delivered, errors } = setup(async (batch) => {
      attempts.push(structuredClone(batch));
      if (fail-- > 0) throw new VisitBatchError('leader unreachable', true);
    });
    counter.record('a', 1);
    await flusher.flush();
    counter.record('b', 1);
    await flusher.flush();
    expect(delivered).toEqual([]);
    await flusher.flush(); // the third attempt of seq 1 succeeds, then seq 2 carries "b"
    expect(attempts.map((b) => b.seq)).toEqual([1, 1, 1, 2]);
    expect(attempts[0]).toEqual(attempts[2]);
    expect(delivered.map((b) => [b.seq, b.visits.map((v) => v.code)])).toEqual([
      [1, ['a']],
      [2, ['b']],
    ]);
    expect(errors).toEqual([
      { dropped: false, attempts: 1 },
      { dropped: false, attempts: 2 },
    ]);
  });

  it('gives a batch up after maxAttempts, or at once on a permanent refusal, and moves on to a new seq', async () => {
    let permanent = false;
    const { counter, flusher, delivered, errors } = setup(async () => {
      throw new VisitBatchError('refused', !permanent);
    }, 2);
    counter.record('a', 1);
    await flusher.flush();
    await flusher.flush();
    expect(errors.map((e) => e.dropped)).toEqual([false, true]);
    permanent = true;
    counter.record('b', 1);
    await flusher.flush();
    expect(errors.map((e) => e.dropped)).toEqual([false, true, true]);
    expect(delivered).toEqual([]);
  });

  it('runs one round at a time: a flush during a slow delivery waits for it instead of sending again', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const { counter, flusher } = setup(async () => {
      calls++;
      await gate;
    });
    counter.record('a', 1);
    const first = flusher.flush();
    const second = flusher.flush();
    expect(second).toBe(first);
    release();
    await first;
    expect(calls).toBe(1);
  });
});

describe('VisitFlusher.unapplied (the visit limit)', () => {
  it('counts visits until the local store applied their batch: waiting, in flight, delivered elsewhere', async () => {
    const counter = new VisitCounter();
    let appliedSeq = 0;
    // Each delivery waits until the test releases it; `called` resolves when the next one starts.
    const releases: Array<() => void> = [];
    let called: () => void = () => {};
    const nextDelivery = () => new Promise<void>((resolve) => (called = resolve));
    const flusher = new VisitFlusher({
      counter,
      origin: 4,
      session: 99,
      appliedSeq: (session) => (session === 99 ? appliedSeq : 0),
      deliver: () =>
        new Promise<void>((resolve) => {
          releases.push(resolve);
          called();
        }),
    });
    for (let i = 0; i < 3; i++) counter.record('a', 7);
    expect(flusher.unapplied('a', 7)).toBe(3); // still in the counter
    const first = nextDelivery();
    const round = flusher.flush();
    await first;
    counter.record('a', 7);
    expect(flusher.unapplied('a', 7)).toBe(4); // 3 in the batch being delivered, 1 waiting
    const second = nextDelivery();
    releases[0]!(); // batch 1 applied on the leader; the round goes on with batch 2
    await second;
    expect(flusher.unapplied('a', 7)).toBe(4); // batch 1 not applied here yet, batch 2 in flight
    releases[1]!();
    await round;
    expect(flusher.unapplied('a', 7)).toBe(4);
    appliedSeq = 1;
    expect(flusher.unapplied('a', 7)).toBe(1); // the store's total holds batch 1 now
    appliedSeq = 2;
    expect(flusher.unapplied('a', 7)).toBe(0);
    expect(flusher.unapplied('b', 7)).toBe(0);
  });
});
