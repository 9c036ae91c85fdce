// Snapshot and restore of the URL store's LMDB sub-databases, byte for byte.
//
// Capture: one LMDB read transaction sees every sub-database (and the applied index stored with
// them) as of one commit, so the stream is a consistent snapshot at that index however long it
// takes to send; writers go on meanwhile (LMDB keeps the old pages until the reader is done).
//
// Install: one write transaction empties the sub-databases and loads the file, applied index
// included, so a crash leaves either the old state or the new one, never a mix.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Database, RootDatabase, Transaction } from 'lmdb';
import { DUPSORT_DB_NAMES, META_APPLIED_INDEX, openStoreTables, STORE_DB_NAMES } from '../store-layout.js';
import { FrameKind, jsonFrame, RecordsFrameBuilder, SNAPSHOT_MAGIC, type SnapshotHeader } from './format.js';
import { SnapshotContentCheck } from './content-check.js';
import { SnapshotParser } from './parser.js';

/** The store's sub-databases opened without any encoding: keys and values as raw bytes. */
function rawTables(root: RootDatabase): Array<{ name: string; db: Database<Buffer, Buffer> }> {
  return Object.values(STORE_DB_NAMES).map((name) => ({
    name,
    db: root.openDB<Buffer, Buffer>({
      name,
      keyEncoding: 'binary',
      encoding: 'binary',
      dupSort: DUPSORT_DB_NAMES.has(name),
    }),
  }));
}

/** What the caller adds to a snapshot: Raft's view of the captured index. */
export type SnapshotDescription = Omit<SnapshotHeader, 'format' | 'index' | 'tables' | 'createdAt'>;

/** A consistent, open view of the store. close() must be called (it ends the read transaction). */
export interface StoreSnapshotView {
  /** The applied index the view reflects. */
  readonly index: number;
  /** The view in the snapshot format, in frames of about 64 KiB, generated lazily. */
  frames(description: SnapshotDescription): AsyncGenerator<Buffer>;
  close(): void;
}

export function openStoreSnapshotView(root: RootDatabase): StoreSnapshotView {
  const tables = rawTables(root);
  const txn: Transaction = root.useReadTransaction();
  let closed = false;
  const index = openStoreTables(root).meta.get(META_APPLIED_INDEX, { transaction: txn }) ?? 0;
  return {
    index,
    async *frames(description) {
      const header: SnapshotHeader = {
        format: 1,
        index,
        ...description,
        tables: tables.map((t) => t.name),
        createdAt: new Date().toISOString(),
      };
      yield Buffer.concat([SNAPSHOT_MAGIC, jsonFrame(FrameKind.Header, header)]);
      const builder = new RecordsFrameBuilder();
      let records = 0;
      for (let t = 0; t < tables.length; t++) {
        for (const { key, value } of tables[t].db.getRange({ transaction: txn })) {
          if (closed) throw new Error('snapshot view closed while it was being read');
          records++;
          const full = builder.add(t, key, value);
          if (full) yield full;
        }
      }
      const last = builder.take();
      if (last) yield last;
      yield jsonFrame(FrameKind.Footer, { records });
    },
    close() {
      if (closed) return;
      closed = true;
      txn.done();
    },
  };
}

const READ_BYTES = 1 << 20;

/**
 * Reads a snapshot file in pieces, verifying every frame; calls `onRecords` per RECORDS frame.
 * Throws SnapshotCorruptionError (naming the file and offset) on any defect. Synchronous, so it
 * can run inside an LMDB write transaction.
 */
export function readSnapshotFileSync(
  path: string,
  onRecords?: (header: SnapshotHeader, records: ReturnType<SnapshotParser['push']>, at: number) => void,
): SnapshotHeader {
  const parser = new SnapshotParser(path);
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    for (;;) {
      const n = readSync(fd, buffer, 0, READ_BYTES, null);
      if (n === 0) break;
      const at = parser.position;
      const frames = parser.push(buffer.subarray(0, n));
      if (onRecords && frames.length > 0) onRecords(parser.parsedHeader!, frames, at);
    }
  } finally {
    closeSync(fd);
  }
  return parser.finish();
}

/** Reads a whole snapshot file, checking its frames and what they hold; returns its header. */
export function verifySnapshotFileSync(path: string): SnapshotHeader {
  const content = new SnapshotContentCheck(path);
  const header = readSnapshotFileSync(path, (_header, frames, at) => content.add(frames, at));
  content.finish(statSync(path).size);
  return header;
}

/**
 * Replaces the store's sub-databases with a verified snapshot file, in one write transaction.
 * The file is verified completely first, so a damaged file never leaves a half-installed store.
 * With `appliedIndex`, the applied index is overwritten (a restore into a new cluster, whose log
 * numbering starts over). Returns the file's header.
 */
export async function installSnapshotFile(
  root: RootDatabase,
  path: string,
  options: {
    appliedIndex?: number;
    /** Runs inside the install transaction once the tables are loaded (derived data is rebuilt here). */
    afterLoad?: () => void;
  } = {},
): Promise<SnapshotHeader> {
  const header = verifySnapshotFileSync(path);
  const tables = rawTables(root);
  const byName = new Map(tables.map((t) => [t.name, t.db]));
  for (const name of header.tables) {
    if (!byName.has(name))
      throw new Error(`snapshot ${path} holds table "${name}" this version does not know`);
  }
  await root.transaction(() => {
    for (const t of tables) t.db.clearSync();
    readSnapshotFileSync(path, (h, frames) => {
      for (const f of frames) {
        if (f.kind !== 'records') continue;
        for (const r of f.records) byName.get(h.tables[r.table]!)!.putSync(r.key, r.value);
      }
    });
    if (options.appliedIndex !== undefined) {
      openStoreTables(root).meta.putSync(META_APPLIED_INDEX, options.appliedIndex);
    }
    options.afterLoad?.();
  });
  return header;
}
