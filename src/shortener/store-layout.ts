// Where the URL store lives inside the node's shared LMDB environment.
//
// Three named sub-databases, all written only by UrlStore.applyBatch in one transaction:
//   urls       code -> url record (see url-record.ts)
//   url-codes  sha256(url) -> code, dupSort: the index behind "same URL, same code".
//              Keyed by a hash because LMDB keys are limited to ~1978 bytes and URLs may be 8 KiB.
//              dupSort keeps every code whose URL has this hash, so a hash collision costs an extra
//              record read instead of losing or overwriting an entry; readers compare the full URL.
//   sm-meta    appliedIndex and urlCount, so they commit atomically with the data they describe.
//
// A snapshot is exactly the contents of these three sub-databases read in one read transaction.

import { createHash } from 'node:crypto';
import type { Database, RootDatabase } from 'lmdb';

export const STORE_DB_NAMES = { urls: 'urls', urlCodes: 'url-codes', meta: 'sm-meta' } as const;

export const META_APPLIED_INDEX = 'appliedIndex';
export const META_URL_COUNT = 'urlCount';

export interface StoreTables {
  urls: Database<Buffer, string>;
  urlCodes: Database<string, Buffer>;
  meta: Database<number, string>;
}

/**
 * Derives the url-codes key. It is part of the persisted layout: every node, and every version of a
 * node that reads this data, must use the same function.
 */
export type UrlHasher = (url: string) => Buffer;

export const sha256Url: UrlHasher = (url) => createHash('sha256').update(url, 'utf8').digest();

export function openStoreTables(root: RootDatabase): StoreTables {
  return {
    urls: root.openDB<Buffer, string>({ name: STORE_DB_NAMES.urls, encoding: 'binary' }),
    urlCodes: root.openDB<string, Buffer>({
      name: STORE_DB_NAMES.urlCodes,
      keyEncoding: 'binary',
      encoding: 'ordered-binary',
      dupSort: true,
    }),
    meta: root.openDB<number, string>({ name: STORE_DB_NAMES.meta, encoding: 'ordered-binary' }),
  };
}
