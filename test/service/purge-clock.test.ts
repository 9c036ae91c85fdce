import { describe, expect, it } from 'vitest';
import { PurgeClock } from '../../src/service/purge-clock.js';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 11, 3, 12);

function clockAt(start = 1_000) {
  let mono = start;
  return {
    clock: new PurgeClock(() => mono),
    advance(ms: number) {
      mono += ms;
    },
  };
}

describe('PurgeClock', () => {
  it('takes the wall clock as it is while it stays within what the leader measured', () => {
    const { clock, advance } = clockAt();
    expect(clock.decide(T + 60_000, T, HOUR)).toEqual({ now: T + 60_000, heldBackMs: 0 });
    advance(5 * HOUR);
    expect(clock.decide(T + 5 * HOUR + 60_000, T, HOUR)).toEqual({
      now: T + 5 * HOUR + 60_000,
      heldBackMs: 0,
    });
  });

  it('holds back a wall clock that jumped far ahead: at most the allowance plus the time measured', () => {
    const { clock, advance } = clockAt();
    const tenYears = 10 * 365 * 24 * HOUR;
    expect(clock.decide(T + tenYears, T, HOUR)).toEqual({ now: T + HOUR, heldBackMs: tenYears - HOUR });
    advance(2 * HOUR);
    // Real time went on two hours: the purge may go two hours further, no more.
    expect(clock.decide(T + tenYears + 2 * HOUR, T + HOUR, HOUR).now).toBe(T + 3 * HOUR);
  });

  it('measures from the first purge it saw, not from each: the allowance is not granted again per purge', () => {
    const { clock, advance } = clockAt();
    const ahead = 1000 * HOUR;
    let last = T;
    for (let round = 0; round < 50; round++) {
      const { now } = clock.decide(T + ahead, last, HOUR);
      last = Math.max(last, now);
      advance(60_000);
    }
    expect(last).toBeLessThanOrEqual(T + HOUR + 50 * 60_000);
  });

  it('never goes below what the cluster already applied, and trusts a clock behind it as it is', () => {
    const { clock } = clockAt();
    clock.decide(T, T, HOUR);
    // Another leader purged further meanwhile.
    expect(clock.decide(T + 10 * HOUR, T + 9 * HOUR, HOUR).now).toBe(T + 9 * HOUR);
    expect(clock.decide(T - HOUR, T + 9 * HOUR, HOUR)).toEqual({ now: T - HOUR, heldBackMs: 0 });
  });

  it('uses the wall clock when the cluster never purged (nothing to measure against)', () => {
    const { clock } = clockAt();
    expect(clock.decide(T, undefined, HOUR)).toEqual({ now: T, heldBackMs: 0 });
  });
});
