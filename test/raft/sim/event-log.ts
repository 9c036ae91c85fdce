// The tail of a run's schedule, for failure messages: enough to see what led up to a violation
// without storing (or formatting) the whole run.
export class EventLog {
  private readonly ring: string[] = [];
  private next = 0;
  private count = 0;

  /** Sees every event as it happens (transcripts print them). */
  onEvent: ((event: string) => void) | undefined;

  constructor(private readonly capacity = 50) {}

  add(event: string): void {
    this.onEvent?.(event);
    if (this.ring.length < this.capacity) this.ring.push(event);
    else this.ring[this.next] = event;
    this.next = (this.next + 1) % this.capacity;
    this.count++;
  }

  /** Oldest first, each line numbered with its position in the whole run. */
  tail(): string[] {
    const n = this.ring.length;
    const start = this.ring.length < this.capacity ? 0 : this.next;
    const out: string[] = [];
    for (let k = 0; k < n; k++) out.push(`#${this.count - n + k + 1} ${this.ring[(start + k) % n]}`);
    return out;
  }
}
