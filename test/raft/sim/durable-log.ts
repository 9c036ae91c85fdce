// A node's log as it is on its (simulated) disk. Next to each index it keeps a *prefix id*: a small
// integer that names the whole log prefix 1..i exactly (interned, so no hash collisions). Two logs
// have equal prefix ids at i iff their entries 1..i are identical, which turns log matching,
// "committed entries never change" and leader completeness into O(1) comparisons.
import type { Entry } from '../../../src/raft/types.js';
import { bytesKey, cloneEntry } from './messages.js';

/** Shared by all nodes of one run, so prefix ids are comparable across nodes and across time. */
export class PrefixInterner {
  private readonly ids = new Map<string, number>();

  idFor(prevId: number, e: Entry): number {
    const key = `${prevId}|${e.term}|${e.type}|${bytesKey(e.data)}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.ids.size + 1; // 0 names the empty prefix
      this.ids.set(key, id);
    }
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
  private entries: Entry[] = [];
  /** prefixIds[i] names entries 1..i; prefixIds[0] = 0 is the empty log. */
  private prefixIds: number[] = [0];

  constructor(private readonly interner: PrefixInterner) {}

  lastIndex(): number {
    return this.entries.length;
  }

  lastTerm(): number {
    return this.entries.length ? this.entries[this.entries.length - 1].term : 0;
  }

  entryAt(i: number): Entry {
    if (i < 1 || i > this.entries.length) throw new Error(`no entry ${i} (last ${this.entries.length})`);
    return this.entries[i - 1];
  }

  termAt(i: number): number {
    return i === 0 ? 0 : this.entryAt(i).term;
  }

  prefixId(i: number): number {
    if (i < 0 || i > this.entries.length) throw new Error(`no prefix ${i} (last ${this.entries.length})`);
    return this.prefixIds[i];
  }

  /**
   * The Ready contract: `ents` replace stored entries at the same or higher index (truncate at
   * ents[0].index, then append). Throws if the write would leave a hole.
   */
  write(ents: readonly Entry[]): WriteResult {
    const oldLastIndex = this.entries.length;
    if (ents.length === 0) return { oldLastIndex, firstChanged: Infinity };
    const first = ents[0].index;
    if (first < 1 || first > oldLastIndex + 1) {
      throw new Error(`Ready entries start at ${first} but the stored log ends at ${oldLastIndex}`);
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
    this.entries.length = first - 1;
    this.prefixIds.length = first;
    for (const e of ents) {
      this.entries.push(cloneEntry(e));
      this.prefixIds.push(this.interner.idFor(this.prefixIds[this.prefixIds.length - 1], e));
    }
    return { oldLastIndex, firstChanged };
  }

  /** A copy to hand to a restarting core (it must not be able to modify our disk). */
  snapshotEntries(): Entry[] {
    return this.entries.map(cloneEntry);
  }
}
