import { describe, expect, it } from 'vitest';
import type { VisitsCommand } from '../../src/shortener/commands.js';
import { capVisitDays, VISIT_DAYS_AHEAD } from '../../src/visits/visit-day-window.js';

const NOW = Date.UTC(2026, 11, 3, 15);
const TODAY = Math.floor(NOW / 86_400_000);

function batch(days: number[]): VisitsCommand {
  return {
    type: 'visits',
    origin: 2,
    session: 7,
    seq: 3,
    visits: days.map((day, i) => ({ code: `c${i}`, createdAt: 1, day, count: i + 1 })),
  };
}

describe('capVisitDays', () => {
  it("leaves a batch within the leader's clock as it is (the same object)", () => {
    const b = batch([TODAY - 400, TODAY - 1, TODAY, TODAY + VISIT_DAYS_AHEAD]);
    expect(capVisitDays(b, NOW)).toBe(b);
  });

  it('moves days after tomorrow to tomorrow, keeping counts, codes and the batch id', () => {
    const capped = capVisitDays(batch([TODAY, TODAY + 2, 99_999_999]), NOW);
    expect(capped).toEqual(batch([TODAY, TODAY + 1, TODAY + 1]));
  });

  it('never raises old days: a leader whose clock is ahead cannot move real days forward', () => {
    const b = batch([TODAY - 10]);
    expect(capVisitDays(b, NOW + 1000 * 86_400_000)).toBe(b);
  });
});
