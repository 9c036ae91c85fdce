// The open-loop scheduler with each way of sleeping: every request is issued, in order, never before
// its due time.
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { runClosedLoop, runOpenLoop } from '../../loadtest/scheduler.js';
import { createTicker, TIMER_KINDS } from '../../loadtest/ticker.js';

describe('open-loop scheduler', () => {
  for (const kind of TIMER_KINDS) {
    it(`issues every request on time with the ${kind} timer`, async () => {
      const ticker = await createTicker(kind);
      const fired: number[] = [];
      const lateness: number[] = [];
      const t0 = performance.now();
      try {
        await runOpenLoop({
          rate: 1000,
          total: 300,
          t0,
          ticker,
          fire: (i, due) => {
            fired.push(i);
            lateness.push(performance.now() - t0 - due);
          },
        });
      } finally {
        await ticker.close();
      }
      expect(fired).toEqual(Array.from({ length: 300 }, (_, i) => i));
      expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
      // Precision is not asserted: this machine is shared and a test would be flaky. The loader reports
      // its own lateness ("Loader lag") in every run instead.
      expect(performance.now() - t0).toBeGreaterThanOrEqual(299);
    });
  }

  it('stops issuing when asked', async () => {
    const ticker = await createTicker('worker');
    let n = 0;
    try {
      await runOpenLoop({
        rate: 1000,
        total: 10_000,
        t0: performance.now(),
        ticker,
        fire: () => n++,
        stopped: () => n >= 50,
      });
    } finally {
      await ticker.close();
    }
    expect(n).toBeGreaterThanOrEqual(50);
    expect(n).toBeLessThan(100);
  });
});

describe('closed-loop scheduler', () => {
  it('runs N workers, each one request at a time, until the count cap', async () => {
    let inFlight = 0;
    let peak = 0;
    const sent: number[] = [];
    const t0 = performance.now();
    await runClosedLoop({
      workers: 3,
      durationMs: 10_000,
      maxRequests: 30,
      clock: () => performance.now() - t0,
      send: async (i) => {
        sent.push(i);
        peak = Math.max(peak, ++inFlight);
        await new Promise((r) => setImmediate(r)); // the "request"
        inFlight--;
      },
    });
    expect(sent.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(peak).toBe(3);
  });
});
