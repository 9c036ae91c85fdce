// The in-memory counter on the redirect path: per (UTC day, code), bounded, drained oldest first.
import { describe, expect, it } from 'vitest';
import { utcDay } from '../../src/shortener/visit-stats.js';
import { VisitCounter } from '../../src/visits/visit-counter.js';

const MIDNIGHT = Date.UTC(2026, 10, 22);
const DAY = utcDay(MIDNIGHT);

function counterAt(start: number, maxKeys?: number) {
  const clock = { now: start };
  return { clock, counter: new VisitCounter(maxKeys, () => clock.now) };
}

describe('VisitCounter', () => {
  it('counts per code and the UTC day the visit happened, and take() empties it', () => {
    const { clock, counter } = counterAt(MIDNIGHT - 2);
    counter.record('a', 1);
    counter.record('a', 1);
    counter.record('b', 5);
    clock.now = MIDNIGHT; // the day changes at 00:00 UTC
    counter.record('a', 1);
    expect(counter.size).toBe(3);
    expect(counter.take(100)).toEqual([
      { code: 'a', createdAt: 1, day: DAY - 1, count: 2 },
      { code: 'b', createdAt: 5, day: DAY - 1, count: 1 },
      { code: 'a', createdAt: 1, day: DAY, count: 1 },
    ]);
    expect(counter.size).toBe(0);
    expect(counter.take(100)).toEqual([]);
  });

  it('takes at most `max`, oldest day first, and keeps the rest for the next batch', () => {
    const { clock, counter } = counterAt(MIDNIGHT - 1);
    counter.record('old', 1);
    clock.now = MIDNIGHT;
    for (const code of ['x', 'y', 'z']) counter.record(code, 1);
    expect(counter.take(2).map((v) => v.code)).toEqual(['old', 'x']);
    counter.record('x', 1);
    expect(counter.take(10).map((v) => [v.code, v.count])).toEqual([
      ['y', 1],
      ['z', 1],
      ['x', 1],
    ]);
  });

  it('a code that now belongs to another record (another createdAt) starts again', () => {
    const { counter } = counterAt(MIDNIGHT);
    counter.record('a', 1);
    counter.record('a', 1);
    counter.record('a', 2);
    expect(counter.take(10)).toEqual([{ code: 'a', createdAt: 2, day: DAY, count: 1 }]);
  });

  it('continues a day the clock steps back into', () => {
    const { clock, counter } = counterAt(MIDNIGHT - 1);
    counter.record('a', 1);
    clock.now = MIDNIGHT + 1;
    counter.record('a', 1);
    clock.now = MIDNIGHT - 5;
    counter.record('a', 1);
    expect(counter.take(10)).toEqual([
      { code: 'a', createdAt: 1, day: DAY, count: 1 },
      { code: 'a', createdAt: 1, day: DAY - 1, count: 2 },
    ]);
  });

  it('is bounded: new codes beyond maxKeys are not counted (and reported as dropped)', () => {
    const { counter } = counterAt(MIDNIGHT, 2);
    counter.record('a', 1);
    counter.record('b', 1);
    counter.record('c', 1);
    counter.record('a', 1); // known codes still count
    expect(counter.dropped).toBe(1);
    expect(counter.take(10).map((v) => [v.code, v.count])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    counter.record('c', 1); // room again
    expect(counter.size).toBe(1);
  });
});
