// The shape of the log without its contents: which indexes it holds, the term of each (as runs),
// and the latest snapshot. One set of rules, applied in the same order both when replaying the
// segments and when saving live, so that what a running store reports (firstIndex, lastIndex)
// is exactly what a reopen would find.
import type { SnapshotMeta } from '../../../raft/types.js';

export class LogIndex {
  snapshot: SnapshotMeta | undefined;
  /** The log holds [first, last]; empty when last < first. Always first > snapshot index. */
  first = 1;
  last = 0;
  /** Where each term starts within [first, last], ascending. */
  private runs: Array<{ index: number; term: number }> = [];

  get snapshotIndex(): number {
    return this.snapshot?.index ?? 0;
  }

  get isEmpty(): boolean {
    return this.last < this.first;
  }

  /** Term of the entry at `index`; the snapshot's term at its index (0 at index 0); else undefined. */
  termAt(index: number): number | undefined {
    if (index >= this.first && index <= this.last) {
      for (let k = this.runs.length - 1; k >= 0; k--)
        if (this.runs[k].index <= index) return this.runs[k].term;
    }
    if (index === this.snapshotIndex) return this.snapshot?.term ?? 0;
    return undefined;
  }

  /** Entry `index` replaces every entry at index >= `index` (a conflicting suffix), then is appended. */
  append(index: number, term: number): void {
    if (index <= this.last) {
      this.last = index - 1;
      while (this.runs.length > 0 && this.runs[this.runs.length - 1].index >= index) this.runs.pop();
    }
    if (this.isEmpty) {
      this.first = index;
      this.runs = [];
    }
    this.last = index;
    if (this.runs.length === 0 || this.runs[this.runs.length - 1].term !== term)
      this.runs.push({ index, term });
  }

  /**
   * Raft's rule for a snapshot (§7; etcd's ApplySnapshot): if the log holds the snapshot's last
   * entry with the snapshot's term, the entries after it stay and those up to it go; otherwise
   * the whole log is superseded by the snapshot and goes. A log entirely after the snapshot (a
   * second snapshot at the same index) is left alone.
   */
  applySnapshot(snapshot: SnapshotMeta): void {
    const at = snapshot.index;
    if (!this.isEmpty && at >= this.first && this.termAt(at) === snapshot.term) {
      const nextTerm = at < this.last ? this.termAt(at + 1) : undefined;
      this.runs = this.runs.filter((run) => run.index > at + 1);
      if (nextTerm !== undefined) this.runs.unshift({ index: at + 1, term: nextTerm });
      this.first = at + 1;
    } else if (this.isEmpty || at >= this.first) {
      this.runs = [];
      this.first = at + 1;
      this.last = at;
    }
    this.snapshot = {
      index: snapshot.index,
      term: snapshot.term,
      confState: { voters: [...snapshot.confState.voters], learners: [...snapshot.confState.learners] },
    };
  }
}
