// Measures save() latency and checks group commit: 100 saves issued in one event-loop turn must
// share one transaction (one fsync) and take far less time than 100 sequential durable saves.
// Prints the numbers; run: npx vitest run test/node/storage/save-latency.test.ts
import type { RootDatabase } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openNodeDatabase } from '../../../src/node/storage/open-database.js';
import { RaftLogStore } from '../../../src/node/storage/raft-log-store.js';
import { EntryType, type Entry } from '../../../src/raft/types.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

const SAVES = 100;
const ROUNDS = 10;
const data = new TextEncoder().encode(
  '{"code":"aZ3kP9q","longUrl":"https://example.com/some/long/path?x=1"}',
);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

describe('save() latency and group commit', () => {
  let dataDir: string;
  let root: RootDatabase;
  let store: RaftLogStore;
  let nextIndex = 1;

  const nextEntry = (): Entry => ({ term: 1, index: nextIndex++, type: EntryType.Normal, data });
  const lastTxnId = () => (root.getStats() as { lastTxnId: number }).lastTxnId;

  beforeEach(async () => {
    dataDir = await makeTempDir();
    root = openNodeDatabase(dataDir);
    store = new RaftLogStore(root);
    for (let i = 0; i < 20; i++) await store.save({ term: 1, vote: 1, commit: 0 }, [nextEntry()]); // warm-up
  });

  afterEach(async () => {
    await root.close();
    await removeTempDir(dataDir);
  });

  it('groups concurrent saves into one fsync', async () => {
    const sequential: number[] = [];
    const sequentialStart = performance.now();
    for (let i = 0; i < SAVES; i++) {
      const start = performance.now();
      await store.save({ term: 1, vote: 1, commit: nextIndex - 1 }, [nextEntry()]);
      sequential.push(performance.now() - start);
    }
    const sequentialTotal = performance.now() - sequentialStart;

    const concurrentTotals: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const txnBefore = lastTxnId();
      const start = performance.now();
      const saves: Promise<void>[] = [];
      for (let i = 0; i < SAVES; i++)
        saves.push(store.save({ term: 1, vote: 1, commit: nextIndex - 1 }, [nextEntry()]));
      await Promise.all(saves);
      concurrentTotals.push(performance.now() - start);
      expect(lastTxnId() - txnBefore).toBe(1);
    }

    const concurrentMedian = median(concurrentTotals);
    console.log(
      [
        `save() of 1 entry, sequential x${SAVES}: median ${median(sequential).toFixed(3)} ms, ` +
          `p99 ${percentile(sequential, 99).toFixed(3)} ms, total ${sequentialTotal.toFixed(1)} ms`,
        `${SAVES} concurrent 1-entry saves (one turn), x${ROUNDS} rounds: median wall ${concurrentMedian.toFixed(3)} ms, ` +
          `min ${Math.min(...concurrentTotals).toFixed(3)} ms, max ${Math.max(...concurrentTotals).toFixed(3)} ms`,
      ].join('\n'),
    );
    // Relative, so it holds on slow and fast disks alike: 100 fsyncs vs one. The best round is
    // compared because other test files run in parallel and add noise to any single round; the
    // exact transaction count above is the deterministic proof of group commit.
    expect(Math.min(...concurrentTotals)).toBeLessThan(sequentialTotal / 4);
    expect(store.load().entries).toHaveLength(nextIndex - 1);
  });
});
