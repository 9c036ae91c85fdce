// The per-code statistics record: the merge rule apply runs (bounded to VISIT_DAYS_KEPT days,
// relative to the newest day counted, never a clock), its encoding, and what a reader is shown.
import { describe, expect, it } from 'vitest';
import {
  addVisits,
  dayString,
  decodeVisitStats,
  encodeVisitStats,
  summarizeVisits,
  utcDay,
  VISIT_DAYS_KEPT,
  type VisitStats,
} from '../../src/shortener/visit-stats.js';

const D = utcDay(Date.UTC(2026, 10, 21, 12)); // 2026-11-21

describe('days', () => {
  it('are UTC dates: the day changes at midnight UTC whatever the local time zone', () => {
    expect(dayString(D)).toBe('2026-11-21');
    expect(utcDay(Date.UTC(2026, 10, 21, 0, 0, 0, 0))).toBe(D);
    expect(utcDay(Date.UTC(2026, 10, 21, 23, 59, 59, 999))).toBe(D);
    expect(utcDay(Date.UTC(2026, 10, 22))).toBe(D + 1);
    expect(dayString(0)).toBe('1970-01-01');
  });
});

describe('addVisits', () => {
  it('adds to the total and to the day, keeping days in ascending order', () => {
    let s: VisitStats | undefined;
    s = addVisits(s, D, 2);
    s = addVisits(s, D - 2, 1);
    s = addVisits(s, D, 3);
    s = addVisits(s, D - 1, 4);
    s = addVisits(s, D + 1, 1);
    expect(s).toEqual({
      total: 11,
      days: [
        [D - 2, 1],
        [D - 1, 4],
        [D, 5],
        [D + 1, 1],
      ],
    });
  });

  it('returns a new object and leaves the old one as it was (a flush may be writing it)', () => {
    const before = addVisits(undefined, D, 1);
    const after = addVisits(before, D, 1);
    expect(after).not.toBe(before);
    expect(before).toEqual({ total: 1, days: [[D, 1]] });
  });

  it(`keeps at most ${VISIT_DAYS_KEPT} days, relative to the newest day counted; older visits count in the total only`, () => {
    let s: VisitStats | undefined;
    for (let day = D - 200; day <= D; day++) s = addVisits(s, day, 1);
    expect(s!.total).toBe(201);
    expect(s!.days).toHaveLength(VISIT_DAYS_KEPT);
    expect(s!.days[0]![0]).toBe(D - VISIT_DAYS_KEPT + 1);
    // A late count for a day out of the window: total only.
    const late = addVisits(s, D - VISIT_DAYS_KEPT, 7);
    expect(late.total).toBe(208);
    expect(late.days).toEqual(s!.days);
    // A newer day moves the window.
    const next = addVisits(s, D + 10, 1);
    expect(next.days[0]![0]).toBe(D + 10 - VISIT_DAYS_KEPT + 1);
    expect(next.days).toHaveLength(VISIT_DAYS_KEPT - 10 + 1); // 80 old days and the new one
  });
});

describe('encoding', () => {
  it('round-trips, and refuses bytes of another version or length', () => {
    const s = addVisits(addVisits(undefined, D - 1, 3), D, 2 ** 40);
    const bytes = encodeVisitStats(s);
    expect(bytes.length).toBe(10 + 2 * 12);
    expect(decodeVisitStats('c', bytes)).toEqual(s);
    expect(decodeVisitStats('c', encodeVisitStats({ total: 0, days: [] }))).toEqual({ total: 0, days: [] });
    const wrongVersion = Buffer.from(bytes);
    wrongVersion[0] = 2;
    expect(() => decodeVisitStats('c', wrongVersion)).toThrow(/corrupt or of an unknown version/);
    expect(() => decodeVisitStats('c', bytes.subarray(0, bytes.length - 1))).toThrow(/corrupt/);
  });
});

describe('summarizeVisits', () => {
  it('shows the total and the days of the last 90 on the reader clock, as YYYY-MM-DD', () => {
    const s = addVisits(addVisits(addVisits(undefined, D - 100, 1), D - 89, 2), D, 3);
    const now = Date.UTC(2026, 10, 21, 18);
    expect(summarizeVisits(s, now)).toEqual({
      total: 6,
      byDay: { [dayString(D - 89)]: 2, '2026-11-21': 3 },
    });
    // A code not visited for months shows its total but no stale days.
    expect(summarizeVisits(s, now + 200 * 86_400_000)).toEqual({ total: 6, byDay: {} });
    expect(summarizeVisits(undefined, now)).toEqual({ total: 0, byDay: {} });
  });
});
