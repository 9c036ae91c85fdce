// One LMDB environment per node directory, for the node's identity and membership and the URL store
// (its data and its applied index written in one transaction). The Raft log is in the WAL beside it.
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { mkdirDurable, syncDirectorySync } from '../../common/sync-directory.js';

/**
 * Opens (creating if needed) the node's LMDB environment at `<dataDir>/db`.
 *
 * What "resolved" means with these settings: a write promise (put, remove, transaction) resolves
 * only after LMDB's mdb_txn_commit has returned, and with overlappingSync off that commit first
 * fdatasyncs the new data pages and then writes the meta page through an O_DSYNC descriptor
 * (checked with strace: one fdatasync per transaction). So resolved == committed AND flushed:
 * an acknowledged write survives a process kill and, as far as the OS and drive honour fsync, a
 * power loss. There is no need to await `db.flushed` on top.
 */
export function openNodeDatabase(dataDir: string): RootDatabase {
  const path = join(dataDir, 'db');
  mkdirDurable(path);
  const db = open({
    path,
    // lmdb-js turns overlappingSync on by default off Windows. Then a write promise resolves when
    // the transaction is *committed* (visible), and the fsync happens later, signalled only by
    // `db.flushed`. Membership changes and the node's identity must be on disk when their promise
    // resolves (a restart must not forget them), so we want the promise itself to mean durable:
    // turn it off. The URL store writes only every 50 ms, so the cost is small.
    overlappingSync: false,
    // Never skip the data or the meta-page fsync: either would make acknowledged writes losable.
    noSync: false,
    noMetaSync: false,
    // Group commit: every write queued in the same event-loop turn goes into one transaction and
    // one fsync, and writes queued while a commit is running go into the next one.
    eventTurnBatching: true,
    // Commit at the next turn (setImmediate), not after a timer: latency matters more than the
    // few extra writes a delay would batch, since concurrent writes batch anyway.
    commitDelay: 0,
    // Records are small and compact; compression would only cost CPU. Sub-databases inherit this.
    compression: false,
    // A write-side cache would serve values that are not yet durable; reads are cheap anyway.
    cache: false,
    // The default (12) is tight for a log, meta and a URL store with secondary indexes; each
    // slot costs a few hundred bytes, so leave generous room.
    maxDbs: 64,
    // Initial address space only: lmdb-js grows the map (remaps) when a commit needs more, so the
    // database is not capped. Starting at 64 MiB avoids remapping during normal early operation;
    // it reserves virtual address space, not disk (the file grows as pages are written).
    mapSize: 64 * 1024 * 1024,
    // Writemap lets a stray pointer write into the database file; not worth the small gain.
    useWritemap: false,
  });
  // LMDB creates data.mdb and lock.mdb on a first start but never syncs their directory: the
  // data it fsyncs later would sit in files whose names a power cut could take away.
  syncDirectorySync(path);
  return db;
}
