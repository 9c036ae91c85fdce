import type { RootDatabase } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptEntryError, NonContiguousLogError } from '../../../src/node/storage/errors.js';
import { openNodeDatabase } from '../../../src/node/storage/open-database.js';
import { RaftLogStore } from '../../../src/node/storage/raft-log-store.js';
import { EntryType, type Entry, type SnapshotMeta } from '../../../src/raft/types.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

function entry(index: number, term: number, text = `cmd-${index}-${term}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(text) };
}

function range(lo: number, hiInclusive: number, term: number): Entry[] {
  const entries: Entry[] = [];
  for (let index = lo; index <= hiInclusive; index++) entries.push(entry(index, term));
  return entries;
}

const snapshot = (index: number, term: number): SnapshotMeta => ({
  index,
  term,
  confState: { voters: [1, 2, 3], learners: [4] },
});

describe('RaftLogStore', () => {
  let dataDir: string;
  let root: RootDatabase | undefined;

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    await root?.close();
    root = undefined;
    await removeTempDir(dataDir);
  });

  function openStore(): RaftLogStore {
    root = openNodeDatabase(dataDir);
    return new RaftLogStore(root);
  }

  async function reopenStore(): Promise<RaftLogStore> {
    await root?.close();
    return openStore();
  }

  it('starts empty', () => {
    const store = openStore();
    expect(store.load()).toEqual({ hardState: { term: 0, vote: 0, commit: 0 }, entries: [] });
    expect(store.firstIndex()).toBe(1);
    expect(store.lastIndex()).toBe(0);
  });

  it('keeps hard state and entries across closing and reopening the environment', async () => {
    const store = openStore();
    const written = [
      entry(1, 1),
      { index: 2, term: 1, type: EntryType.ConfChange, data: Uint8Array.of(1, 2, 3) },
      entry(3, 2, ''),
    ];
    await store.save({ term: 2, vote: 3, commit: 2 }, written);

    const reopened = await reopenStore();
    expect(reopened.load()).toEqual({ hardState: { term: 2, vote: 3, commit: 2 }, entries: written });
    expect(reopened.firstIndex()).toBe(1);
    expect(reopened.lastIndex()).toBe(3);
  });

  it('updates hard state alone without touching entries, and entries alone without touching hard state', async () => {
    const store = openStore();
    await store.save({ term: 1, vote: 1, commit: 0 }, range(1, 3, 1));
    await store.save({ term: 2, vote: 0, commit: 3 }, []);
    await store.save(undefined, range(4, 5, 2));
    const loaded = (await reopenStore()).load();
    expect(loaded.hardState).toEqual({ term: 2, vote: 0, commit: 3 });
    expect(loaded.entries.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 2],
      [5, 2],
    ]);
  });

  it('overwrites a conflicting suffix: stored entries beyond the new ones are gone', async () => {
    const store = openStore();
    await store.save({ term: 1, vote: 1, commit: 2 }, range(1, 10, 1));
    // A new leader at term 3 replaces everything from index 5 with a shorter log.
    await store.save({ term: 3, vote: 2, commit: 2 }, range(5, 6, 3));

    expect(store.lastIndex()).toBe(6);
    const loaded = (await reopenStore()).load();
    expect(loaded.entries.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
      [5, 3],
      [6, 3],
    ]);
    expect(loaded.entries[4]).toEqual(entry(5, 3));
  });

  it('applies saves issued in one turn in call order, in a single transaction', async () => {
    const store = openStore();
    await store.save(undefined, range(1, 2, 1));
    const txnBefore = root!.getStats() as { lastTxnId: number };
    // The second save truncates what the first one wrote in the same batch.
    await Promise.all([
      store.save({ term: 1, vote: 1, commit: 0 }, range(3, 8, 1)),
      store.save({ term: 2, vote: 2, commit: 0 }, range(5, 6, 2)),
      store.save(undefined, range(7, 7, 2)),
    ]);
    const txnAfter = root!.getStats() as { lastTxnId: number };
    expect(txnAfter.lastTxnId - txnBefore.lastTxnId).toBe(1);
    expect(store.load().entries.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
      [5, 2],
      [6, 2],
      [7, 2],
    ]);
    expect(store.load().hardState).toEqual({ term: 2, vote: 2, commit: 0 });
  });

  it('serves ranges with entries(lo, hiExclusive) and refuses ranges it does not hold', async () => {
    const store = openStore();
    await store.save(undefined, range(1, 10, 1));
    expect(store.entries(3, 6).map((e) => e.index)).toEqual([3, 4, 5]);
    expect(store.entries(10, 11)).toEqual([entry(10, 1)]);
    expect(store.entries(4, 4)).toEqual([]);
    expect(() => store.entries(9, 12)).toThrow(RangeError);
    expect(() => store.entries(0, 2)).toThrow(RangeError);
  });

  it('orders indexes numerically beyond 2^32', async () => {
    const store = openStore();
    const base = 2 ** 32 - 2;
    // A log that starts here needs a snapshot just before it.
    await store.compact(base - 1, snapshot(base - 1, 1));
    await store.save(undefined, range(base, base + 4, 1));
    const reopened = await reopenStore();
    expect(reopened.load().entries.map((e) => e.index)).toEqual([
      base,
      base + 1,
      base + 2,
      base + 3,
      base + 4,
    ]);
    expect(reopened.lastIndex()).toBe(base + 4);
    expect(reopened.entries(base + 1, base + 3).map((e) => e.index)).toEqual([base + 1, base + 2]);
  });

  it('compacts: records the snapshot and deletes entries up to the given index', async () => {
    const store = openStore();
    await store.save({ term: 2, vote: 1, commit: 10 }, range(1, 12, 2));
    await store.compact(8, snapshot(8, 2));

    const reopened = await reopenStore();
    expect(reopened.firstIndex()).toBe(9);
    expect(reopened.lastIndex()).toBe(12);
    const loaded = reopened.load();
    expect(loaded.snapshot).toEqual(snapshot(8, 2));
    expect(loaded.entries.map((e) => e.index)).toEqual([9, 10, 11, 12]);
    expect(() => reopened.entries(8, 10)).toThrow(RangeError);
  });

  it('can keep a tail below the snapshot for slow followers; load() returns only what follows it', async () => {
    const store = openStore();
    await store.save(undefined, range(1, 12, 2));
    await store.compact(5, snapshot(10, 2));
    expect(store.firstIndex()).toBe(6);
    expect(store.entries(6, 9).map((e) => e.index)).toEqual([6, 7, 8]);
    expect(store.load().entries.map((e) => e.index)).toEqual([11, 12]);
  });

  it('compacting the whole log leaves firstIndex = lastIndex + 1 after the snapshot', async () => {
    const store = openStore();
    await store.save(undefined, range(1, 5, 1));
    await store.compact(5, snapshot(5, 1));
    const reopened = await reopenStore();
    expect(reopened.firstIndex()).toBe(6);
    expect(reopened.lastIndex()).toBe(5);
    expect(reopened.load().entries).toEqual([]);
    await reopened.save(undefined, range(6, 7, 2));
    expect(reopened.load().entries.map((e) => e.index)).toEqual([6, 7]);
  });

  it('refuses to compact past the snapshot', async () => {
    const store = openStore();
    await store.save(undefined, range(1, 5, 1));
    await expect(store.compact(5, snapshot(4, 1))).rejects.toThrow(RangeError);
    expect(store.firstIndex()).toBe(1);
  });

  it('rejects a non-consecutive batch without writing any of it', async () => {
    const store = openStore();
    await expect(store.save({ term: 9, vote: 9, commit: 9 }, [entry(1, 1), entry(3, 1)])).rejects.toThrow(
      RangeError,
    );
    expect(store.load()).toEqual({ hardState: { term: 0, vote: 0, commit: 0 }, entries: [] });
  });

  it('detects a flipped byte in a stored record and names its index', async () => {
    const store = openStore();
    await store.save(undefined, range(1, 6, 1));
    // Tamper with the raw bytes through lmdb directly, as bit rot or a stray writer would.
    const raw = root!.openDB<Buffer, number>({ name: 'raft-log', encoding: 'binary' });
    const record = Buffer.from(raw.getBinary(5)!);
    record[record.length - 1] ^= 0x20;
    await raw.put(5, record);

    const reopened = await reopenStore();
    let caught: unknown;
    try {
      reopened.load();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CorruptEntryError);
    expect((caught as CorruptEntryError).index).toBe(5);
    expect((caught as CorruptEntryError).defect).toBe('checksum');
    expect(() => reopened.entries(5, 6)).toThrow(CorruptEntryError);
    expect(reopened.entries(1, 5).map((e) => e.index)).toEqual([1, 2, 3, 4]);
  });

  it('detects a hole in the stored log and names the missing index', async () => {
    const store = openStore();
    await store.save(undefined, range(1, 6, 1));
    const raw = root!.openDB<Buffer, number>({ name: 'raft-log', encoding: 'binary' });
    await raw.remove(4);

    const error = (() => {
      try {
        store.load();
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(NonContiguousLogError);
    expect((error as NonContiguousLogError).index).toBe(4);
    expect((error as NonContiguousLogError).defect).toBe('gap');
  });
});
