// The shape Raft requires of a stored log, checked once at startup: indexes consecutive, terms
// never decreasing, and the log starting no later than right after the snapshot (a gap between
// the snapshot and the first entry would lose committed entries).
import type { Entry, SnapshotMeta } from '../../raft/types.js';
import { NonContiguousLogError } from './errors.js';

/** Throws NonContiguousLogError naming the first index that breaks the shape. */
export function verifyContinuity(entries: readonly Entry[], snapshot: SnapshotMeta | undefined): void {
  if (entries.length === 0) return;
  const first = entries[0];
  if (snapshot && first.index > snapshot.index + 1) {
    throw new NonContiguousLogError(
      first.index,
      'gap',
      `log starts at ${first.index} but the snapshot ends at ${snapshot.index}`,
    );
  }
  for (let i = 1; i < entries.length; i++) {
    const previous = entries[i - 1];
    const entry = entries[i];
    if (entry.index !== previous.index + 1) {
      throw new NonContiguousLogError(
        previous.index + 1,
        'gap',
        `entry ${previous.index} is followed by entry ${entry.index}`,
      );
    }
    if (entry.term < previous.term) {
      throw new NonContiguousLogError(
        entry.index,
        'term-regression',
        `term ${entry.term} after term ${previous.term} at index ${previous.index}`,
      );
    }
  }
  // Entries after the snapshot must not go back in time either. (Entries at or below the
  // snapshot index may be kept after compaction to serve slow followers; they are covered above.)
  const afterSnapshot = snapshot && entries.find((entry) => entry.index === snapshot.index + 1);
  if (snapshot && afterSnapshot && afterSnapshot.term < snapshot.term) {
    throw new NonContiguousLogError(
      afterSnapshot.index,
      'term-regression',
      `term ${afterSnapshot.term} after snapshot term ${snapshot.term} at index ${snapshot.index}`,
    );
  }
}
