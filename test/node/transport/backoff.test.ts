import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/node/transport/backoff.js';

describe('Backoff', () => {
  it('doubles its ceiling up to the max, with jitter in the upper half', () => {
    const low = new Backoff({ initialMs: 50, maxMs: 1000, random: () => 0 });
    const high = new Backoff({ initialMs: 50, maxMs: 1000, random: () => 1 });
    const lows = Array.from({ length: 7 }, () => low.next());
    const highs = Array.from({ length: 7 }, () => high.next());
    expect(highs).toEqual([50, 100, 200, 400, 800, 1000, 1000]);
    expect(lows).toEqual([25, 50, 100, 200, 400, 500, 500]);
  });

  it('starts over after reset', () => {
    const backoff = new Backoff({ initialMs: 50, maxMs: 1000, random: () => 1 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(50);
  });
});
