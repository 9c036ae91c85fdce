// A steady write load for the operations tests (rolling restart, membership changes under load):
// a few async clients, each writing unique URLs one after another. A client keeps retrying the
// same URL until it is acknowledged (retrying a URL is safe: the same URL keeps its code): it
// follows 409 leaderUrl answers, pauses briefly after 503/504 and network errors and then tries
// the next node. Every acknowledgement (201/200) is recorded with its time, so a test can check
// that each one persisted and measure the longest stretch without a successful write.
import type { NodeProcess } from '../../src/launcher/node-process.js';
import { shorten } from './helpers.js';

export interface Ack {
  url: string;
  code: string;
  status: number;
  /** Date.now() when the acknowledgement arrived. */
  at: number;
  /** Which node acknowledged it. */
  by: string;
}

export interface WriteLoadOptions {
  /** The current node processes (read at every retry, so restarted nodes are picked up). */
  nodes: () => NodeProcess[];
  clients: number;
  label: string;
  /** Per-request timeout; above the nodes' 5 s proposal timeout so that 504s are seen as such. */
  requestTimeoutMs?: number;
  /** Pause after a 503/504/network error before the next attempt. */
  retryPauseMs?: number;
  /** Pause between two URLs of one client (keeps the number of acks to verify bounded). */
  paceMs?: number;
}

/** How each attempt ended: an HTTP status, or 'network' (refused, reset, timed out). */
export type Outcome = string;

export class WriteLoad {
  readonly acks: Ack[] = [];
  /** Attempts by outcome. */
  readonly outcomes = new Map<Outcome, number>();
  /** Answers no client should ever get (anything but 200/201/409/503/504/network). */
  readonly unexpected: string[] = [];
  /** Acks whose body named another URL, or the same URL acked with two different codes. */
  readonly mismatches: string[] = [];
  /** URLs that were acknowledged at the first attempt, and all URLs tried. */
  firstAttemptAcks = 0;
  urlsTried = 0;
  startedAt = 0;
  stoppedAt = 0;
  private stopping = false;
  private workers: Promise<void>[] = [];
  private readonly run = Date.now().toString(36);
  private readonly codeOf = new Map<string, string>();

  constructor(private readonly opts: WriteLoadOptions) {}

  start(): void {
    this.startedAt = Date.now();
    for (let c = 0; c < this.opts.clients; c++) this.workers.push(this.client(c));
  }

  /** Stops every client after its current attempt and waits for them. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.workers);
    this.stoppedAt = Date.now();
  }

  /** Resolves once `n` more acknowledgements have arrived (or throws after `timeoutMs`). */
  async waitForAcks(n: number, timeoutMs: number): Promise<void> {
    const target = this.acks.length + n;
    const deadline = Date.now() + timeoutMs;
    while (this.acks.length < target) {
      if (Date.now() > deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${n} more acks (have ${this.acks.length}); outcomes ${this.describeOutcomes()}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The longest time between two consecutive acknowledgements (from the start to the stop). */
  longestGap(): { ms: number; from: number; to: number } {
    const times = [
      this.startedAt,
      ...this.acks.map((a) => a.at).sort((a, b) => a - b),
      this.stoppedAt || Date.now(),
    ];
    let best = { ms: 0, from: this.startedAt, to: this.startedAt };
    for (let i = 1; i < times.length; i++) {
      const ms = times[i] - times[i - 1];
      if (ms > best.ms) best = { ms, from: times[i - 1], to: times[i] };
    }
    return best;
  }

  /** The longest gap that overlaps [from, to] (e.g. the window of one membership change). */
  longestGapWithin(from: number, to: number): number {
    const times = [
      this.startedAt,
      ...this.acks.map((a) => a.at).sort((a, b) => a - b),
      this.stoppedAt || Date.now(),
    ];
    let best = 0;
    for (let i = 1; i < times.length; i++) {
      if (times[i] < from || times[i - 1] > to) continue;
      best = Math.max(best, times[i] - times[i - 1]);
    }
    return best;
  }

  describeOutcomes(): string {
    return JSON.stringify(Object.fromEntries([...this.outcomes.entries()].sort()));
  }

  /** A copy of the outcome counts so far, to compute the ratio of one phase with successRatio. */
  snapshot(): Map<Outcome, number> {
    return new Map(this.outcomes);
  }

  /**
   * Successful attempts over all attempts except 409 redirects (which are just routing), since
   * `since` (a snapshot) or from the start.
   */
  successRatio(since?: Map<Outcome, number>): number {
    let ok = 0;
    let total = 0;
    for (const [o, count] of this.outcomes) {
      if (o === '409') continue;
      const n = count - (since?.get(o) ?? 0);
      total += n;
      if (o === '200' || o === '201') ok += n;
    }
    return total === 0 ? 0 : ok / total;
  }

  private count(outcome: Outcome): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  private async client(c: number): Promise<void> {
    const timeoutMs = this.opts.requestTimeoutMs ?? 7_000;
    const pauseMs = this.opts.retryPauseMs ?? 25;
    let target = this.opts.nodes()[c % this.opts.nodes().length].url;
    let rotation = c;
    const nextNode = () => {
      const nodes = this.opts.nodes();
      rotation = (rotation + 1) % nodes.length;
      return nodes[rotation].url;
    };
    for (let seq = 0; !this.stopping; seq++) {
      const url = `https://example.com/${this.opts.label}/${this.run}/${c}/${seq}`;
      this.urlsTried++;
      for (let attempt = 0; !this.stopping; attempt++) {
        let status: number;
        let body: Record<string, unknown>;
        try {
          const res = await shorten(target, url, timeoutMs);
          status = res.status;
          body = res.body;
        } catch {
          this.count('network');
          await pause(pauseMs);
          target = nextNode();
          continue;
        }
        this.count(String(status));
        if (status === 201 || status === 200) {
          const code = body.code as string;
          if (body.url !== url) this.mismatches.push(`${url} acked as ${String(body.url)}`);
          const earlier = this.codeOf.get(url);
          if (earlier !== undefined && earlier !== code)
            this.mismatches.push(`${url}: ${earlier} then ${code}`);
          this.codeOf.set(url, code);
          this.acks.push({ url, code, status, at: Date.now(), by: target });
          if (attempt === 0) this.firstAttemptAcks++;
          break;
        }
        if (status === 409 && typeof body.leaderUrl === 'string') {
          target = body.leaderUrl;
          continue;
        }
        if (status === 503 || status === 504 || status === 409) {
          if (status === 409 && body.error !== 'not_leader')
            this.unexpected.push(`409 ${JSON.stringify(body)}`);
          await pause(pauseMs);
          if (status === 503) target = nextNode();
          continue;
        }
        this.unexpected.push(`${status} ${JSON.stringify(body)}`);
        await pause(pauseMs);
      }
      if (this.opts.paceMs) await pause(this.opts.paceMs);
    }
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
