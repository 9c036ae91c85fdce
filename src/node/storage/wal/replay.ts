// Rebuilds the log from its segments, oldest first:
//  - an entry record with index i replaces every entry >= i (the conflicting-suffix overwrite);
//  - the last hard-state record wins;
//  - a snapshot record applies Raft's snapshot rule (LogIndex.applySnapshot): entries up to its
//    index go (all of them if the log disagrees with the snapshot at its index).
// Then the result is checked with verifyContinuity, like the LMDB store's load().
import type { Entry, HardState, SnapshotMeta } from '../../../raft/types.js';
import { verifyContinuity } from '../log-continuity.js';
import { LogIndex } from './log-index.js';
import {
  RECORD_HEADER_BYTES,
  RecordType,
  checkFraming,
  parseSegment,
  type SegmentDefect,
} from './record-format.js';
import { WalCorruptionError } from './wal-errors.js';

export interface ReplayedLog {
  hardState: HardState;
  /** The entries after the snapshot, in index order. */
  entries: Entry[];
  snapshot?: SnapshotMeta;
  index: LogIndex;
  /** Per segment (same order): the highest entry index written into it, 0 if none. */
  maxEntryIndex: number[];
  /** Per segment: bytes of whole valid records (the write position for the last one). */
  validBytes: number[];
  /** Per segment: whether it holds a hard-state record, and a snapshot record. */
  holdsHardState: boolean[];
  holdsSnapshot: boolean[];
  /** Set if the last segment ends in an unfinished write: cut it at tail.offset. */
  tail?: SegmentDefect & { file: string; cutBytes: number };
}

/**
 * Feeds segments one at a time (oldest first), so that only one segment's bytes are in memory at
 * once: decoded entries are copies, not views into the segment buffer.
 */
export class Replay {
  private readonly index = new LogIndex();
  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private entries: Entry[] = [];
  private readonly maxEntryIndex: number[] = [];
  private readonly validBytes: number[] = [];
  private readonly holdsHardState: boolean[] = [];
  private readonly holdsSnapshot: boolean[] = [];
  private tail: ReplayedLog['tail'];

  add(file: string, bytes: Buffer, isLast: boolean): void {
    if (this.tail) throw new Error('replay: a segment after the last one');
    if (!isLast && bytes.length === 0) {
      // Every segment starts with its state records; only the newest can be empty (a crash right
      // after creating it).
      throw new WalCorruptionError(file, 0, 'truncated', 'empty segment that is not the last one');
    }
    const parsed = parseSegment(file, bytes);
    if (parsed.defect) {
      if (!isLast) {
        const { offset, defect, detail } = parsed.defect;
        throw new WalCorruptionError(
          file,
          offset,
          defect,
          `${detail} (in a segment that is not the last one)`,
        );
      }
      assertNothingValidFollows(file, bytes, parsed.defect);
      this.tail = { ...parsed.defect, file, cutBytes: bytes.length - parsed.validBytes };
    }
    const index = this.index;
    let max = 0;
    let sawHardState = false;
    let sawSnapshot = false;
    for (const { offset, record } of parsed.records) {
      if (record.type === RecordType.HardState) {
        this.hardState = record.hardState;
        sawHardState = true;
      } else if (record.type === RecordType.Snapshot) {
        index.applySnapshot(record.snapshot);
        this.entries = this.entries.filter(
          (entry) => entry.index >= index.first && entry.index <= index.last,
        );
        sawSnapshot = true;
      } else {
        const entry = record.entry;
        if (entry.index <= index.snapshotIndex) {
          throw new WalCorruptionError(
            file,
            offset,
            'malformed',
            `entry at or below the snapshot index ${index.snapshotIndex} written after the snapshot`,
            entry.index,
          );
        }
        index.append(entry.index, entry.term);
        const entries = this.entries;
        while (entries.length > 0 && entries[entries.length - 1].index >= entry.index) entries.pop();
        entries.push(entry);
        max = Math.max(max, entry.index);
      }
    }
    this.maxEntryIndex.push(max);
    this.validBytes.push(parsed.validBytes);
    this.holdsHardState.push(sawHardState);
    this.holdsSnapshot.push(sawSnapshot);
  }

  /** The replayed log; throws NonContiguousLogError if it has a gap or a term going back. */
  finish(): ReplayedLog {
    const snapshot = this.index.snapshot;
    verifyContinuity(this.entries, snapshot);
    return {
      hardState: this.hardState,
      entries: this.entries,
      snapshot,
      index: this.index,
      maxEntryIndex: this.maxEntryIndex,
      validBytes: this.validBytes,
      holdsHardState: this.holdsHardState,
      holdsSnapshot: this.holdsSnapshot,
      tail: this.tail,
    };
  }
}

/**
 * A torn write leaves nothing valid after it: saves are serialized, so nothing was written after
 * a write that never completed. A record that fails its CRC but is followed by a sound record is
 * therefore damage to a finished write (bit rot, a foreign writer), and cutting there would drop
 * acknowledged records: refuse instead. (A power loss that persisted a later page of the torn
 * write but not an earlier one also lands here: refusing is the safe side of that ambiguity.)
 */
function assertNothingValidFollows(file: string, bytes: Buffer, defect: SegmentDefect): void {
  if (defect.defect !== 'checksum') return; // the other defects run to the end of the file
  const next = defect.offset + RECORD_HEADER_BYTES + bytes.readUInt32LE(defect.offset);
  if (next < bytes.length && 'payload' in checkFraming(bytes, next)) {
    throw new WalCorruptionError(
      file,
      defect.offset,
      'checksum',
      `${defect.detail}, but a valid record follows at offset ${next}, so this is not an unfinished last write`,
    );
  }
}
