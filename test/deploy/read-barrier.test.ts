// A redirect miss on a follower waits for one ReadIndex round that started after it; a stream of
// misses shares rounds instead of costing one each.
import { describe, expect, it } from 'vitest';
import { ReadBarrier } from '../../src/service/read-barrier.js';

/** A readIndex whose rounds the test settles by hand. */
function manualRounds() {
  const rounds: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  const readIndex = () =>
    new Promise<number>((resolve, reject) => rounds.push({ resolve: () => resolve(1), reject }));
  return { rounds, readIndex };
}

describe('ReadBarrier', () => {
  it('callers during a round in flight share the next round, not that one', async () => {
    const { rounds, readIndex } = manualRounds();
    const barrier = new ReadBarrier(readIndex, 1_000);
    const first = barrier.wait();
    const second = barrier.wait();
    const third = barrier.wait();
    expect(rounds).toHaveLength(1);
    let secondDone = false;
    void second.then(() => (secondDone = true));
    rounds[0]!.resolve();
    expect(await first).toBe(true);
    // The second round starts only once the first is over.
    await new Promise((r) => setImmediate(r));
    expect(secondDone).toBe(false);
    expect(rounds).toHaveLength(2);
    rounds[1]!.resolve();
    expect(await second).toBe(true);
    expect(await third).toBe(true);
    expect(rounds).toHaveLength(2);
  });

  it('false when the round fails, or readIndex throws at once (no leader)', async () => {
    const { rounds, readIndex } = manualRounds();
    const failing = new ReadBarrier(readIndex, 1_000);
    const waiting = failing.wait();
    rounds[0]!.reject(new Error('timeout'));
    expect(await waiting).toBe(false);
    const throwing = new ReadBarrier(() => {
      throw new Error('no leader');
    }, 1_000);
    expect(await throwing.wait()).toBe(false);
    expect(await throwing.wait()).toBe(false);
  });

  it('passes its timeout to readIndex', async () => {
    const seen: number[] = [];
    const barrier = new ReadBarrier(async (t) => void seen.push(t), 750);
    expect(await barrier.wait()).toBe(true);
    expect(seen).toEqual([750]);
  });
});
