// The URL-store state machine: every node applies committed Raft entries here, in log order.
//
// Apply is deterministic (it reads only the command and the store, never the clock or randomness)
// and idempotent per log index.
//
// Apply never waits for the disk. Applied records go into an in-memory overlay that every read
// consults first, and the overlay is written to LMDB together with the applied index in one
// transaction every flushIntervalMs (or sooner when it grows large), as etcd batches its backend
// commits. The Raft log is the durable truth: after a crash the node restarts from the last
// flushed applied index and re-applies the entries after it, which yields the same state because
// apply is deterministic. (The log therefore must keep every entry above the *flushed* index.)

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
  /** How long applied records may wait in memory before they are written to LMDB. Default 50 ms. */
  flushIntervalMs?: number;
  /** Write to LMDB at once when this many records are waiting. Default 10,000. */
  maxPendingRecords?: number;
}

export class UrlStore {
  private readonly tables: StoreTables;
  private readonly hashUrl: UrlHasher;
  private readonly flushIntervalMs: number;
  private readonly maxPendingRecords: number;

  /** Applied but not yet in LMDB, by code and by exact URL. Records are immutable once created. */
  private readonly pendingByCode = new Map<string, UrlRecord>();
  private readonly pendingCodeByUrl = new Map<string, string>();
  private applied: number;
  private count_: number;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private flushError: unknown;

  constructor(
    private readonly root: RootDatabase,
    options: UrlStoreOptions = {},
  ) {
    this.tables = openStoreTables(root);
    this.hashUrl = options.urlHasher ?? sha256Url;
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.maxPendingRecords = options.maxPendingRecords ?? 10_000;
    this.applied = this.durableAppliedIndex;
    this.count_ = this.tables.meta.get(META_URL_COUNT) ?? 0;
  }

  /** The index of the last log entry applied (in memory or on disk); 0 for a fresh store. */
  get appliedIndex(): number {
    return this.applied;
  }

  /** The applied index as of the last flush: what a restart resumes from. */
  get durableAppliedIndex(): number {
    return this.tables.meta.get(META_APPLIED_INDEX) ?? 0;
  }

  get(code: string): UrlRecord | undefined {
    const pending = this.pendingByCode.get(code);
    if (pending !== undefined) return pending;
    // getBinaryFast avoids a copy; the record is decoded (copied out) before the next read reuses it.
    const value = this.tables.urls.getBinaryFast(code);
    return value === undefined ? undefined : decodeUrlRecord(code, value);
  }

  codeForUrl(url: string): string | undefined {
    const pending = this.pendingCodeByUrl.get(url);
    if (pending !== undefined) return pending;
    // Usually zero or one code; more only on a hash collision, told apart by comparing the URL.
    for (const code of this.tables.urlCodes.getValues(this.hashUrl(url))) {
      if (this.get(code)?.url === url) return code;
    }
    return undefined;
  }

  count(): number {
    return this.count_;
  }

  /**
   * Applies, in order, every entry above appliedIndex; entries at or below it are skipped (a
   * replay after a crash or a duplicate delivery). Returns one outcome per applied command.
   *
   * Throws, applying nothing, if an entry cannot be decoded or the indexes have a gap: both mean
   * this node cannot stay identical to the others, and skipping an entry would hide that. Also
   * throws if an earlier flush to LMDB failed: the node must stop rather than serve from memory.
   */
  applyBatch(entries: ReadonlyArray<AppliedEntry>): ApplyOutcome[] {
    if (this.flushError !== undefined) throw this.flushError;
    // Decode and check everything before changing anything.
    let expected = this.applied;
    const commands: Array<{ index: number; command: UrlCommand | undefined }> = [];
    for (const e of entries) {
      if (e.index <= expected) continue;
      if (e.index !== expected + 1) {
        throw new Error(`cannot apply entry ${e.index}: the last applied entry is ${expected}`);
      }
      expected = e.index;
      commands.push({ index: e.index, command: e.data.byteLength === 0 ? undefined : decodeCommand(e.data) });
    }
    if (commands.length === 0) return [];
    const outcomes: ApplyOutcome[] = [];
    for (const { index, command } of commands) {
      if (command !== undefined) outcomes.push({ index, result: this.applyCommand(command) });
    }
    this.applied = expected;
    this.scheduleFlush();
    return outcomes;
  }

  /**
   * Writes everything applied so far to LMDB with its applied index (one transaction, durable
   * when it resolves). Called on a timer, and by whoever needs the state on disk (shutdown, tests).
   */
  flush(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    // Flushes run one after another, so the applied index on disk only moves forward.
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  private scheduleFlush(): void {
    if (this.pendingByCode.size >= this.maxPendingRecords) {
      void this.flush().catch(() => {});
      return;
    }
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush().catch(() => {});
    }, this.flushIntervalMs);
    // A pending flush must not keep a stopping process alive; close paths call flush() themselves.
    this.flushTimer.unref();
  }

  private async writePending(): Promise<void> {
    const appliedAt = this.applied;
    if (appliedAt === this.durableAppliedIndex && this.pendingByCode.size === 0) return;
    const records = [...this.pendingByCode.values()];
    const count = this.count_;
    try {
      await this.root.transaction(() => {
        for (const r of records) {
          this.tables.urls.putSync(r.code, encodeUrlRecord(r.url, r.createdAt));
          this.tables.urlCodes.putSync(this.hashUrl(r.url), r.code);
        }
        this.tables.meta.putSync(META_URL_COUNT, count);
        this.tables.meta.putSync(META_APPLIED_INDEX, appliedAt);
      });
    } catch (err) {
      this.flushError = err;
      throw err;
    }
    // Now readable from LMDB: drop them from memory (records applied meanwhile stay).
    for (const r of records) {
      this.pendingByCode.delete(r.code);
      this.pendingCodeByUrl.delete(r.url);
    }
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
    if (this.pendingByCode.has(code) || this.tables.urls.doesExist(code))
      return { error: 'code_taken', code };

    const record = { code, url, createdAt };
    this.pendingByCode.set(code, record);
    this.pendingCodeByUrl.set(url, code);
    this.count_++;
    return { ...record, created: true };
  }
}
