// The "now" of the leader's next purge. A purge removes what expired before an instant the leader
// decides, and every node applies that instant as it is: a leader whose wall clock is far ahead
// (a bad NTP step, a VM restored with the wrong time) would purge live short URLs everywhere.
//
// So the leader never takes its wall clock further than the last applied purge's "now" plus the
// time it has measured itself on its monotonic clock since it first saw that purge, plus a small
// allowance for the purge interval and the time before this leader started (`allowanceMs`). With
// an allowance no longer than the expired retention, a purge never removes a short URL that had
// not yet expired when the last truthful purge was applied, however wrong this leader's clock is.
// The price: after the whole cluster was down longer than the allowance, purges lag the clock by
// the difference (expired codes answer 410 a little longer before they become 404).

export interface PurgeInstant {
  /** The instant the purge may use. */
  now: number;
  /** How far the wall clock was ahead of what this leader could vouch for (0: not held back). */
  heldBackMs: number;
}

export class PurgeClock {
  /** The last applied purge's "now" when this process first saw it, and its monotonic time then. */
  private anchor: { at: number; mono: number } | undefined;

  constructor(private readonly monotonic: () => number = () => performance.now()) {}

  /**
   * The purge instant for `wallNow`, given the latest "now" of an applied purge (undefined when
   * the cluster never purged: then there is nothing to measure against, and the wall clock is used).
   */
  decide(wallNow: number, lastPurgeNow: number | undefined, allowanceMs: number): PurgeInstant {
    if (lastPurgeNow === undefined) return { now: wallNow, heldBackMs: 0 };
    const mono = this.monotonic();
    // A store replaced by an older snapshot: measure from what it says now.
    if (this.anchor === undefined || lastPurgeNow < this.anchor.at) this.anchor = { at: lastPurgeNow, mono };
    const vouched = this.anchor.at + allowanceMs + (mono - this.anchor.mono);
    // Never below what the cluster has applied already: another leader may have measured further.
    const limit = Math.max(lastPurgeNow, vouched);
    return wallNow <= limit ? { now: wallNow, heldBackMs: 0 } : { now: limit, heldBackMs: wallNow - limit };
  }
}
