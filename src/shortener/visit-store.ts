// The visit-statistics part of the URL store: applies `visits` commands and keeps what they
// changed in an in-memory overlay until UrlStore's flush writes it, in the same LMDB transaction
// as the rest of the store and its applied index (see url-store.ts).
//
// Two sub-databases (store-layout.ts):
//   visits         code -> visit statistics (visit-stats.ts)
//   visit-batches  origin node id -> the last batch applied from each of its latest sessions:
//                  version (1) | uint8 n | n x (uint32 session | float64 seq), most recent session
//                  first, at most MAX_SESSIONS. A batch whose seq is not above the last one of its
//                  origin and session was applied already (a retry) or was overtaken by a later
//                  batch of the same process (given up on by its sender); either way it is
//                  skipped, so a batch never counts twice. Several sessions are remembered so that a
//                  batch of a process that has since restarted (still in flight when it died) is
//                  recognised too.

import type { UrlRecord } from '../domain/records.js';
import type { VisitsCommand } from './commands.js';
import type { StoreTables } from './store-layout.js';
import { addVisits, decodeVisitStats, encodeVisitStats, type VisitStats } from './visit-stats.js';

export interface VisitsResult {
  /** 'duplicate': this batch (or a later one of the same process) was applied before; nothing changed. */
  visitBatch: 'applied' | 'duplicate';
  /** Visits added to the statistics (those of deleted or re-created codes are dropped). */
  counted: number;
}

export interface BatchMark {
  session: number;
  seq: number;
}

const MARK_VERSION = 1;
/** Sessions remembered per origin: a node restarting this often within one batch's flight is absurd. */
const MAX_SESSIONS = 8;
const MARK_BYTES = 4 + 8;

function encodeMarks(marks: readonly BatchMark[]): Buffer {
  const out = Buffer.allocUnsafe(2 + marks.length * MARK_BYTES);
  let offset = out.writeUInt8(MARK_VERSION, 0);
  offset = out.writeUInt8(marks.length, offset);
  for (const { session, seq } of marks) {
    offset = out.writeUInt32BE(session, offset);
    offset = out.writeDoubleBE(seq, offset);
  }
  return out;
}

function decodeMarks(origin: number, value: Uint8Array): BatchMark[] {
  const b = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (b.length < 2 || b[0] !== MARK_VERSION || b.length !== 2 + b[1]! * MARK_BYTES) {
    throw new Error(`stored visit batch marks of node ${origin} are corrupt or of an unknown version`);
  }
  const marks: BatchMark[] = [];
  for (let offset = 2; offset < b.length; offset += MARK_BYTES) {
    marks.push({ session: b.readUInt32BE(offset), seq: b.readDoubleBE(offset + 4) });
  }
  return marks;
}

/** What one flush writes: a copy of the overlay taken when the flush starts. */
export interface VisitPending {
  stats: Array<[string, VisitStats | null]>;
  marks: Array<[number, readonly BatchMark[]]>;
}

export class VisitStore {
  /** code -> statistics, or null (a tombstone: the code was deleted or purged since the last flush). */
  private readonly pendingStats = new Map<string, VisitStats | null>();
  private readonly pendingMarks = new Map<number, readonly BatchMark[]>();

  constructor(private readonly tables: Pick<StoreTables, 'visits' | 'visitBatches'>) {}

  /** The statistics of `code`, applied in memory or on disk; undefined when it has none. */
  stats(code: string): VisitStats | undefined {
    const pending = this.pendingStats.get(code);
    if (pending !== undefined) return pending ?? undefined;
    const value = this.tables.visits.getBinaryFast(code);
    return value === undefined ? undefined : decodeVisitStats(code, value);
  }

  /** The last batch applied from each recent session of `origin`, most recent session first. */
  lastBatches(origin: number): readonly BatchMark[] {
    const pending = this.pendingMarks.get(origin);
    if (pending !== undefined) return pending;
    const value = this.tables.visitBatches.getBinaryFast(origin);
    return value === undefined ? [] : decodeMarks(origin, value);
  }

  /**
   * Applies a batch. `recordOf` reads the URL store: visits count only for a code whose record is
   * the one they were counted for (same createdAt), so a deleted code gains nothing and an alias
   * taken again starts from zero.
   */
  apply(cmd: VisitsCommand, recordOf: (code: string) => UrlRecord | undefined): VisitsResult {
    const marks = this.lastBatches(cmd.origin);
    const last = marks.find((m) => m.session === cmd.session);
    if (last !== undefined && cmd.seq <= last.seq) return { visitBatch: 'duplicate', counted: 0 };
    const others = marks.filter((m) => m.session !== cmd.session);
    this.pendingMarks.set(
      cmd.origin,
      [{ session: cmd.session, seq: cmd.seq }, ...others].slice(0, MAX_SESSIONS),
    );
    let counted = 0;
    for (const { code, createdAt, day, count } of cmd.visits) {
      if (recordOf(code)?.createdAt !== createdAt) continue;
      this.pendingStats.set(code, addVisits(this.stats(code), day, count));
      counted += count;
    }
    return { visitBatch: 'applied', counted };
  }

  /** The code's record is gone: its statistics go with it. */
  drop(code: string): void {
    if (this.stats(code) !== undefined) this.pendingStats.set(code, null);
  }

  /** Changes waiting for a flush. */
  get pendingSize(): number {
    return this.pendingStats.size + this.pendingMarks.size;
  }

  /** Forgets everything not flushed (the store was replaced, e.g. by a snapshot). */
  clear(): void {
    this.pendingStats.clear();
    this.pendingMarks.clear();
  }

  /** The overlay as it is now; what is applied afterwards stays pending for the next flush. */
  takePending(): VisitPending {
    return { stats: [...this.pendingStats], marks: [...this.pendingMarks] };
  }

  /** Inside the store's flush transaction. */
  write({ stats, marks }: VisitPending): void {
    for (const [code, value] of stats) {
      if (value === null) this.tables.visits.removeSync(code);
      else this.tables.visits.putSync(code, encodeVisitStats(value));
    }
    for (const [origin, list] of marks) this.tables.visitBatches.putSync(origin, encodeMarks(list));
  }

  /** After the flush committed: drop from memory what has not changed since takePending. */
  written({ stats, marks }: VisitPending): void {
    for (const [code, value] of stats) {
      if (this.pendingStats.get(code) === value) this.pendingStats.delete(code);
    }
    for (const [origin, list] of marks) {
      if (this.pendingMarks.get(origin) === list) this.pendingMarks.delete(origin);
    }
  }
}
