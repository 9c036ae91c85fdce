// One ReadIndex round shared by every caller that asked while it was not yet sent: "has this node
// applied everything the leader had committed when I asked?". A follower's redirect miss waits
// for one before its 404, so a code created a moment ago on the leader (and acknowledged there)
// is found even if the balancer sends the click to another node.
//
// At most one round is in flight. A caller arriving while one is in flight waits for the next:
// the round in flight may have learnt the commit index before the caller's code was committed,
// so joining it would not be safe. A stream of misses therefore costs one round per round-trip,
// not one per miss.
export class ReadBarrier {
  /** The round in flight, if any. */
  private current: Promise<boolean> | undefined;
  /** The round after it, shared by everyone who asked meanwhile. */
  private next: Promise<boolean> | undefined;

  /**
   * `readIndex` resolves once this node has applied what the leader had committed when it was
   * called, and rejects (or throws) when that cannot be known: no leader, timeout, stopped.
   */
  constructor(
    private readonly readIndex: (timeoutMs: number) => Promise<unknown>,
    private readonly timeoutMs: number,
  ) {}

  /** True when a round that started after this call succeeded; false when it could not. */
  wait(): Promise<boolean> {
    const current = this.current;
    if (current === undefined) return this.start();
    this.next ??= current.then(() => {
      this.next = undefined;
      return this.start();
    });
    return this.next;
  }

  private start(): Promise<boolean> {
    const round = (async () => {
      try {
        await this.readIndex(this.timeoutMs);
        return true;
      } catch {
        return false;
      }
    })();
    this.current = round;
    void round.then(() => {
      if (this.current === round) this.current = undefined;
    });
    return round;
  }
}
