// The durable half of the Raft log: hard state, entries and the latest snapshot's metadata, in
// two sub-databases of the node's LMDB environment.
import type { Database, RootDatabase } from 'lmdb';
import type { Entry, HardState, SnapshotMeta } from '../../raft/types.js';
import { decodeEntry, encodeEntry } from './entry-codec.js';
import { verifyContinuity } from './log-continuity.js';
import { decodeHardState, decodeSnapshotMeta } from './meta-records.js';

const HARD_STATE_KEY = 'hardState';
const SNAPSHOT_KEY = 'snapshot';

const EMPTY_HARD_STATE: HardState = { term: 0, vote: 0, commit: 0 };

export interface LoadedRaftState {
  hardState: HardState;
  /** Every stored entry after the snapshot (all of them if there is none), in index order. */
  entries: Entry[];
  snapshot?: SnapshotMeta;
}

export class RaftLogStore {
  /**
   * Key: the entry index as a plain JS number in lmdb's default ordered-binary key encoding,
   * which orders numbers numerically and is exact for every safe integer (< 2^53) — the same
   * bound as the `number` the core uses for indexes. `keyEncoding: 'uint32'` would wrap at 2^32.
   * Value: the checksummed record from entry-codec, stored as raw bytes.
   */
  private readonly log: Database<Buffer, number>;
  /** Hard state and snapshot metadata: a couple of small msgpack objects. */
  private readonly meta: Database<unknown, string>;

  constructor(root: RootDatabase) {
    this.log = root.openDB<Buffer, number>({ name: 'raft-log', encoding: 'binary' });
    this.meta = root.openDB<unknown, string>({ name: 'raft-meta', encoding: 'msgpack' });
  }

  /**
   * Reads everything a restarting node needs. Verifies every record's checksum and the log's
   * continuity; throws CorruptEntryError or NonContiguousLogError naming the first bad index.
   */
  load(): LoadedRaftState {
    const hardState = decodeHardState(this.meta.get(HARD_STATE_KEY)) ?? { ...EMPTY_HARD_STATE };
    const snapshot = decodeSnapshotMeta(this.meta.get(SNAPSHOT_KEY));
    const stored = this.readRange(undefined, undefined);
    verifyContinuity(stored, snapshot);
    const entries = snapshot ? stored.filter((entry) => entry.index > snapshot.index) : stored;
    return snapshot ? { hardState, entries, snapshot } : { hardState, entries };
  }

  /**
   * Persists `hardState` (if given) and `entries` in one transaction, replacing every stored
   * entry at index >= entries[0].index (a conflicting suffix the leader has overwritten).
   * Resolves once the transaction is on disk (see open-database.ts). Calls made in the same
   * event-loop turn share one transaction and one fsync.
   */
  async save(hardState: HardState | undefined, entries: readonly Entry[]): Promise<void> {
    // Validate and encode now, outside the transaction: the caller may reuse its arrays, and a
    // throw inside an lmdb-js batched transaction callback would leave its partial writes in
    // the batch (shared with other callers) instead of rolling them back.
    const hardStateRecord = hardState && copyHardState(hardState);
    assertConsecutive(entries);
    const records = entries.map((entry) => ({ index: entry.index, record: encodeEntry(entry) }));
    // Nothing is awaited before this call, so it runs synchronously inside the caller's
    // event-loop turn: the transaction joins that turn's batch (group commit).
    await this.log.transaction(() => {
      if (hardStateRecord) this.meta.putSync(HARD_STATE_KEY, hardStateRecord);
      if (records.length === 0) return;
      this.removeKeys({ start: records[0].index });
      for (const { index, record } of records) this.log.putSync(index, record);
    });
  }

  /**
   * Records `snapshot` and deletes the entries at index <= throughIndex, in one durable
   * transaction. throughIndex may lag snapshot.index to keep a tail for slow followers.
   */
  async compact(throughIndex: number, snapshot: SnapshotMeta): Promise<void> {
    if (!Number.isSafeInteger(throughIndex) || throughIndex > snapshot.index) {
      throw new RangeError(
        `cannot compact through ${throughIndex}: the snapshot only covers up to ${snapshot.index}`,
      );
    }
    const snapshotRecord: SnapshotMeta = {
      index: snapshot.index,
      term: snapshot.term,
      confState: {
        voters: [...snapshot.confState.voters],
        learners: [...snapshot.confState.learners],
      },
    };
    await this.log.transaction(() => {
      this.meta.putSync(SNAPSHOT_KEY, snapshotRecord);
      this.removeKeys({ end: throughIndex, inclusiveEnd: true });
    });
  }

  /**
   * Index of the first entry still stored; with an empty log, the one after the snapshot
   * (etcd's convention: firstIndex() === lastIndex() + 1 means "no entries").
   */
  firstIndex(): number {
    for (const index of this.log.getKeys({ limit: 1 })) return index;
    return this.snapshotIndex() + 1;
  }

  /** Index of the last stored entry; with an empty log, the snapshot's index (0 if none). */
  lastIndex(): number {
    for (const index of this.log.getKeys({ reverse: true, limit: 1 })) return index;
    return this.snapshotIndex();
  }

  /**
   * The stored entries with lo <= index < hiExclusive, checksums verified. Throws RangeError if
   * part of the range is compacted away or beyond the last index, so a caller never mistakes a
   * short answer for the whole range (a leader must send a snapshot instead).
   */
  entries(lo: number, hiExclusive: number): Entry[] {
    if (hiExclusive <= lo) return [];
    const first = this.firstIndex();
    const last = this.lastIndex();
    if (lo < first || hiExclusive > last + 1) {
      throw new RangeError(`entries [${lo}, ${hiExclusive}) unavailable: log holds [${first}, ${last}]`);
    }
    return this.readRange(lo, hiExclusive);
  }

  private readRange(lo: number | undefined, hiExclusive: number | undefined): Entry[] {
    const entries: Entry[] = [];
    // `snapshot: true` reads the whole range from one read transaction, so a concurrent commit
    // cannot show us half of an overwrite.
    for (const { key, value } of this.log.getRange({ start: lo, end: hiExclusive, snapshot: true })) {
      entries.push(decodeEntry(key, value));
    }
    return entries;
  }

  /** Must run inside a write transaction. Keys are collected first: no deleting under a cursor. */
  private removeKeys(range: { start?: number; end?: number; inclusiveEnd?: boolean }): void {
    const keys = [...this.log.getKeys(range)];
    for (const key of keys) this.log.removeSync(key);
  }

  private snapshotIndex(): number {
    return decodeSnapshotMeta(this.meta.get(SNAPSHOT_KEY))?.index ?? 0;
  }
}

function copyHardState(hardState: HardState): HardState {
  for (const field of ['term', 'vote', 'commit'] as const) {
    const value = hardState[field];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`hardState.${field} must be a non-negative safe integer, got ${value}`);
    }
  }
  return { term: hardState.term, vote: hardState.vote, commit: hardState.commit };
}

function assertConsecutive(entries: readonly Entry[]): void {
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].index !== entries[i - 1].index + 1) {
      throw new RangeError(
        `entries to save must be consecutive: ${entries[i - 1].index} then ${entries[i].index}`,
      );
    }
  }
}
