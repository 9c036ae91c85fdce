// Typed errors of the write-ahead log. A torn tail (an unfinished last write) is not an error: the
// log repairs it on open. Everything else that is wrong on disk is corruption, and the node must
// not start on it: a Raft node that silently forgets or alters entries it acknowledged can break
// the cluster's safety, while a node that refuses to start only costs availability until it is
// rebuilt from its peers.

/** What is wrong at one position of a segment file. */
export type WalDefect =
  /** Fewer bytes left than a record header, or a record running past the end of a segment. */
  | 'truncated'
  /** A record's CRC32 does not match its payload. */
  | 'checksum'
  /** A zero length field (no record is empty), or zero padding, where records should continue. */
  | 'zero-length'
  /** The CRC holds but the payload does not decode (unknown record type, bad field, bad entry). */
  | 'malformed'
  /** A segment file is missing from the numbered sequence (a middle file was deleted). */
  | 'missing-segment';

const WHAT_TO_DO =
  "This node's Raft log cannot be trusted. Stop the node, remove its data directory and let it " +
  'rejoin the cluster: it will receive the log (or a snapshot) from the other nodes.';

/** The write-ahead log is damaged somewhere other than an unfinished last write. */
export class WalCorruptionError extends Error {
  override readonly name = 'WalCorruptionError';

  constructor(
    /** Absolute path of the segment file. */
    readonly file: string,
    /** Byte offset of the damaged record in that file (0 for a missing segment). */
    readonly offset: number,
    readonly defect: WalDefect,
    detail: string,
    /** The Raft index involved, when the damaged record is an entry whose index is known. */
    readonly index?: number,
    options?: { cause?: unknown },
  ) {
    super(
      `corrupt write-ahead log ${file} at offset ${offset}` +
        `${index === undefined ? '' : ` (entry ${index})`} (${defect}): ${detail}. ${WHAT_TO_DO}`,
      options,
    );
  }
}

/**
 * A write, fsync or file operation of the log failed (or the log was closed). The store refuses
 * every later call: after a failed fsync the kernel may have dropped the dirty pages, so the file
 * can no longer be trusted to hold what the process believes it wrote. Restart the node.
 */
export class WalUnusableError extends Error {
  override readonly name = 'WalUnusableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A write of the log found the disk full (ENOSPC). Unlike other failures it leaves the log usable:
 * whatever part of the write reached the file was cut off again, so the log ends at its last whole
 * record, and the same save can be retried once there is space.
 */
export class WalDiskFullError extends Error {
  override readonly name = 'WalDiskFullError';

  constructor(dir: string, options?: { cause?: unknown }) {
    super(`the disk holding the write-ahead log in ${dir} is full`, options);
  }
}
