// The URL-store state machine: every node applies committed Raft entries here, in log order.
//
// Apply is deterministic (it reads only the command and the store, never the clock or randomness)
// and idempotent per log index. Whatever depends on time is an instant in the command, fixed by the
// leader: createdAt, expiresAt, an idempotency key's end of life, a purge's "now".
//
// Commands:
//   create  a generated code: "same URL, same code" — a plain create (no expiry, tags or visit
//           limit) for a URL that already has a plain code returns that record (created: false). A
//           create with any of those always makes a new code; only codes without an expiry or a
//           visit limit are ever returned by that dedup (a tagged one is, when it was first).
//           an alias (custom code): created if the code is free, else alias_taken; never deduplicated
//           and never returned for a plain create of the same URL.
//           A code whose record expired before the command's createdAt counts as free (the expired
//           record is replaced). With an idempotency key: a key seen before (and still alive at
//           createdAt) returns the first result (replayed: true) when the fingerprint matches, and
//           idempotency_key_reused when it does not; only successful creates remember their key.
//   update  changes a record's URL, expiry, tags or visit limit in place (code, createdAt and visit
//           statistics stay); refused as not_found for an unknown code and as expired for a record
//           expired at the command's updatedAt. The "same URL, same code" index follows: the code
//           leaves it when its URL changes or it gains an expiry or limit, and enters it for its new
//           URL when it is eligible and that URL has no plain code yet.
//   delete  removes the record (and its index entries); the code reads as unknown afterwards and
//           may be taken again.
//   purge   removes records that expired at or before expiredBefore and keys whose lifetime ended
//           at or before now, oldest first, at most `limit` in all.
//   visits  adds one node's batch of visit counts (per code and UTC day, decided by the node that
//           counted) to the codes' statistics, once per batch id (see visit-store.ts). Deleting or
//           purging a record drops its statistics.
//
// Apply never waits for the disk. Applied records go into an in-memory overlay that every read
// consults first, and the overlay is written to LMDB together with the applied index in one
// transaction every flushIntervalMs (or sooner when it grows large), as etcd batches its backend
// commits. The Raft log is the durable truth: after a crash the node restarts from the last
// flushed applied index and re-applies the entries after it, which yields the same state because
// apply is deterministic. (The log therefore must keep every entry above the *flushed* index.)

import type { RootDatabase } from 'lmdb';
import {
  isExpired,
  type CreateResult,
  type ListPage,
  type ListQuery,
  type UrlRecord,
} from '../domain/records.js';
import {
  decodeCommand,
  type CreateCommand,
  type DeleteCommand,
  type PurgeCommand,
  type UpdateCommand,
  type VisitsCommand,
  type UrlCommand,
} from './commands.js';
import {
  decodeIdempotencyRecord,
  encodeIdempotencyRecord,
  type IdempotencyRecord,
} from './idempotency-record.js';
import {
  EXPIRY_KIND_IDEMPOTENCY_KEY,
  EXPIRY_KIND_URL,
  expiryKey,
  META_APPLIED_INDEX,
  META_URL_COUNT,
  META_LAST_PURGE_NOW,
  openStoreTables,
  parseExpiryKey,
  sha256Url,
  type ExpiryKind,
  type StoreTables,
  type UrlHasher,
} from './store-layout.js';
import type { SnapshotHeader } from './snapshot/format.js';
import {
  installSnapshotFile,
  openStoreSnapshotView,
  type StoreSnapshotView,
} from './snapshot/store-snapshot.js';
import { openRecordsView, type RecordsView } from './records-view.js';
import { decodeUrlRecord, encodeUrlRecord } from './url-record.js';
import { LinkIndexes, LIST_INDEX_VERSION, META_LIST_INDEX_VERSION } from './link-index.js';
import type { VisitStats } from './visit-stats.js';
import { VisitStore, type VisitsResult } from './visit-store.js';

/** A committed Raft entry. Empty data is the leader's no-op or a membership change. */
export interface AppliedEntry {
  index: number;
  data: Uint8Array;
}

/**
 * A create that apply refused:
 * - code_taken: the generated code belongs to another URL; the leader retries with a new code;
 * - alias_taken: the client's alias belongs to a live short URL;
 * - idempotency_key_reused: the key was first used with a different request.
 */
export interface CreateRefused {
  error: 'code_taken' | 'alias_taken' | 'idempotency_key_reused';
  code: string;
}

/** An update applied: the record as it is now. */
export interface UpdateResult {
  updated: UrlRecord;
}

/** An update apply refused: no such code, or the record had expired at the command's instant. */
export interface UpdateRefused {
  error: 'not_found' | 'expired';
  code: string;
  /** When it expired (for the 410 answer). */
  expiresAt?: number;
}

export interface DeleteResult {
  deleted: boolean;
  code: string;
}

export interface PurgeResult {
  purgedUrls: number;
  purgedKeys: number;
  /** The limit was reached: there may be more to purge. */
  more: boolean;
}

export type ApplyResult =
  CreateResult | CreateRefused | UpdateResult | UpdateRefused | DeleteResult | PurgeResult | VisitsResult;

export interface ApplyOutcome {
  index: number;
  result: ApplyResult;
}

export interface UrlStoreOptions {
  /** Tests only: a weak hash to exercise the collision path. Must never differ between nodes. */
  urlHasher?: UrlHasher;
  /** How long applied changes may wait in memory before they are written to LMDB. Default 50 ms. */
  flushIntervalMs?: number;
  /** Write to LMDB at once when this many changes are waiting. Default 10,000. */
  maxPendingRecords?: number;
}

/** One pending change of the expiry index: the key is added (present) or removed. */
interface PendingExpiry {
  key: Buffer;
  present: boolean;
}

export class UrlStore {
  private readonly tables: StoreTables;
  private readonly hashUrl: UrlHasher;
  private readonly flushIntervalMs: number;
  private readonly maxPendingRecords: number;

  // The overlay: applied but not yet in LMDB. Every read consults it first. null is a tombstone
  // (deleted or purged since the last flush), so a read does not fall through to LMDB's old value.
  /** urls: code -> record or tombstone. */
  private readonly pendingByCode = new Map<string, UrlRecord | null>();
  /** url-codes: exact URL -> its plain code, or null when that entry was removed. */
  private readonly pendingCodeByUrl = new Map<string, string | null>();
  /** url-codes entries to remove from LMDB (before the puts) at the next flush. */
  private pendingIndexRemovals: Array<{ url: string; code: string }> = [];
  /**
   * url-codes keys (the URL's hash) computed by apply, so the flush does not hash the same URL
   * again. Kept while the URL's index change is pending; dropped after the flush that writes it.
   */
  private readonly urlKeys = new Map<string, Buffer>();
  /** expiry index, by the key's bytes as a latin1 string. */
  private readonly pendingExpiry = new Map<string, PendingExpiry>();
  /** idempotency: key -> record or tombstone. */
  private readonly pendingKeys = new Map<string, IdempotencyRecord | null>();
  /** visits and visit-batches: their own overlay, flushed in the same transaction. */
  private readonly visitStore: VisitStore;
  /** The list indexes (by time, by tag): their own overlay, flushed in the same transaction. */
  private readonly linkIndexes: LinkIndexes;

  private applied: number;
  private count_: number;
  private lastPurgeNow_: number | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private flushError: unknown;

  constructor(
    private readonly root: RootDatabase,
    options: UrlStoreOptions = {},
  ) {
    this.tables = openStoreTables(root);
    this.visitStore = new VisitStore(this.tables);
    this.linkIndexes = new LinkIndexes(root);
    if (this.tables.meta.get(META_LIST_INDEX_VERSION) !== LIST_INDEX_VERSION) {
      // A data dir from before the list indexes: index what it holds, once.
      root.transactionSync(() => this.rebuildListIndexes());
    }
    this.hashUrl = options.urlHasher ?? sha256Url;
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.maxPendingRecords = options.maxPendingRecords ?? 10_000;
    this.applied = this.durableAppliedIndex;
    this.count_ = this.tables.meta.get(META_URL_COUNT) ?? 0;
    this.lastPurgeNow_ = this.tables.meta.get(META_LAST_PURGE_NOW);
  }

  /** The latest "now" of an applied purge (undefined: none yet); replicated like everything applied. */
  get lastPurgeNow(): number | undefined {
    return this.lastPurgeNow_;
  }

  /** The index of the last log entry applied (in memory or on disk); 0 for a fresh store. */
  get appliedIndex(): number {
    return this.applied;
  }

  /** The applied index as of the last flush: what a restart resumes from. */
  get durableAppliedIndex(): number {
    return this.tables.meta.get(META_APPLIED_INDEX) ?? 0;
  }

  /**
   * The record under `code`, expired or not (the caller compares expiresAt with its clock).
   * The hot path of every redirect: one map lookup, and one LMDB read when not pending.
   */
  get(code: string): UrlRecord | undefined {
    const pending = this.pendingByCode.get(code);
    if (pending !== undefined) return pending ?? undefined;
    // getBinaryFast avoids a copy; the record is decoded (copied out) before the next read reuses it.
    const value = this.tables.urls.getBinaryFast(code);
    return value === undefined ? undefined : decodeUrlRecord(code, value);
  }

  /** The plain (generated, non-expiring) code of `url`, if it has one. Never an alias. */
  codeForUrl(url: string): string | undefined {
    return this.plainCodeOf(url, this.hashUrl(url));
  }

  /**
   * codeForUrl, given the url-codes key of `url`: apply passes urlKey(url), which keeps the key
   * for the flush; a plain read hashes afresh and leaves nothing behind.
   */
  private plainCodeOf(url: string, hash: Buffer): string | undefined {
    const pending = this.pendingCodeByUrl.get(url);
    if (pending !== undefined) return pending ?? undefined;
    // Usually zero or one code; more only on a hash collision, told apart by comparing the URL.
    // get() (the first code) settles the usual cases without a cursor: every new URL is a miss.
    const first = this.tables.urlCodes.get(hash);
    if (first === undefined) return undefined;
    if (this.get(first)?.url === url) return first;
    for (const code of this.tables.urlCodes.getValues(hash)) {
      if (this.get(code)?.url === url) return code;
    }
    return undefined;
  }

  /** The url-codes key of `url`, hashed once while apply and the next flush need it. */
  private urlKey(url: string): Buffer {
    let key = this.urlKeys.get(url);
    if (key === undefined) {
      key = this.hashUrl(url);
      this.urlKeys.set(url, key);
    }
    return key;
  }

  /** The remembered idempotency key, alive or past its lifetime but not purged yet. */
  idempotencyKey(key: string): IdempotencyRecord | undefined {
    const pending = this.pendingKeys.get(key);
    if (pending !== undefined) return pending ?? undefined;
    const value = this.tables.idempotency.getBinaryFast(key);
    return value === undefined ? undefined : decodeIdempotencyRecord(key, value);
  }

  /** The visit statistics of `code` (undefined: none counted yet, or the code does not exist). */
  visits(code: string): VisitStats | undefined {
    return this.visitStore.stats(code);
  }

  /** The last visits batch applied from `origin`'s process `session` (0: none). */
  lastVisitBatch(origin: number, session: number): number {
    return this.visitStore.lastBatches(origin).find((m) => m.session === session)?.seq ?? 0;
  }

  /** One page of short URLs, newest first (link-index.ts), as applied here. */
  list(query: ListQuery): ListPage {
    return this.linkIndexes.list(query, (code) => this.get(code));
  }

  /** Inside a write transaction: the list indexes from the flushed `urls` table. */
  private rebuildListIndexes(): void {
    const records = (function* (urls: StoreTables['urls']) {
      for (const { key, value } of urls.getRange()) yield decodeUrlRecord(key, value);
    })(this.tables.urls);
    this.linkIndexes.rebuildSync(records);
    this.tables.meta.putSync(META_LIST_INDEX_VERSION, LIST_INDEX_VERSION);
  }

  /** How many short URLs exist (expired ones until they are purged). */
  count(): number {
    return this.count_;
  }

  /**
   * Whether a purge with these instants would remove anything: the leader asks before proposing
   * one, so an idle cluster writes no purge entries.
   */
  hasPurgeable(now: number, expiredBefore: number): boolean {
    return (
      this.expiredEntries(EXPIRY_KIND_URL, expiredBefore, 1).length > 0 ||
      this.expiredEntries(EXPIRY_KIND_IDEMPOTENCY_KEY, now, 1).length > 0
    );
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
   * A consistent view of the store as of its last flush (its index is durableAppliedIndex at the
   * moment of the call), for streaming a snapshot. The caller must close() it.
   */
  openSnapshotView(): StoreSnapshotView {
    return openStoreSnapshotView(this.root);
  }

  /**
   * A consistent view of the URL records as of the last flush (an export reads it). The caller
   * must close() it.
   */
  openRecordsView(): RecordsView {
    return openRecordsView(this.root, this.tables);
  }

  /**
   * Replaces the whole store with a verified snapshot file (one LMDB transaction, durable when
   * it resolves); everything applied in memory but not flushed is discarded, as the snapshot
   * supersedes it. Returns the file's header.
   */
  async installSnapshot(path: string, options: { appliedIndex?: number } = {}): Promise<SnapshotHeader> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    await this.flushing.catch(() => {});
    this.pendingByCode.clear();
    this.pendingCodeByUrl.clear();
    this.urlKeys.clear();
    this.pendingIndexRemovals = [];
    this.pendingExpiry.clear();
    this.pendingKeys.clear();
    this.visitStore.clear();
    this.linkIndexes.clear();
    const header = await installSnapshotFile(this.root, path, {
      ...options,
      afterLoad: () => this.rebuildListIndexes(),
    });
    this.applied = this.durableAppliedIndex;
    this.count_ = this.tables.meta.get(META_URL_COUNT) ?? 0;
    this.lastPurgeNow_ = this.tables.meta.get(META_LAST_PURGE_NOW);
    return header;
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

  private pendingSize(): number {
    return (
      this.pendingByCode.size +
      this.pendingKeys.size +
      this.pendingExpiry.size +
      this.visitStore.pendingSize +
      this.linkIndexes.pendingSize
    );
  }

  private scheduleFlush(): void {
    if (this.pendingSize() >= this.maxPendingRecords) {
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
    if (
      appliedAt === this.durableAppliedIndex &&
      this.pendingSize() === 0 &&
      this.pendingIndexRemovals.length === 0
    )
      return;
    // A snapshot of the overlay: what is applied meanwhile stays pending for the next flush.
    const records = [...this.pendingByCode];
    const codesByUrl = [...this.pendingCodeByUrl];
    const removals = this.pendingIndexRemovals;
    this.pendingIndexRemovals = [];
    const expiry = [...this.pendingExpiry];
    const keys = [...this.pendingKeys];
    const visits = this.visitStore.takePending();
    const listed = this.linkIndexes.takePending();
    const count = this.count_;
    const lastPurgeNow = this.lastPurgeNow_;
    try {
      await this.root.transaction(() => {
        const t = this.tables;
        for (const [code, record] of records) {
          if (record === null) t.urls.removeSync(code);
          else t.urls.putSync(code, encodeUrlRecord(record));
        }
        // Removals first: a URL whose code was deleted and then created anew has both.
        for (const { url, code } of removals) t.urlCodes.removeSync(this.urlKey(url), code);
        for (const [url, code] of codesByUrl) {
          if (code !== null) t.urlCodes.putSync(this.urlKey(url), code);
        }
        for (const [, e] of expiry) {
          if (e.present) t.expiry.putSync(e.key, EXPIRY_VALUE);
          else t.expiry.removeSync(e.key);
        }
        for (const [key, record] of keys) {
          if (record === null) t.idempotency.removeSync(key);
          else t.idempotency.putSync(key, encodeIdempotencyRecord(record));
        }
        this.visitStore.write(visits);
        this.linkIndexes.write(listed);
        t.meta.putSync(META_URL_COUNT, count);
        if (lastPurgeNow !== undefined) t.meta.putSync(META_LAST_PURGE_NOW, lastPurgeNow);
        t.meta.putSync(META_APPLIED_INDEX, appliedAt);
      });
    } catch (err) {
      this.flushError = err;
      throw err;
    }
    // Now readable from LMDB: drop from memory what has not changed since the snapshot.
    dropUnchanged(this.pendingByCode, records);
    dropUnchanged(this.pendingCodeByUrl, codesByUrl);
    // Keys of URLs no longer pending (written now, or only looked up) are not needed again soon.
    for (const url of this.urlKeys.keys()) if (!this.pendingCodeByUrl.has(url)) this.urlKeys.delete(url);
    dropUnchanged(this.pendingExpiry, expiry);
    dropUnchanged(this.pendingKeys, keys);
    this.visitStore.written(visits);
    this.linkIndexes.written(listed);
  }

  private applyCommand(command: UrlCommand): ApplyResult {
    switch (command.type) {
      case 'create':
        return this.applyCreate(command);
      case 'delete':
        return this.applyDelete(command);
      case 'purge':
        return this.applyPurge(command);
      case 'visits':
        return this.applyVisits(command);
      case 'update':
        return this.applyUpdate(command);
    }
  }

  private applyCreate(cmd: CreateCommand): CreateResult | CreateRefused {
    const { code, url, createdAt } = cmd;
    const stamp = cmd.idempotency;
    let previousKey: IdempotencyRecord | undefined;
    if (stamp !== undefined) {
      previousKey = this.idempotencyKey(stamp.key);
      // A key past its lifetime at this command's instant is forgotten, purged or not.
      if (previousKey !== undefined && previousKey.expiresAt > createdAt) {
        if (previousKey.fingerprint !== stamp.fingerprint) {
          return { error: 'idempotency_key_reused', code: previousKey.result.code };
        }
        return { ...previousKey.result, replayed: true };
      }
    }

    const plain =
      cmd.alias !== true &&
      cmd.expiresAt === undefined &&
      cmd.tags === undefined &&
      cmd.maxVisits === undefined;
    let result: CreateResult | undefined;
    if (plain) {
      // The URL check comes first: a retried proposal of the same URL with the same code is a
      // dedup, not a collision.
      const existingCode = this.plainCodeOf(url, this.urlKey(url));
      if (existingCode !== undefined) {
        const existing = this.get(existingCode);
        if (existing === undefined) throw new Error(`url-codes points at missing code ${existingCode}`);
        result = { ...existing, created: false };
      }
    }
    if (result === undefined) {
      const existing = this.get(code);
      if (existing !== undefined) {
        const expired = isExpired(existing, createdAt);
        if (!expired) return { error: cmd.alias === true ? 'alias_taken' : 'code_taken', code };
        this.removeRecord(existing);
      }
      const record: UrlRecord = { code, url, createdAt };
      if (cmd.expiresAt !== undefined) record.expiresAt = cmd.expiresAt;
      if (cmd.alias === true) record.alias = true;
      if (cmd.tags !== undefined && cmd.tags.length > 0) record.tags = cmd.tags;
      if (cmd.maxVisits !== undefined) record.maxVisits = cmd.maxVisits;
      // A plain create got here only because the URL has no plain code; a tagged one must look.
      const indexed = isIndexable(record) && (plain || this.plainCodeOf(url, this.urlKey(url)) === undefined);
      this.pendingByCode.set(code, record);
      if (indexed) this.pendingCodeByUrl.set(url, code);
      this.linkIndexes.add(record);
      if (record.expiresAt !== undefined) this.setExpiry(EXPIRY_KIND_URL, record.expiresAt, code, true);
      this.count_++;
      result = { ...record, created: true };
    }

    if (stamp !== undefined) {
      if (previousKey !== undefined) {
        this.setExpiry(EXPIRY_KIND_IDEMPOTENCY_KEY, previousKey.expiresAt, stamp.key, false);
      }
      this.pendingKeys.set(stamp.key, { fingerprint: stamp.fingerprint, expiresAt: stamp.expiresAt, result });
      this.setExpiry(EXPIRY_KIND_IDEMPOTENCY_KEY, stamp.expiresAt, stamp.key, true);
    }
    return result;
  }

  private applyUpdate(cmd: UpdateCommand): UpdateResult | UpdateRefused {
    const { code } = cmd;
    const existing = this.get(code);
    if (existing === undefined) return { error: 'not_found', code };
    if (existing.expiresAt !== undefined && existing.expiresAt <= cmd.updatedAt) {
      return { error: 'expired', code, expiresAt: existing.expiresAt };
    }
    const next: UrlRecord = { ...existing };
    if (cmd.url !== undefined) next.url = cmd.url;
    if (cmd.expiresAt === null) delete next.expiresAt;
    else if (cmd.expiresAt !== undefined) next.expiresAt = cmd.expiresAt;
    if (cmd.tags !== undefined) {
      if (cmd.tags.length > 0) next.tags = cmd.tags;
      else delete next.tags;
    }
    if (cmd.maxVisits === null) delete next.maxVisits;
    else if (cmd.maxVisits !== undefined) next.maxVisits = cmd.maxVisits;

    // Read before the new record is set: the index lookup compares the stored record's URL.
    const wasIndexed = this.isIndexed(existing);
    const staysIndexed = wasIndexed && next.url === existing.url && isIndexable(next);
    if (wasIndexed && !staysIndexed) {
      this.pendingIndexRemovals.push({ url: existing.url, code });
      this.pendingCodeByUrl.set(existing.url, null);
    }
    this.pendingByCode.set(code, next);
    this.linkIndexes.retag(next, existing.tags ?? [], next.tags ?? []);
    if (
      !staysIndexed &&
      isIndexable(next) &&
      this.plainCodeOf(next.url, this.urlKey(next.url)) === undefined
    ) {
      this.pendingCodeByUrl.set(next.url, code);
    }
    if (existing.expiresAt !== next.expiresAt) {
      if (existing.expiresAt !== undefined) this.setExpiry(EXPIRY_KIND_URL, existing.expiresAt, code, false);
      if (next.expiresAt !== undefined) this.setExpiry(EXPIRY_KIND_URL, next.expiresAt, code, true);
    }
    return { updated: next };
  }

  /** Whether the "same URL, same code" index holds this record's code for its URL. */
  private isIndexed(record: UrlRecord): boolean {
    return isIndexable(record) && this.plainCodeOf(record.url, this.urlKey(record.url)) === record.code;
  }

  private applyDelete({ code }: DeleteCommand): DeleteResult {
    const existing = this.get(code);
    if (existing === undefined) return { deleted: false, code };
    this.removeRecord(existing);
    return { deleted: true, code };
  }

  private applyPurge({ now, expiredBefore, limit }: PurgeCommand): PurgeResult {
    this.lastPurgeNow_ = Math.max(now, this.lastPurgeNow_ ?? now);
    const urls = this.expiredEntries(EXPIRY_KIND_URL, expiredBefore, limit);
    for (const { at, id } of urls) {
      const record = this.get(id);
      if (record !== undefined && record.expiresAt === at) this.removeRecord(record);
      else this.setExpiry(EXPIRY_KIND_URL, at, id, false); // defensive: a dangling index entry
    }
    const budget = limit - urls.length;
    const keys = budget > 0 ? this.expiredEntries(EXPIRY_KIND_IDEMPOTENCY_KEY, now, budget) : [];
    for (const { at, id } of keys) {
      this.pendingKeys.set(id, null);
      this.setExpiry(EXPIRY_KIND_IDEMPOTENCY_KEY, at, id, false);
    }
    return { purgedUrls: urls.length, purgedKeys: keys.length, more: urls.length + keys.length >= limit };
  }

  private applyVisits(cmd: VisitsCommand): VisitsResult {
    return this.visitStore.apply(cmd, (code) => this.get(code));
  }

  /** Removes a record and every index entry that points at it. */
  private removeRecord(record: UrlRecord): void {
    // The index is checked before the tombstone is set: codeForUrl reads the record to compare URLs.
    if (this.isIndexed(record)) {
      this.pendingIndexRemovals.push({ url: record.url, code: record.code });
      this.pendingCodeByUrl.set(record.url, null);
    }
    this.pendingByCode.set(record.code, null);
    this.linkIndexes.remove(record);
    if (record.expiresAt !== undefined) this.setExpiry(EXPIRY_KIND_URL, record.expiresAt, record.code, false);
    this.visitStore.drop(record.code);
    this.count_--;
  }

  private setExpiry(kind: ExpiryKind, at: number, id: string, present: boolean): void {
    const key = expiryKey(kind, at, id);
    this.pendingExpiry.set(key.toString('latin1'), { key, present });
  }

  /**
   * The first `limit` entries of the expiry index of `kind` at or before `bound`, in key order,
   * over LMDB and the overlay merged. The result must not depend on what happens to be flushed
   * (that differs between nodes), so both sources are merged in the one order LMDB defines.
   */
  private expiredEntries(
    kind: ExpiryKind,
    bound: number,
    limit: number,
  ): Array<{ key: Buffer; at: number; id: string }> {
    const inBound = (key: Buffer) => key[0] === kind && key.readDoubleBE(1) <= bound;
    const added = [...this.pendingExpiry.values()]
      .filter((e) => e.present && inBound(e.key))
      .map((e) => e.key)
      .sort(Buffer.compare);
    const out: Array<{ key: Buffer; at: number; id: string }> = [];
    const take = (key: Buffer) => {
      const { at, id } = parseExpiryKey(key);
      out.push({ key, at, id });
    };
    let a = 0;
    const start = expiryKey(kind, 0, '');
    const end = Buffer.from([kind + 1]);
    for (const { key: stored } of this.tables.expiry.getRange({ start, end })) {
      if (out.length >= limit) break;
      const key = Buffer.from(stored);
      if (!inBound(key)) break;
      // Whatever the overlay says about this key wins (removed, or re-added and so in `added`).
      if (this.pendingExpiry.has(key.toString('latin1'))) continue;
      while (a < added.length && out.length < limit && Buffer.compare(added[a]!, key) < 0) take(added[a++]!);
      if (out.length < limit) take(key);
    }
    while (a < added.length && out.length < limit) take(added[a++]!);
    return out;
  }
}

const EXPIRY_VALUE = Buffer.from([1]);

/**
 * Whether a record may be the answer of "same URL, same code": a generated code that neither
 * expires nor runs out of visits (a plain create must get a link that keeps working).
 */
function isIndexable(record: UrlRecord): boolean {
  return record.alias !== true && record.expiresAt === undefined && record.maxVisits === undefined;
}

/** After a flush: forget the overlay entries that still hold what was written. */
function dropUnchanged<K, V>(pending: Map<K, V>, written: ReadonlyArray<readonly [K, V]>): void {
  for (const [key, value] of written) {
    if (pending.get(key) === value) pending.delete(key);
  }
}
