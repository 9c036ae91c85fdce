// The URL-store state machine: every node applies committed Raft entries here, in log order.
//
// Apply is deterministic (it reads only the command and the store, never the clock or randomness)
// and idempotent per log index (the applied index commits in the same LMDB transaction as the data).

import type { RootDatabase } from 'lmdb';
import type { CreateResult, UrlRecord } from '../http/node-api.js';
import { decodeCommand, type CreateCommand, type UrlCommand } from './commands.js';
import {
  META_APPLIED_INDEX,
  META_URL_COUNT,
  openStoreTables,
  sha256Url,
  type StoreTables,
  type UrlHasher,
} from './store-layout.js';
import { decodeUrlRecord, encodeUrlRecord } from './url-record.js';

/** A committed Raft entry. Empty data is the leader's no-op or a membership change. */
export interface AppliedEntry {
  index: number;
  data: Uint8Array;
}

/** The proposed code already belongs to another URL; the leader retries with a new code. */
export interface CodeTakenError {
  error: 'code_taken';
  code: string;
}

export interface ApplyOutcome {
  index: number;
  result: CreateResult | CodeTakenError;
}

export interface UrlStoreOptions {
  /** Tests only: a weak hash to exercise the collision path. Must never differ between nodes. */
  urlHasher?: UrlHasher;
}

export class UrlStore {
  private readonly tables: StoreTables;
  private readonly hashUrl: UrlHasher;

  constructor(
    private readonly root: RootDatabase,
    options: UrlStoreOptions = {},
  ) {
    this.tables = openStoreTables(root);
    this.hashUrl = options.urlHasher ?? sha256Url;
  }

  /** The index of the last log entry applied; 0 for a fresh store. */
  get appliedIndex(): number {
    return this.tables.meta.get(META_APPLIED_INDEX) ?? 0;
  }

  get(code: string): UrlRecord | undefined {
    // getBinaryFast avoids a copy; the record is decoded (copied out) before the next read reuses it.
    const value = this.tables.urls.getBinaryFast(code);
    return value === undefined ? undefined : decodeUrlRecord(code, value);
  }

  codeForUrl(url: string): string | undefined {
    // Usually zero or one code; more only on a hash collision, told apart by comparing the URL.
    for (const code of this.tables.urlCodes.getValues(this.hashUrl(url))) {
      if (this.get(code)?.url === url) return code;
    }
    return undefined;
  }

  count(): number {
    return this.tables.meta.get(META_URL_COUNT) ?? 0;
  }

  /**
   * Applies every entry above appliedIndex in one transaction and records the new appliedIndex in
   * that same transaction. Entries at or below appliedIndex are skipped (a replay after a crash or
   * a duplicate delivery). Resolves with one outcome per applied command, in order, once the
   * transaction is committed.
   *
   * The transaction runs on LMDB's write thread, so the event loop never waits for the disk, and
   * it joins the writes issued in the same event-loop turn (the runtime issues it beside the next
   * log save: one fsync for both).
   *
   * Rejects, applying nothing, if an entry cannot be decoded or the indexes have a gap: both mean
   * this node cannot stay identical to the others, and skipping an entry would hide that.
   */
  // async: a decode error becomes a rejection; nothing is awaited before root.transaction, so the
  // transaction is still queued in the caller's event-loop turn.
  async applyBatch(entries: ReadonlyArray<AppliedEntry>): Promise<ApplyOutcome[]> {
    const last = entries.at(-1);
    if (last === undefined || last.index <= this.appliedIndex) return [];
    // Decoded before the transaction: a throw inside an lmdb-js batched transaction callback would
    // not roll back writes already made in the shared batch.
    const commands = entries.map((e) => ({
      index: e.index,
      command: e.data.byteLength === 0 ? undefined : decodeCommand(e.data),
    }));
    return this.root.transaction(() => this.applyInTransaction(commands));
  }

  /** The same as applyBatch, synchronously on the calling thread (tests and tools). */
  applyBatchSync(entries: ReadonlyArray<AppliedEntry>): ApplyOutcome[] {
    const last = entries.at(-1);
    if (last === undefined || last.index <= this.appliedIndex) return [];
    const commands = entries.map((e) => ({
      index: e.index,
      command: e.data.byteLength === 0 ? undefined : decodeCommand(e.data),
    }));
    return this.root.transactionSync(() => this.applyInTransaction(commands));
  }

  private applyInTransaction(commands: ReadonlyArray<{ index: number; command: UrlCommand | undefined }>): ApplyOutcome[] {
    // Checked before any write, for the same reason as decoding above.
    let expected = this.appliedIndex;
    for (const { index } of commands) {
      if (index <= expected) continue;
      if (index !== expected + 1) {
        throw new Error(`cannot apply entry ${index}: the last applied entry is ${expected}`);
      }
      expected = index;
    }
    let appliedIndex = this.appliedIndex;
    const outcomes: ApplyOutcome[] = [];
    for (const { index, command } of commands) {
      if (index <= appliedIndex) continue;
      appliedIndex = index;
      if (command !== undefined) outcomes.push({ index, result: this.applyCommand(command) });
    }
    this.tables.meta.putSync(META_APPLIED_INDEX, appliedIndex);
    return outcomes;
  }

  private applyCommand(command: UrlCommand): ApplyOutcome['result'] {
    switch (command.type) {
      case 'create':
        return this.applyCreate(command);
    }
  }

  private applyCreate({ code, url, createdAt }: CreateCommand): CreateResult | CodeTakenError {
    // The URL check comes first: a retried proposal of the same URL with the same code is a dedup,
    // not a collision.
    const existingCode = this.codeForUrl(url);
    if (existingCode !== undefined) {
      const existing = this.get(existingCode);
      if (existing === undefined) throw new Error(`url-codes points at missing code ${existingCode}`);
      return { ...existing, created: false };
    }
    if (this.tables.urls.doesExist(code)) return { error: 'code_taken', code };

    this.tables.urls.putSync(code, encodeUrlRecord(url, createdAt));
    this.tables.urlCodes.putSync(this.hashUrl(url), code);
    this.tables.meta.putSync(META_URL_COUNT, this.count() + 1);
    return { code, url, createdAt, created: true };
  }
}
