// A consistent read of every URL record: one LMDB read transaction, so the records and the applied
// index they reflect come from the same committed state however long the reader takes, while
// apply and flushes go on (LMDB's MVCC keeps the old pages for the open transaction).
import type { RootDatabase, Transaction } from 'lmdb';
import type { UrlRecord } from '../domain/records.js';
import { META_APPLIED_INDEX, type StoreTables } from './store-layout.js';
import { decodeUrlRecord } from './url-record.js';

export interface RecordsView {
  /** The applied index the view reflects. */
  readonly index: number;
  /** Every record (expired ones too), in code order, decoded one at a time. */
  records(): Generator<UrlRecord>;
  /** Ends the read transaction; must be called, also when the reader stops early. */
  close(): void;
}

export function openRecordsView(root: RootDatabase, tables: StoreTables): RecordsView {
  const txn: Transaction = root.useReadTransaction();
  let closed = false;
  const index = tables.meta.get(META_APPLIED_INDEX, { transaction: txn }) ?? 0;
  return {
    index,
    *records() {
      for (const { key, value } of tables.urls.getRange({ transaction: txn })) {
        if (closed) throw new Error('records view closed while it was being read');
        yield decodeUrlRecord(key, value);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      txn.done();
    },
  };
}
