// When requests are sent. Two disciplines:
//  - open loop: request i is due at i / rate, whatever happened to earlier ones (wrk2, vegeta). A slow
//    server therefore accumulates in-flight requests instead of silently slowing the load down, and
//    the latency of each request is measured from its due time (coordinated omission corrected).
//  - closed loop: N workers, each sends its next request as soon as the previous one completed; this
//    finds the maximum throughput, and latencies are from the actual send (nothing else is meaningful).

import { performance } from 'node:perf_hooks';
import type { Ticker } from './ticker.js';

export type Clock = () => number;

export interface OpenLoopOptions {
  rate: number;
  /** Requests to issue in all: rate x duration, so the run is bounded in count and time. */
  total: number;
  /** performance.now() of request 0's due time. */
  t0: number;
  /** How to sleep until the next due time (see ticker.ts). */
  ticker: Ticker;
  /** Starts request i (must not throw, must not be awaited here). */
  fire: (i: number, dueMs: number) => void;
  /** Checked before every burst; true stops issuing. */
  stopped?: () => boolean;
}

/** Resolves when every request has been issued (not completed). */
export function runOpenLoop(o: OpenLoopOptions): Promise<void> {
  const perMs = o.rate / 1000;
  // Computed from i rather than accumulated, so rounding never drifts over a long run.
  const due = (i: number): number => i / perMs;
  let next = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      if (o.stopped?.()) return resolve();
      const now = performance.now() - o.t0;
      // Catch up in a burst: everything whose time has come goes out now, nothing is ever skipped.
      while (next < o.total && due(next) <= now) {
        o.fire(next, due(next));
        next++;
      }
      if (next >= o.total) return resolve();
      o.ticker.sleepUntil(o.t0 + due(next), tick);
    };
    tick();
  });
}

export interface ClosedLoopOptions {
  workers: number;
  durationMs: number;
  /** Optional cap on the count, so even a very fast target gives a bounded run. */
  maxRequests?: number;
  clock: Clock;
  /** Sends request i and resolves when it completed (must not reject). */
  send: (i: number) => Promise<void>;
  stopped?: () => boolean;
}

/** Resolves when every worker has finished its last request. */
export async function runClosedLoop(o: ClosedLoopOptions): Promise<void> {
  let next = 0;
  const max = o.maxRequests ?? Number.POSITIVE_INFINITY;
  const worker = async (): Promise<void> => {
    while (next < max && o.clock() < o.durationMs && !o.stopped?.()) {
      await o.send(next++);
    }
  };
  await Promise.all(Array.from({ length: o.workers }, worker));
}
