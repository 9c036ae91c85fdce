// Where the URL store lives inside the node's shared LMDB environment.
//
// Named sub-databases, all written only by UrlStore's flush, in one transaction with the applied
// index:
//   urls         code -> url record (see url-record.ts)
//   url-codes    sha256(url) -> code, dupSort: the index behind "same URL, same code". Only plain
//                generated codes without an expiry are in it (never aliases, never expiring codes).
//                Keyed by a hash because LMDB keys are limited to ~1978 bytes and URLs may be 8 KiB.
//                dupSort keeps every code whose URL has this hash, so a hash collision costs an extra
//                record read instead of losing or overwriting an entry; readers compare the full URL.
//   expiry       kind byte | float64 BE instant | id UTF-8 -> (1 byte): what expires when, in time
//                order, so a purge reads only what it removes. Kind 1: a short URL (id = code, at its
//                expiresAt); kind 2: an idempotency key (id = key, at the end of its lifetime).
//   idempotency  Idempotency-Key -> idempotency record (see idempotency-record.ts)
//   visits       code -> visit statistics: total and per UTC day (see visit-stats.ts)
//   visit-batches  origin node id -> the last visits batch applied from each of its recent
//                sessions, which makes a batch delivered twice count once (see visit-store.ts)
//   sm-meta      appliedIndex and urlCount, so they commit atomically with the data they describe,
//                and lastPurgeNow: the latest "now" of an applied purge, which the leader's next
//                purge is measured against (purge-clock.ts).
//
// A snapshot is exactly the contents of these sub-databases read in one read transaction. The list
// indexes (links-by-time, links-by-tag: link-index.ts) live in the same environment but are derived
// from `urls`: they are not in a snapshot and are rebuilt when one is installed.

import { createHash } from 'node:crypto';
import type { Database, RootDatabase } from 'lmdb';

export const STORE_DB_NAMES = {
  urls: 'urls',
  urlCodes: 'url-codes',
  expiry: 'expiry',
  idempotency: 'idempotency',
  visits: 'visits',
  visitBatches: 'visit-batches',
  meta: 'sm-meta',
} as const;

/** Sub-databases opened with dupSort (a snapshot must reopen them the same way). */
export const DUPSORT_DB_NAMES: ReadonlySet<string> = new Set([STORE_DB_NAMES.urlCodes]);

export const META_APPLIED_INDEX = 'appliedIndex';
export const META_URL_COUNT = 'urlCount';
export const META_LAST_PURGE_NOW = 'lastPurgeNow';

export interface StoreTables {
  urls: Database<Buffer, string>;
  urlCodes: Database<string, Buffer>;
  expiry: Database<Buffer, Buffer>;
  idempotency: Database<Buffer, string>;
  visits: Database<Buffer, string>;
  visitBatches: Database<Buffer, number>;
  meta: Database<number, string>;
}

/**
 * Derives the url-codes key. It is part of the persisted layout: every node, and every version of a
 * node that reads this data, must use the same function.
 */
export type UrlHasher = (url: string) => Buffer;

export const sha256Url: UrlHasher = (url) => createHash('sha256').update(url, 'utf8').digest();

export const EXPIRY_KIND_URL = 1;
export const EXPIRY_KIND_IDEMPOTENCY_KEY = 2;
export type ExpiryKind = typeof EXPIRY_KIND_URL | typeof EXPIRY_KIND_IDEMPOTENCY_KEY;

/**
 * The expiry index key. Instants are >= 0 (the codec refuses others), and big-endian IEEE 754
 * bytes of non-negative doubles sort like the numbers, so LMDB's byte order is time order.
 */
export function expiryKey(kind: ExpiryKind, at: number, id: string): Buffer {
  const out = Buffer.allocUnsafe(1 + 8 + Buffer.byteLength(id, 'utf8'));
  out.writeUInt8(kind, 0);
  out.writeDoubleBE(at, 1);
  out.write(id, 9, 'utf8');
  return out;
}

export function parseExpiryKey(key: Uint8Array): { kind: number; at: number; id: string } {
  const b = Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return { kind: b[0]!, at: b.readDoubleBE(1), id: b.toString('utf8', 9) };
}

export function openStoreTables(root: RootDatabase): StoreTables {
  return {
    urls: root.openDB<Buffer, string>({ name: STORE_DB_NAMES.urls, encoding: 'binary' }),
    urlCodes: root.openDB<string, Buffer>({
      name: STORE_DB_NAMES.urlCodes,
      keyEncoding: 'binary',
      encoding: 'ordered-binary',
      dupSort: true,
    }),
    expiry: root.openDB<Buffer, Buffer>({
      name: STORE_DB_NAMES.expiry,
      keyEncoding: 'binary',
      encoding: 'binary',
    }),
    idempotency: root.openDB<Buffer, string>({ name: STORE_DB_NAMES.idempotency, encoding: 'binary' }),
    visits: root.openDB<Buffer, string>({
      name: STORE_DB_NAMES.visits,
      keyEncoding: 'ordered-binary',
      encoding: 'binary',
    }),
    visitBatches: root.openDB<Buffer, number>({
      name: STORE_DB_NAMES.visitBatches,
      keyEncoding: 'ordered-binary',
      encoding: 'binary',
    }),
    meta: root.openDB<number, string>({ name: STORE_DB_NAMES.meta, encoding: 'ordered-binary' }),
  };
}
