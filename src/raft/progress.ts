// The leader's view of one follower's log (Raft's nextIndex/matchIndex), with etcd's flow states:
// Probe (one AppendEntries at a time until we find where logs match), Replicate (optimistic
// pipelining within a bounded window) and Snapshot (waiting for a snapshot to be installed).

export enum ProgressState {
  Probe = 'probe',
  Replicate = 'replicate',
  Snapshot = 'snapshot',
}

/** A bounded window of in-flight AppendEntries, remembered by the last index each carried. */
export class Inflights {
  private readonly lastIndexes: number[] = [];
  constructor(readonly capacity: number) {}

  get count(): number {
    return this.lastIndexes.length;
  }

  full(): boolean {
    return this.lastIndexes.length >= this.capacity;
  }

  add(lastIndex: number): void {
    this.lastIndexes.push(lastIndex);
  }

  /** The follower acknowledged up to `index`: every message that ended at or before it is done. */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.lastIndexes.length && this.lastIndexes[n] <= index) n++;
    if (n > 0) this.lastIndexes.splice(0, n);
  }

  freeFirstOne(): void {
    this.lastIndexes.shift();
  }

  reset(): void {
    this.lastIndexes.length = 0;
  }
}

export class Progress {
  matchIndex = 0;
  nextIndex: number;
  state = ProgressState.Probe;
  /** Probe state: an AppendEntries is outstanding, wait for its answer (or a heartbeat reply). */
  probeSent = false;
  /** Set by any message from the follower; CheckQuorum reads and clears it. */
  recentActive = false;
  pendingSnapshot = 0;
  readonly inflights: Inflights;

  constructor(
    nextIndex: number,
    maxInflight: number,
    public isLearner: boolean,
  ) {
    this.nextIndex = nextIndex;
    this.inflights = new Inflights(maxInflight);
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      // Resume right after the snapshot we sent, or after what the follower confirmed.
      this.nextIndex = Math.max(this.matchIndex + 1, this.pendingSnapshot + 1);
      this.pendingSnapshot = 0;
    } else {
      this.nextIndex = this.matchIndex + 1;
    }
    this.state = ProgressState.Probe;
    this.probeSent = false;
    this.inflights.reset();
  }

  becomeReplicate(): void {
    this.state = ProgressState.Replicate;
    this.nextIndex = this.matchIndex + 1;
    this.probeSent = false;
    this.inflights.reset();
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.state = ProgressState.Snapshot;
    this.pendingSnapshot = snapshotIndex;
    this.probeSent = false;
    this.inflights.reset();
  }

  /** The follower confirmed it matches up to `index`. Returns false for a stale acknowledgement. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.matchIndex < index) {
      this.matchIndex = index;
      updated = true;
      this.probeSent = false;
    }
    this.nextIndex = Math.max(this.nextIndex, index + 1);
    return updated;
  }

  /**
   * The follower rejected an AppendEntries whose previous index was `rejected`; `matchHint` is
   * where the logs may still agree. Returns false when the rejection is stale (already handled).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.matchIndex) return false;
      this.nextIndex = this.matchIndex + 1;
      return true;
    }
    if (this.nextIndex - 1 !== rejected) return false;
    this.nextIndex = Math.max(Math.min(rejected, matchHint + 1), this.matchIndex + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** An AppendEntries ending at `lastIndex` (or carrying nothing when undefined) was just sent. */
  sentEntries(lastIndex: number | undefined): void {
    if (this.state === ProgressState.Replicate) {
      if (lastIndex !== undefined) {
        this.nextIndex = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else if (this.state === ProgressState.Probe) {
      this.probeSent = true;
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }
}
