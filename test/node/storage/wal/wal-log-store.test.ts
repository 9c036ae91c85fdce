import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WalLogStore, WalUnusableError } from '../../../../src/node/storage/index.js';
import { EntryType, type Entry } from '../../../../src/raft/types.js';
import { makeTempDir, removeTempDir } from '../temp-dir.js';
import { captureLogger, entry, range, snapshot, urlRange } from './helpers.js';

describe('WalLogStore', () => {
  let dir: string;
  let store: WalLogStore | undefined;
  const quiet = () => captureLogger().logger;

  beforeEach(async () => {
    dir = join(await makeTempDir(), 'wal');
  });

  afterEach(async () => {
    await store?.close().catch(() => {});
    store = undefined;
    await removeTempDir(join(dir, '..'));
  });

  async function openStore(segmentBytes?: number): Promise<WalLogStore> {
    store = await WalLogStore.open(dir, { segmentBytes, logger: quiet() });
    return store;
  }

  async function reopen(segmentBytes?: number): Promise<WalLogStore> {
    await store?.close();
    return openStore(segmentBytes);
  }

  async function saveOneByOne(target: WalLogStore, entries: Entry[]): Promise<void> {
    for (const e of entries) await target.save(undefined, [e]);
  }

  it('starts empty, with one segment file named by a 16-digit hex sequence number', async () => {
    const wal = await openStore();
    expect(wal.load()).toEqual({ hardState: { term: 0, vote: 0, commit: 0 }, entries: [] });
    expect(wal.firstIndex()).toBe(1);
    expect(wal.lastIndex()).toBe(0);
    expect(await readdir(dir)).toEqual(['0000000000000000.wal']);
  });

  it('keeps hard state and entries across close and reopen', async () => {
    let wal = await openStore();
    const written = [
      entry(1, 1),
      { index: 2, term: 1, type: EntryType.ConfChange, data: Uint8Array.of(1, 2, 3) },
      { index: 3, term: 2, type: EntryType.Normal, data: new Uint8Array(0) },
      entry(4, 2, 'x'.repeat(5000)),
    ];
    await wal.save({ term: 2, vote: 3, commit: 2 }, written);
    // Visible to load() before any reopen (the server loads right after bootstrapping).
    expect(wal.load()).toEqual({ hardState: { term: 2, vote: 3, commit: 2 }, entries: written });

    wal = await reopen();
    expect(wal.load()).toEqual({ hardState: { term: 2, vote: 3, commit: 2 }, entries: written });
    expect(wal.firstIndex()).toBe(1);
    expect(wal.lastIndex()).toBe(4);
  });

  it('lets the last hard state win and keeps it when later saves carry none', async () => {
    let wal = await openStore();
    await wal.save({ term: 1, vote: 1, commit: 0 }, range(1, 3, 1));
    await wal.save({ term: 2, vote: 0, commit: 3 }, []);
    await wal.save(undefined, range(4, 5, 2));
    wal = await reopen();
    const loaded = wal.load();
    expect(loaded.hardState).toEqual({ term: 2, vote: 0, commit: 3 });
    expect(loaded.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
  });

  it('replaces a conflicting suffix', async () => {
    let wal = await openStore();
    await wal.save({ term: 1, vote: 1, commit: 0 }, range(1, 10, 1));
    await wal.save({ term: 2, vote: 2, commit: 0 }, range(6, 8, 2));
    expect(wal.lastIndex()).toBe(8);
    wal = await reopen();
    expect(wal.load().entries).toEqual([...range(1, 5, 1), ...range(6, 8, 2)]);
    expect(wal.lastIndex()).toBe(8);
    // And the overwritten log keeps growing from its new end.
    await wal.save(undefined, range(9, 9, 2));
    wal = await reopen();
    expect(wal.load().entries).toEqual([...range(1, 5, 1), ...range(6, 9, 2)]);
  });

  it('replaces a suffix that starts in an older segment', async () => {
    let wal = await openStore(1024);
    await wal.save({ term: 1, vote: 1, commit: 0 }, []);
    const segmentOf = new Map<number, number>();
    for (const e of urlRange(1, 60, 1)) {
      await wal.save(undefined, [e]);
      segmentOf.set(e.index, wal.segmentFiles().length);
    }
    const segments = wal.segmentFiles().length;
    expect(segments).toBeGreaterThan(3);
    // Index 20 lives in an older segment than the one the overwrite is written to.
    expect(segmentOf.get(20)).toBeLessThan(segments);
    await wal.save({ term: 2, vote: 2, commit: 10 }, urlRange(20, 25, 2));
    expect(wal.lastIndex()).toBe(25);

    wal = await reopen(1024);
    const loaded = wal.load();
    expect(loaded.entries).toEqual([...urlRange(1, 19, 1), ...urlRange(20, 25, 2)]);
    expect(loaded.hardState).toEqual({ term: 2, vote: 2, commit: 10 });
  });

  it('rotates at segmentBytes and replays across many segments', async () => {
    let wal = await openStore(4096);
    await wal.save({ term: 3, vote: 2, commit: 0 }, []);
    const written = urlRange(1, 400, 3);
    await saveOneByOne(wal, written);
    const files = (await readdir(dir)).sort();
    expect(files.length).toBeGreaterThan(5);
    expect(files).toEqual(files.map((_, i) => `${i.toString(16).padStart(16, '0')}.wal`));
    expect(wal.segmentFiles().map((f) => basename(f))).toEqual(files);
    // Every full segment was closed just past the limit: at most one save's records beyond it.
    for (const name of files.slice(0, -1)) {
      const { size } = await stat(join(dir, name));
      expect(size).toBeGreaterThanOrEqual(4096);
      expect(size).toBeLessThan(4096 + 200);
    }

    wal = await reopen(4096);
    const loaded = wal.load();
    expect(loaded.entries).toEqual(written);
    expect(loaded.hardState).toEqual({ term: 3, vote: 2, commit: 0 });
    expect(wal.lastIndex()).toBe(400);
  });

  it('records a snapshot: entries up to it are dropped, across a reopen too', async () => {
    let wal = await openStore();
    await wal.save({ term: 1, vote: 1, commit: 20 }, range(1, 20, 1));
    await wal.compact(10, snapshot(10, 1));
    expect(wal.firstIndex()).toBe(11);
    expect(wal.lastIndex()).toBe(20);
    expect(wal.load()).toEqual({
      hardState: { term: 1, vote: 1, commit: 20 },
      entries: range(11, 20, 1),
      snapshot: snapshot(10, 1),
    });

    wal = await reopen();
    expect(wal.load()).toEqual({
      hardState: { term: 1, vote: 1, commit: 20 },
      entries: range(11, 20, 1),
      snapshot: snapshot(10, 1),
    });
    expect(wal.firstIndex()).toBe(11);
    // Entries at or below the snapshot can no longer be written.
    await expect(wal.save(undefined, [entry(10, 1)])).rejects.toThrow(RangeError);
    await wal.save(undefined, range(21, 22, 1));
    expect(wal.lastIndex()).toBe(22);
  });

  it('a snapshot that disagrees with the log at its index replaces the whole log (Raft §7)', async () => {
    let wal = await openStore();
    await wal.save({ term: 1, vote: 1, commit: 5 }, range(1, 20, 1));
    await wal.compact(15, snapshot(15, 4)); // entry 15 has term 1: a different history
    expect(wal.firstIndex()).toBe(16);
    expect(wal.lastIndex()).toBe(15);
    wal = await reopen();
    expect(wal.load().entries).toEqual([]);
    expect(wal.load().snapshot).toEqual(snapshot(15, 4));
    expect(wal.lastIndex()).toBe(15);
    await wal.save({ term: 4, vote: 0, commit: 16 }, range(16, 17, 4));
    wal = await reopen();
    expect(wal.load().entries).toEqual(range(16, 17, 4));
  });

  it('a snapshot beyond the last entry empties the log; the log then continues after it', async () => {
    let wal = await openStore();
    await wal.save(undefined, range(1, 5, 1));
    await wal.compact(50, snapshot(50, 2));
    expect([wal.firstIndex(), wal.lastIndex()]).toEqual([51, 50]);
    await expect(wal.save(undefined, [entry(53, 2)])).rejects.toThrow(/gap/);
    await wal.save(undefined, [entry(51, 2)]);
    wal = await reopen();
    expect(wal.load().entries).toEqual([entry(51, 2)]);
  });

  it('compaction deletes the old segments and keeps hard state, snapshot and every later entry', async () => {
    let wal = await openStore(4096);
    // The only hard-state save is at the very start: it lives in segment 0 until rotation
    // copies it into each new segment's first records.
    await wal.save({ term: 7, vote: 3, commit: 0 }, []);
    await saveOneByOne(wal, urlRange(1, 600, 7));
    const before = wal.segmentFiles();
    expect(before.length).toBeGreaterThan(10);

    await wal.compact(300, snapshot(300, 7));
    const after = wal.segmentFiles();
    expect(after.length).toBeLessThan(before.length);
    // The oldest segments went, the rest are untouched and still on disk.
    expect(after).toEqual(before.slice(before.length - after.length));
    expect((await readdir(dir)).sort()).toEqual(after.map((f) => basename(f)));

    wal = await reopen(4096);
    const loaded = wal.load();
    expect(loaded.hardState).toEqual({ term: 7, vote: 3, commit: 0 });
    expect(loaded.snapshot).toEqual(snapshot(300, 7));
    expect(loaded.entries).toEqual(urlRange(301, 600, 7));
    expect(wal.firstIndex()).toBe(301);

    // Compacting through everything keeps the active segment only; state survives again.
    await wal.compact(600, snapshot(600, 7));
    expect(wal.segmentFiles()).toEqual([after[after.length - 1]]);
    wal = await reopen(4096);
    expect(wal.load()).toEqual({
      hardState: { term: 7, vote: 3, commit: 0 },
      entries: [],
      snapshot: snapshot(600, 7),
    });
    expect([wal.firstIndex(), wal.lastIndex()]).toEqual([601, 600]);
  });

  it('compaction keeps a segment holding any entry above throughIndex', async () => {
    let wal = await openStore(4096);
    await saveOneByOne(wal, urlRange(1, 300, 1));
    const before = wal.segmentFiles();
    // throughIndex lags the snapshot: a tail is kept, but the snapshot still hides it from load().
    await wal.compact(100, snapshot(200, 1));
    const kept = wal.segmentFiles();
    expect(kept.length).toBeLessThan(before.length);
    const deleted = before.length - kept.length;
    wal = await reopen(4096);
    expect(wal.load().entries).toEqual(urlRange(201, 300, 1));
    // Compacting through 200 now removes more.
    await wal.compact(200, snapshot(200, 1));
    expect(before.length - wal.segmentFiles().length).toBeGreaterThan(deleted);
    wal = await reopen(4096);
    expect(wal.load().entries).toEqual(urlRange(201, 300, 1));
  });

  it('refuses bad saves without writing anything, and stays usable', async () => {
    const wal = await openStore();
    await wal.save({ term: 2, vote: 1, commit: 0 }, range(1, 3, 2));
    await expect(wal.save(undefined, [entry(4, 2), entry(6, 2)])).rejects.toThrow(/consecutive/);
    await expect(wal.save(undefined, [entry(5, 2)])).rejects.toThrow(/gap/);
    await expect(wal.save(undefined, [entry(4, 1)])).rejects.toThrow(/term/);
    await expect(wal.save({ term: -1, vote: 0, commit: 0 }, [])).rejects.toThrow(RangeError);
    await expect(wal.compact(5, snapshot(3, 2))).rejects.toThrow(RangeError);
    await wal.save(undefined, [entry(4, 2)]);
    await wal.compact(2, snapshot(2, 2));
    await expect(wal.compact(1, snapshot(1, 2))).rejects.toThrow(/older/);
    const reopened = await reopen();
    expect(reopened.load().entries).toEqual([entry(3, 2), entry(4, 2)]);
  });

  it('serializes saves issued in the same turn', async () => {
    let wal = await openStore(2048);
    const saves: Promise<void>[] = [];
    for (let i = 0; i < 50; i++)
      saves.push(wal.save({ term: 1, vote: 1, commit: i * 3 }, range(i * 3 + 1, i * 3 + 3, 1)));
    await Promise.all(saves);
    expect(wal.lastIndex()).toBe(150);
    wal = await reopen(2048);
    expect(wal.load()).toEqual({ hardState: { term: 1, vote: 1, commit: 147 }, entries: range(1, 150, 1) });
  });

  it("copies what it is given: mutating the caller's entries after save() changes nothing", async () => {
    let wal = await openStore();
    const e = entry(1, 1, 'original');
    const hs = { term: 1, vote: 1, commit: 0 };
    const saved = wal.save(hs, [e]);
    e.data.fill(0);
    hs.term = 99;
    await saved;
    wal = await reopen();
    expect(wal.load()).toEqual({
      hardState: { term: 1, vote: 1, commit: 0 },
      entries: [entry(1, 1, 'original')],
    });
  });

  it('refuses calls after close', async () => {
    const wal = await openStore();
    await wal.close();
    await expect(wal.save(undefined, [entry(1, 1)])).rejects.toBeInstanceOf(WalUnusableError);
    await wal.close(); // idempotent
    store = undefined;
  });
});
