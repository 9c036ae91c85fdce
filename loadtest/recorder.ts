// Per-request results, stored column-wise in typed arrays: a 30 s run at 10k req/s is 300k requests,
// and objects per request would cost tens of MB and GC pauses that would show up as latency.

export type RequestKind = 'write' | 'read';
export const KIND_CODES: readonly RequestKind[] = ['write', 'read'];

/** One finished request, as handed to the recorder. Times are ms since the run's t0. */
export interface RequestResult {
  kind: RequestKind;
  /** When the request was due (open loop) or started (closed loop): latency counts from here. */
  dueMs: number;
  /** When the client actually handed it to the HTTP pool; startMs - dueMs is the loader's own lag. */
  startMs: number;
  endMs: number;
  /** HTTP status of the final response; 0 when the request failed without one (as vegeta). */
  status: number;
  bytesIn: number;
  bytesOut: number;
  /** 409 redirects followed to reach the leader (writes only). */
  hops: number;
  error?: string;
}

export class Recorder {
  count = 0;
  due: Float64Array;
  start: Float64Array;
  end: Float64Array;
  status: Uint16Array;
  bytesIn: Float64Array;
  bytesOut: Float64Array;
  kind: Uint8Array;
  hops: Uint8Array;
  /** Index into `errors`, or -1. Error texts repeat a lot, so they are interned. */
  errorIndex: Int32Array;
  readonly errors: string[] = [];
  private readonly errorIds = new Map<string, number>();

  constructor(initialCapacity = 1024) {
    const n = Math.max(16, initialCapacity);
    this.due = new Float64Array(n);
    this.start = new Float64Array(n);
    this.end = new Float64Array(n);
    this.status = new Uint16Array(n);
    this.bytesIn = new Float64Array(n);
    this.bytesOut = new Float64Array(n);
    this.kind = new Uint8Array(n);
    this.hops = new Uint8Array(n);
    this.errorIndex = new Int32Array(n);
  }

  add(r: RequestResult): void {
    if (this.count === this.due.length) this.grow();
    const i = this.count++;
    this.due[i] = r.dueMs;
    this.start[i] = r.startMs;
    this.end[i] = r.endMs;
    this.status[i] = r.status;
    this.bytesIn[i] = r.bytesIn;
    this.bytesOut[i] = r.bytesOut;
    this.kind[i] = r.kind === 'write' ? 0 : 1;
    this.hops[i] = Math.min(255, r.hops);
    this.errorIndex[i] = r.error === undefined ? -1 : this.intern(r.error);
  }

  latency(i: number): number {
    return this.end[i] - this.due[i];
  }

  /** The vegeta rule: a response is a success when its status is 2xx or 3xx. */
  ok(i: number): boolean {
    const s = this.status[i];
    return s >= 200 && s < 400 && this.errorIndex[i] < 0;
  }

  kindOf(i: number): RequestKind {
    return KIND_CODES[this.kind[i]];
  }

  private intern(error: string): number {
    let id = this.errorIds.get(error);
    if (id === undefined) {
      id = this.errors.length;
      this.errors.push(error);
      this.errorIds.set(error, id);
    }
    return id;
  }

  private grow(): void {
    const n = this.due.length * 2;
    const copy = <T extends Float64Array | Uint16Array | Uint8Array | Int32Array>(
      a: T,
      make: (n: number) => T,
    ): T => {
      const b = make(n);
      b.set(a as never);
      return b;
    };
    this.due = copy(this.due, (k) => new Float64Array(k));
    this.start = copy(this.start, (k) => new Float64Array(k));
    this.end = copy(this.end, (k) => new Float64Array(k));
    this.status = copy(this.status, (k) => new Uint16Array(k));
    this.bytesIn = copy(this.bytesIn, (k) => new Float64Array(k));
    this.bytesOut = copy(this.bytesOut, (k) => new Float64Array(k));
    this.kind = copy(this.kind, (k) => new Uint8Array(k));
    this.hops = copy(this.hops, (k) => new Uint8Array(k));
    this.errorIndex = copy(this.errorIndex, (k) => new Int32Array(k));
  }
}
