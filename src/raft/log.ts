// The in-memory view of a node's Raft log: a compacted prefix (the snapshot), the entries after
// it, and three cursors — what is durable (persisted), what is committed, what was handed out
// for application (applied). Invariant: snapshotIndex ≤ applied ≤ committed ≤ lastIndex, and
// applied ≤ persisted (we never apply what this node could lose in a crash).
import type { Entry } from './types.js';

export class RaftLog {
  private entries: Entry[];
  snapshotIndex: number;
  snapshotTerm: number;
  committed: number;
  applied: number;
  /** Entries up to here are known to be on this node's disk. Entries after it are "unstable". */
  persisted: number;

  constructor(opts: {
    snapshotIndex: number;
    snapshotTerm: number;
    entries: Entry[];
    commit: number;
    applied: number;
  }) {
    this.snapshotIndex = opts.snapshotIndex;
    this.snapshotTerm = opts.snapshotTerm;
    this.entries = opts.entries.slice();
    for (let i = 0; i < this.entries.length; i++) {
      if (this.entries[i].index !== this.snapshotIndex + 1 + i) {
        throw new Error(`log is not contiguous at position ${i} (index ${this.entries[i].index})`);
      }
    }
    this.persisted = this.lastIndex();
    this.applied = Math.max(opts.applied, this.snapshotIndex);
    this.committed = Math.min(Math.max(opts.commit, this.applied), this.lastIndex());
    if (this.applied > this.lastIndex()) {
      throw new Error(`applied index ${this.applied} is beyond the last log index ${this.lastIndex()}`);
    }
  }

  firstIndex(): number {
    return this.snapshotIndex + 1;
  }

  lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** The term of the entry at `index`; undefined when compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshotIndex - 1].term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.snapshotIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshotIndex - 1];
  }

  /** Raft §5.4.1: is a candidate's log at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * AppendEntries on a follower. Returns the index of the last entry the leader's message covers,
   * or undefined when the entry before them does not match (the leader must back up).
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, ents: Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new Error(`entry ${conflict} conflicts with a committed entry (committed=${this.committed})`);
      }
      this.append(ents.slice(conflict - ents[0].index));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /** The first entry of `ents` whose term differs from ours or that we lack; 0 if none. */
  private findConflict(ents: Entry[]): number {
    for (const e of ents) {
      // Entries at or below the snapshot are committed, hence identical to the leader's.
      if (e.index <= this.snapshotIndex) continue;
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /** Appends entries, replacing any we have at the same or higher indexes. */
  append(ents: Entry[]): void {
    if (ents.length === 0) return;
    const first = ents[0].index;
    if (first <= this.committed) throw new Error(`append at ${first} would overwrite committed entries`);
    if (first > this.lastIndex() + 1)
      throw new Error(`append at ${first} leaves a gap after ${this.lastIndex()}`);
    this.entries.length = first - this.snapshotIndex - 1;
    for (const e of ents) this.entries.push(e);
    // Whatever we had on disk from `first` on is now stale: it must be rewritten.
    this.persisted = Math.min(this.persisted, first - 1);
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) {
      throw new Error(`commit index ${index} is beyond the last log index ${this.lastIndex()}`);
    }
    this.committed = index;
  }

  /** Marks entries up to `index` durable, unless the log changed under the write (term differs). */
  stableTo(index: number, term: number): void {
    if (index > this.persisted && this.matchTerm(index, term)) this.persisted = index;
  }

  /** Entries not yet known to be durable. */
  unstableEntries(): Entry[] {
    return this.entries.slice(this.persisted - this.snapshotIndex);
  }

  /** Committed, durable entries not yet handed out for application, at most `max` of them. */
  nextCommittedEntries(max: number): Entry[] {
    const hi = Math.min(this.committed, this.persisted, this.applied + max);
    if (hi <= this.applied) return [];
    return this.slice(this.applied + 1, hi + 1, Number.POSITIVE_INFINITY, max);
  }

  hasNextCommittedEntries(): boolean {
    return Math.min(this.committed, this.persisted) > this.applied;
  }

  appliedTo(index: number): void {
    if (index > this.applied) this.applied = index;
  }

  /** Entries in [lo, hi), at most maxCount, and stopping once maxBytes of data is reached (at least one). */
  slice(lo: number, hi: number, maxBytes: number, maxCount: number): Entry[] {
    if (lo <= this.snapshotIndex)
      throw new Error(`entries below ${lo} are compacted (snapshot ${this.snapshotIndex})`);
    const end = Math.min(hi, this.lastIndex() + 1, lo + maxCount);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < end; i++) {
      const e = this.entries[i - this.snapshotIndex - 1];
      bytes += e.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /**
   * For fast backtracking: the largest index ≤ `index` whose term is ≤ `term`, with that term.
   * Everything after it is certain not to match a log whose entry at `index` has `term`.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = Math.min(index, this.lastIndex()); i > 0; i--) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  /** Replaces the whole log by a snapshot (used when the leader sends one we cannot match). */
  restoreSnapshot(index: number, term: number): void {
    this.entries = [];
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    this.committed = index;
    this.applied = index;
    this.persisted = index;
  }

  /** Drops entries ≤ index (already in a snapshot); they must be applied. */
  compact(index: number, term: number): void {
    if (index <= this.snapshotIndex) return;
    if (index > this.applied) throw new Error(`cannot compact ${index}: only ${this.applied} applied`);
    this.entries = this.entries.slice(index - this.snapshotIndex);
    this.snapshotIndex = index;
    this.snapshotTerm = term;
  }
}
