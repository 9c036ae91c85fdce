// Typed errors for what load() can find wrong with the stored Raft log. The storage layer only
// reports; the runtime decides the policy (e.g. truncate a corrupt tail and let the leader
// re-replicate it, or refuse to start if the damage reaches committed entries).

/** What is wrong with one stored log record. */
export type EntryDefect =
  /** The CRC32 over the record does not match: a torn write, bit rot, or a foreign writer. */
  | 'checksum'
  /** The record is shorter than its header, or a header field does not decode to a safe integer. */
  | 'malformed'
  /** The record's format version byte is not one this code understands. */
  | 'unknown-format'
  /** The checksum holds but the entry type is not an EntryType. */
  | 'unknown-type'
  /** The record is intact but stored under a key other than its own index. */
  | 'index-mismatch';

/** A stored log record that cannot be trusted. `index` is the key it is stored under. */
export class CorruptEntryError extends Error {
  override readonly name = 'CorruptEntryError';

  constructor(
    readonly index: number,
    readonly defect: EntryDefect,
    detail: string,
  ) {
    super(`corrupt raft log entry at index ${index} (${defect}): ${detail}`);
  }
}

/** How the stored log breaks the shape Raft requires of it. */
export type ContinuityDefect =
  /** The next stored index is not previous + 1 (or the log does not start right after the snapshot). */
  | 'gap'
  /** A term is lower than the term of the entry (or snapshot) before it. */
  | 'term-regression';

/**
 * The stored log is not contiguous. `index` is the first index at which the log stops being
 * trustworthy: every entry before it is fine, so a runtime may choose to truncate from here.
 */
export class NonContiguousLogError extends Error {
  override readonly name = 'NonContiguousLogError';

  constructor(
    readonly index: number,
    readonly defect: ContinuityDefect,
    detail: string,
  ) {
    super(`raft log not contiguous at index ${index} (${defect}): ${detail}`);
  }
}

/** A metadata record (hard state, snapshot meta, identity, membership) has the wrong shape. */
export class CorruptMetaError extends Error {
  override readonly name = 'CorruptMetaError';

  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`corrupt storage metadata '${key}': ${detail}`);
  }
}
