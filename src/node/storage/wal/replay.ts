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

export interface SegmentBytes {
  seq: number;
  file: string;
  bytes: Buffer;
}

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

export function replaySegments(segments: readonly SegmentBytes[]): ReplayedLog {
  const index = new LogIndex();
  let hardState: HardState = { term: 0, vote: 0, commit: 0 };
  let entries: Entry[] = [];
  const maxEntryIndex: number[] = [];
  const validBytes: number[] = [];
  const holdsHardState: boolean[] = [];
  const holdsSnapshot: boolean[] = [];
  let tail: ReplayedLog['tail'];

  segments.forEach(({ file, bytes }, position) => {
    const isLast = position === segments.length - 1;
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
      tail = { ...parsed.defect, file, cutBytes: bytes.length - parsed.validBytes };
    }
    let max = 0;
    let sawHardState = false;
    let sawSnapshot = false;
    for (const { offset, record } of parsed.records) {
      if (record.type === RecordType.HardState) {
        hardState = record.hardState;
        sawHardState = true;
      } else if (record.type === RecordType.Snapshot) {
        index.applySnapshot(record.snapshot);
        sawSnapshot = true;
        entries = entries.filter((entry) => entry.index >= index.first && entry.index <= index.last);
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
        while (entries.length > 0 && entries[entries.length - 1].index >= entry.index) entries.pop();
        entries.push(entry);
        max = Math.max(max, entry.index);
      }
    }
    maxEntryIndex.push(max);
    validBytes.push(parsed.validBytes);
    holdsHardState.push(sawHardState);
    holdsSnapshot.push(sawSnapshot);
  });

  const snapshot = index.snapshot;
  verifyContinuity(entries, snapshot);
  return {
    hardState,
    entries,
    snapshot,
    index,
    maxEntryIndex,
    validBytes,
    holdsHardState,
    holdsSnapshot,
    tail,
  };
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
