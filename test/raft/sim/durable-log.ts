// A node's log as it is on its (simulated) disk: a snapshot (compacted prefix) and the entries after
// it. Next to each index it keeps a *prefix id*: a small integer that names the whole log prefix
// 1..i exactly (interned, so no hash collisions). Two logs have equal prefix ids at i iff their
// entries 1..i are identical, which turns log matching, "committed entries never change" and leader
// completeness into O(1) comparisons. Prefix ids are kept below the snapshot too: the snapshot
// stands for exactly that prefix (the harness checks it when it is taken or installed), so the
// checks keep working on a compacted log.
import type { Entry } from '../../../src/raft/types.js';
import { bytesKey, cloneEntry } from './messages.js';

/** Shared by all nodes of one run, so prefix ids are comparable across nodes and across time. */
export class PrefixInterner {
  private readonly ids = new Map<string, number>();
  /** parent[id] is the prefix id one entry shorter (parent[0] is unused). */
  private readonly parent: number[] = [0];

  idFor(prevId: number, e: Entry): number {
    const key = `${prevId}|${e.term}|${e.type}|${bytesKey(e.data)}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.ids.size + 1; // 0 names the empty prefix
      this.ids.set(key, id);
      this.parent[id] = prevId;
    }
    return id;
  }

  /** The prefix id `steps` entries shorter than `id` (which names a prefix of length ≥ steps). */
  ancestor(id: number, steps: number): number {
    for (let k = 0; k < steps; k++) id = this.parent[id];
    return id;
  }
}

export interface WriteResult {
  /** Last index before the write. */
  oldLastIndex: number;
  /** First index whose stored entry was replaced by a different one (Infinity if none). */
  firstChanged: number;
}

export class DurableLog {
  /** Entries snapshotIndex+1 .. lastIndex. */
  private entries: Entry[] = [];
  /** prefixIds[i] names entries 1..i, for every i ≤ lastIndex; prefixIds[0] = 0 is the empty log. */
  private prefixIds: number[] = [0];
  snapshotIndex = 0;
  snapshotTerm = 0;

  constructor(private readonly interner: PrefixInterner) {}

  lastIndex(): number {
    return this.prefixIds.length - 1;
  }

  lastTerm(): number {
    return this.entries.length ? this.entries[this.entries.length - 1].term : this.snapshotTerm;
  }

  entryAt(i: number): Entry {
    if (i <= this.snapshotIndex || i > this.lastIndex()) {
      throw new Error(`no entry ${i} (snapshot ${this.snapshotIndex}, last ${this.lastIndex()})`);
    }
    return this.entries[i - this.snapshotIndex - 1];
  }

  termAt(i: number): number {
    if (i === this.snapshotIndex) return this.snapshotTerm;
    if (i === 0) return 0;
    return this.entryAt(i).term;
  }

  prefixId(i: number): number {
    if (i < 0 || i > this.lastIndex()) throw new Error(`no prefix ${i} (last ${this.lastIndex()})`);
    return this.prefixIds[i];
  }

  /** Prefix ids 0..index, to travel with a snapshot taken at `index` (harness bookkeeping only). */
  prefixIdsUpTo(index: number): number[] {
    if (index > this.lastIndex()) throw new Error(`no prefix ${index} (last ${this.lastIndex()})`);
    return this.prefixIds.slice(0, index + 1);
  }

  /**
   * The Ready contract: `ents` replace stored entries at the same or higher index (truncate at
   * ents[0].index, then append). Throws if the write would leave a hole or rewrite the snapshot.
   */
  write(ents: readonly Entry[]): WriteResult {
    const oldLastIndex = this.lastIndex();
    if (ents.length === 0) return { oldLastIndex, firstChanged: Infinity };
    const first = ents[0].index;
    if (first <= this.snapshotIndex || first > oldLastIndex + 1) {
      throw new Error(
        `Ready entries start at ${first} but the stored log holds a snapshot at ${this.snapshotIndex} and ends at ${oldLastIndex}`,
      );
    }
    ents.forEach((e, k) => {
      if (e.index !== first + k) throw new Error(`Ready entries not contiguous at ${e.index}`);
    });
    let firstChanged = Infinity;
    for (let i = first; i <= oldLastIndex && i < first + ents.length; i++) {
      if (this.prefixIds[i] !== this.interner.idFor(this.prefixIds[i - 1], ents[i - first])) {
        firstChanged = i;
        break;
      }
    }
    if (first + ents.length - 1 < oldLastIndex && firstChanged === Infinity) {
      firstChanged = first + ents.length; // a shorter rewrite drops stored entries
    }
    this.entries.length = first - this.snapshotIndex - 1;
    this.prefixIds.length = first;
    for (const e of ents) {
      this.entries.push(cloneEntry(e));
      this.prefixIds.push(this.interner.idFor(this.prefixIds[this.prefixIds.length - 1], e));
    }
    return { oldLastIndex, firstChanged };
  }

  /** Log compaction: entries up to `index` are dropped (a snapshot now stands for them). */
  compact(index: number): void {
    if (index <= this.snapshotIndex || index > this.lastIndex()) {
      throw new Error(`cannot compact to ${index}: snapshot ${this.snapshotIndex}, last ${this.lastIndex()}`);
    }
    this.snapshotTerm = this.termAt(index);
    this.entries = this.entries.slice(index - this.snapshotIndex);
    this.snapshotIndex = index;
  }

  /**
   * Installing a snapshot from the leader supersedes the whole log (Raft's InstallSnapshot rule 7:
   * the core only hands one out when its log does not hold the snapshot's last entry).
   */
  restore(index: number, term: number, prefixIds: readonly number[]): WriteResult {
    if (prefixIds.length !== index + 1)
      throw new Error(`a snapshot at ${index} needs ${index + 1} prefix ids`);
    const oldLastIndex = this.lastIndex();
    let firstChanged = Infinity;
    for (let i = 1; i <= oldLastIndex; i++) {
      if (i > index || this.prefixIds[i] !== prefixIds[i]) {
        firstChanged = i;
        break;
      }
    }
    this.entries = [];
    this.prefixIds = prefixIds.slice();
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    return { oldLastIndex, firstChanged };
  }

  /** The entries after the snapshot, copied for a restarting core (it must not modify our disk). */
  storedEntries(): Entry[] {
    return this.entries.map(cloneEntry);
  }
}
