// The indexes behind GET /api/urls: every short URL by (createdAt descending, code), and by tag.
//
//   links-by-time  ~ordered(createdAt) (8 bytes) | code UTF-8            -> (1 byte)
//   links-by-tag   tag UTF-8 | 0x00 | ~ordered(createdAt) | code UTF-8   -> (1 byte)
//
// ordered(x) is the float64 with its bits arranged so that bytes sort like the numbers (negatives
// too); ~ inverts every byte, so LMDB's ascending order is newest first. A page ends at a key, and
// the next page starts just after it: no offset is counted, and a write elsewhere never shifts a
// page (new links are newer, so they sort before every cursor taken earlier).
//
// The indexes are derived from the `urls` table, so they are not part of a snapshot: installing one
// rebuilds them in the same transaction, and a data dir from before they existed is indexed when
// it is first opened (META_LIST_INDEX_VERSION says it was). Apply keeps them in an overlay, like
// every other table, written by the store's flush.
import type { Database, RootDatabase } from 'lmdb';
import type { ListPage, ListQuery, UrlRecord } from '../domain/records.js';

export const LIST_INDEX_DB_NAMES = { byTime: 'links-by-time', byTag: 'links-by-tag' } as const;
export const META_LIST_INDEX_VERSION = 'listIndexVersion';
export const LIST_INDEX_VERSION = 1;

const TIME_BYTES = 8;
const PRESENT = Buffer.from([1]);

export interface ListTables {
  byTime: Database<Buffer, Buffer>;
  byTag: Database<Buffer, Buffer>;
}

export function openListTables(root: RootDatabase): ListTables {
  const open = (name: string) =>
    root.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary' });
  return { byTime: open(LIST_INDEX_DB_NAMES.byTime), byTag: open(LIST_INDEX_DB_NAMES.byTag) };
}

/** The position of a record in either index: ~ordered(createdAt) | code. */
export function positionOf(createdAt: number, code: string): Buffer {
  const out = Buffer.allocUnsafe(TIME_BYTES + Buffer.byteLength(code, 'utf8'));
  out.writeDoubleBE(createdAt, 0);
  // Order-preserving bits: negatives flip entirely, non-negatives flip the sign bit.
  if (out[0]! & 0x80) for (let i = 0; i < TIME_BYTES; i++) out[i] = ~out[i]! & 0xff;
  else out[0] = out[0]! | 0x80;
  for (let i = 0; i < TIME_BYTES; i++) out[i] = ~out[i]! & 0xff; // newest first
  out.write(code, TIME_BYTES, 'utf8');
  return out;
}

/** The code in a position, or undefined when the bytes cannot be one (a forged cursor). */
export function codeOfPosition(position: Buffer): string | undefined {
  if (position.length <= TIME_BYTES) return undefined;
  return position.toString('utf8', TIME_BYTES);
}

function tagPrefix(tag: string): Buffer {
  return Buffer.concat([Buffer.from(tag, 'utf8'), Buffer.from([0])]);
}

/** The first key after every key that starts with `prefix` (prefix ≠ all 0xff). */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  let i = end.length - 1;
  while (end[i] === 0xff) i--;
  end[i] = end[i]! + 1;
  return end.subarray(0, i + 1);
}

/** The smallest key greater than `key`. */
function successor(key: Buffer): Buffer {
  return Buffer.concat([key, Buffer.from([0])]);
}

interface Pending {
  db: 'byTime' | 'byTag';
  key: Buffer;
  present: boolean;
}

export class LinkIndexes {
  readonly tables: ListTables;
  /** Changes not written yet, by table and the key's bytes as latin1. */
  private pending = new Map<string, Pending>();

  constructor(root: RootDatabase) {
    this.tables = openListTables(root);
  }

  get pendingSize(): number {
    return this.pending.size;
  }

  add(record: UrlRecord): void {
    this.set(record, record.tags ?? [], true);
  }

  remove(record: UrlRecord): void {
    this.set(record, record.tags ?? [], false);
  }

  /** The record's tags change from `before` to `after` (its createdAt and code stay). */
  retag(record: UrlRecord, before: readonly string[], after: readonly string[]): void {
    const position = positionOf(record.createdAt, record.code);
    for (const tag of before) if (!after.includes(tag)) this.mark('byTag', tagKey(tag, position), false);
    for (const tag of after) if (!before.includes(tag)) this.mark('byTag', tagKey(tag, position), true);
  }

  private set(record: UrlRecord, tags: readonly string[], present: boolean): void {
    const position = positionOf(record.createdAt, record.code);
    this.mark('byTime', position, present);
    for (const tag of tags) this.mark('byTag', tagKey(tag, position), present);
  }

  private mark(db: Pending['db'], key: Buffer, present: boolean): void {
    this.pending.set(`${db}:${key.toString('latin1')}`, { db, key, present });
  }

  /** Forgets what is not written (the store was replaced by a snapshot). */
  clear(): void {
    this.pending.clear();
  }

  /** The overlay as it is now, for a flush. */
  takePending(): Array<[string, Pending]> {
    return [...this.pending];
  }

  /** Inside the flush transaction. */
  write(taken: ReadonlyArray<[string, Pending]>): void {
    for (const [, p] of taken) {
      if (p.present) this.tables[p.db].putSync(p.key, PRESENT);
      else this.tables[p.db].removeSync(p.key);
    }
  }

  /** After the flush: drop what has not changed since it was taken. */
  written(taken: ReadonlyArray<[string, Pending]>): void {
    for (const [id, p] of taken) if (this.pending.get(id) === p) this.pending.delete(id);
  }

  /** One page, newest first, over LMDB and the overlay merged. `recordOf` reads the store. */
  list(query: ListQuery, recordOf: (code: string) => UrlRecord | undefined): ListPage {
    const db = query.tag === undefined ? 'byTime' : 'byTag';
    const prefix = query.tag === undefined ? Buffer.alloc(0) : tagPrefix(query.tag);
    const start = query.cursor === undefined ? prefix : successor(Buffer.concat([prefix, query.cursor]));
    const end = query.tag === undefined ? undefined : prefixEnd(prefix);
    const needle = query.q?.toLowerCase();
    const records: UrlRecord[] = [];
    let scanned = 0;
    let last: Buffer | undefined;
    for (const key of this.merged(db, start, end)) {
      if (records.length >= query.limit || scanned >= query.scanLimit) {
        // There is at least one more entry: the page ends at the last one read.
        return { records, next: last!.subarray(prefix.length) };
      }
      scanned++;
      last = key;
      const record = recordOf(key.toString('utf8', prefix.length + TIME_BYTES));
      if (record === undefined) continue; // defensive: an index entry without its record
      if (needle !== undefined && !matches(record, needle)) continue;
      records.push(record);
    }
    return { records };
  }

  /** Keys of `db` in [start, end), LMDB's and the overlay's merged in byte order. */
  private *merged(db: Pending['db'], start: Buffer, end: Buffer | undefined): Generator<Buffer> {
    const inRange = (k: Buffer) =>
      Buffer.compare(k, start) >= 0 && (end === undefined || Buffer.compare(k, end) < 0);
    const added: Buffer[] = [];
    for (const p of this.pending.values()) if (p.db === db && p.present && inRange(p.key)) added.push(p.key);
    added.sort(Buffer.compare);
    let a = 0;
    const range = end === undefined ? { start } : { start, end };
    for (const { key: stored } of this.tables[db].getRange(range)) {
      const key = Buffer.from(stored);
      // The overlay's word on a key wins: removed, or re-added (then it is in `added`).
      if (this.pending.has(`${db}:${key.toString('latin1')}`)) continue;
      while (a < added.length && Buffer.compare(added[a]!, key) < 0) yield added[a++]!;
      yield key;
    }
    while (a < added.length) yield added[a++]!;
  }

  /**
   * Rebuilds both indexes from the `urls` table, inside the caller's write transaction (a snapshot
   * install, or the first open of a data dir from before the indexes).
   */
  rebuildSync(urls: Iterable<UrlRecord>): void {
    this.tables.byTime.clearSync();
    this.tables.byTag.clearSync();
    for (const record of urls) {
      const position = positionOf(record.createdAt, record.code);
      this.tables.byTime.putSync(position, PRESENT);
      for (const tag of record.tags ?? []) this.tables.byTag.putSync(tagKey(tag, position), PRESENT);
    }
  }
}

function tagKey(tag: string, position: Buffer): Buffer {
  return Buffer.concat([tagPrefix(tag), position]);
}

function matches(record: UrlRecord, needle: string): boolean {
  return record.code.toLowerCase().includes(needle) || record.url.toLowerCase().includes(needle);
}
