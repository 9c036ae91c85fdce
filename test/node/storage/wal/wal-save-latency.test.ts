// Measures WalLogStore.save() latency for the common case — one ~150-byte entry plus the hard
// state, sequential, durable — and checks that each save appends exactly its own records.
// Prints the figures; run: npx vitest run test/node/storage/wal/wal-save-latency.test.ts
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WalLogStore } from '../../../../src/node/storage/index.js';
import { EntryType, type Entry } from '../../../../src/raft/types.js';
import { makeTempDir, removeTempDir } from '../temp-dir.js';
import { captureLogger } from './helpers.js';

const SAVES = 1000;
const data = new TextEncoder().encode(
  `{"code":"aZ3kP9q","longUrl":"https://example.com/some/long/path?x=1&utm_source=newsletter&utm_medium=email&id=${'7'.repeat(20)}"}`,
);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

describe('WalLogStore.save() latency', () => {
  let dataDir: string;
  let store: WalLogStore;
  let nextIndex = 1;
  const nextEntry = (): Entry => ({ term: 1, index: nextIndex++, type: EntryType.Normal, data });

  beforeEach(async () => {
    dataDir = await makeTempDir();
    store = await WalLogStore.open(join(dataDir, 'wal'), { logger: captureLogger().logger });
    for (let i = 0; i < 200; i++)
      await store.save({ term: 1, vote: 1, commit: nextIndex - 1 }, [nextEntry()]); // warm-up
  });

  afterEach(async () => {
    await store.close();
    await removeTempDir(dataDir);
  });

  it('appends one frame per record and reports p50/p99 of sequential 1-entry saves', async () => {
    const file = store.segmentFiles()[0];
    const sizeBefore = (await stat(file)).size;
    const latencies: number[] = [];
    for (let i = 0; i < SAVES; i++) {
      const start = performance.now();
      await store.save({ term: 1, vote: 1, commit: nextIndex - 1 }, [nextEntry()]);
      latencies.push(performance.now() - start);
    }
    const sizeAfter = (await stat(file)).size;
    latencies.sort((a, b) => a - b);
    const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
    console.log(
      `WAL save() of 1 entry (${data.length} B data) + hard state, sequential x${SAVES}: ` +
        `p50 ${percentile(latencies, 50).toFixed(3)} ms, p99 ${percentile(latencies, 99).toFixed(3)} ms, ` +
        `mean ${mean.toFixed(3)} ms, max ${latencies[latencies.length - 1].toFixed(3)} ms; ` +
        `${((sizeAfter - sizeBefore) / SAVES).toFixed(1)} bytes per save`,
    );

    // Per save: an entry record (8 header + 1 type + 2 varint index + entry-codec's 6 fixed +
    // 1 term + 2 index + data) and a hard-state record (8 + 1 type + 1 + 1 + 2 commit varints,
    // index and commit in [128, 16384) here). Nothing else is written: no padding, no per-write marker.
    const perSave = 8 + 1 + 2 + 6 + 1 + 2 + data.length + (8 + 1 + 1 + 1 + 2);
    expect(sizeAfter - sizeBefore).toBe(SAVES * perSave);
    expect(store.lastIndex()).toBe(nextIndex - 1);
  });
});
