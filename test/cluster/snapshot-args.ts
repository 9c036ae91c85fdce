// Node flags that make compaction and snapshots happen at test scale: compact every ~150 entries
// keeping 20 behind, stream snapshots in 1 KiB chunks, and cut the WAL into 32 KiB segments so
// that compaction really deletes files.
export const SNAPSHOT_ARGS = [
  '--snapshot-entries',
  '150',
  '--snapshot-catchup-entries',
  '20',
  '--snapshot-chunk-bytes',
  '1024',
  '--wal-segment-bytes',
  '32768',
];
